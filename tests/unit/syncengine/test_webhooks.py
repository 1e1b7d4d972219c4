"""Webhook intake: signatures checked in constant time against the injected clock, bad ones counted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulators.common.clock import ManualClock
from simulators.common.webhooks import sign
from syncengine.intake import SignatureError, SignatureVerifier, WebhookReceiver, signature
from syncengine.intake.app import create_webhook_app
from tests.unit.syncengine.conftest import T0

SECRET = "whsec-crm-0001"
NOW = int(T0.timestamp())
BODY = json.dumps({"id": "crm-000001", "type": "crm.opportunity.closed_won"}).encode()


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def submit(self, system: str, raw: Any, *, replay: bool = False) -> int:
        self.events.append((system, raw))
        return 1


@pytest.fixture
def verifier(clock: ManualClock) -> SignatureVerifier:
    return SignatureVerifier({"crm": SECRET}, clock)


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def receiver(verifier: SignatureVerifier, sink: RecordingSink) -> WebhookReceiver:
    return WebhookReceiver(verifier, sink)


def headers(value: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Firmsim-Signature": value}


def test_a_signature_made_by_the_systems_is_accepted(verifier: SignatureVerifier) -> None:
    verifier.verify("crm", sign(SECRET, NOW, BODY), BODY)
    assert signature(SECRET, NOW, BODY) == sign(SECRET, NOW, BODY)


@pytest.mark.parametrize(("header", "body", "reason"), [
    (sign("wrong-secret-00", NOW, BODY), BODY, "bad-signature"),
    (sign(SECRET, NOW, BODY), BODY + b" ", "bad-signature"),
    (sign(SECRET, NOW, BODY).replace(f"t={NOW}", f"t={NOW - 1}"), BODY, "bad-signature"),
    (sign(SECRET, NOW - 301, BODY), BODY, "stale-signature"),
    (sign(SECRET, NOW + 301, BODY), BODY, "stale-signature"),
    ("v1=abc", BODY, "malformed-signature"),
    (f"t={NOW}", BODY, "malformed-signature"),
    ("", BODY, "missing-signature"),
])
def test_a_signature_that_cannot_be_trusted_is_refused(verifier: SignatureVerifier, header: str, body: bytes,
                                                       reason: str) -> None:
    with pytest.raises(SignatureError) as raised:
        verifier.verify("crm", header, body)
    assert raised.value.reason == reason


def test_a_signature_within_the_tolerance_is_accepted(verifier: SignatureVerifier) -> None:
    verifier.verify("crm", sign(SECRET, NOW - 300, BODY), BODY)


def test_any_matching_v1_is_enough_during_a_secret_rotation(verifier: SignatureVerifier) -> None:
    old = sign("old-secret-0001", NOW, BODY).split("v1=")[1]
    verifier.verify("crm", f"{sign(SECRET, NOW, BODY)},v1={old}", BODY)


def test_a_good_delivery_is_handed_over(receiver: WebhookReceiver, sink: RecordingSink) -> None:
    answer = receiver.receive("crm", headers(sign(SECRET, NOW, BODY)), BODY)
    assert (answer.status, answer.body) == (202, {"accepted": True, "deliveries": 1})
    assert sink.events == [("crm", json.loads(BODY))]


def test_bad_deliveries_are_refused_counted_and_never_handed_over(receiver: WebhookReceiver,
                                                                  sink: RecordingSink) -> None:
    assert receiver.receive("crm", headers(sign("wrong-secret-00", NOW, BODY)), BODY).status == 401
    assert receiver.receive("crm", headers(sign(SECRET, NOW - 3600, BODY)), BODY).status == 401
    assert receiver.receive("crm", {}, BODY).status == 401
    assert receiver.receive("crm", headers(sign(SECRET, NOW, b"[1]")), b"[1]").status == 400
    assert receiver.receive("erp", headers(sign(SECRET, NOW, BODY)), BODY).status == 404
    assert receiver.rejected == {"bad-signature": 1, "stale-signature": 1, "missing-signature": 1,
                                 "malformed-body": 1}
    assert sink.events == []


def test_a_replay_after_the_tolerance_is_refused(receiver: WebhookReceiver, clock: ManualClock,
                                                 sink: RecordingSink) -> None:
    captured = headers(sign(SECRET, NOW, BODY))
    assert receiver.receive("crm", captured, BODY).status == 202
    clock.advance(301)
    assert receiver.receive("crm", captured, BODY).status == 401
    assert receiver.rejected == {"stale-signature": 1}
    assert len(sink.events) == 1


def test_the_in_process_sender_routes_by_url(receiver: WebhookReceiver, sink: RecordingSink) -> None:
    send = receiver.sender()
    assert send("http://engine/webhooks/crm", headers(sign(SECRET, NOW, BODY)), BODY) == 202
    assert send("http://engine/other/crm", headers(sign(SECRET, NOW, BODY)), BODY) == 404
    assert len(sink.events) == 1


def test_the_live_endpoint_verifies_and_hands_over(receiver: WebhookReceiver, sink: RecordingSink) -> None:
    client = create_webhook_app(receiver).test_client()
    good = client.post("/webhooks/crm", data=BODY, headers=headers(sign(SECRET, NOW, BODY)))
    bad = client.post("/webhooks/crm", data=BODY, headers=headers(sign(SECRET, NOW, b"{}")))
    assert (good.status_code, bad.status_code) == (202, 401)
    assert bad.get_json()["error"] == "bad-signature"
    assert client.get("/webhooks/crm").status_code == 405
    assert client.get("/healthz").get_json() == {"ok": True, "accepted": 1, "rejected": {"bad-signature": 1}}
    assert len(sink.events) == 1
