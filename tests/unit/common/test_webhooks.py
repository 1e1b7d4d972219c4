"""Signed webhooks: at-least-once delivery, retries with backoff, and the webhook faults."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from simulators.common.clock import ManualClock
from simulators.common.webhooks import FIRST_BACKOFF_S, MAX_ATTEMPTS, SIGNATURE_HEADER, sign
from tests.unit.common.conftest import RecordingSender, ToyApi

SECRET = "whsec-firmsim-test"
URL = "https://engine.example/hooks/toy"


@pytest.fixture
def subscribed(api: ToyApi) -> ToyApi:
    """Return the toy with one webhook subscription to every event."""
    response = api.client.post("/admin/subscriptions", json={"url": URL, "secret": SECRET})
    assert response.status_code == 201
    return api


def test_signature_is_hmac_sha256_over_timestamp_and_body(subscribed: ToyApi, sender: RecordingSender,
                                                          clock: ManualClock) -> None:
    subscribed.create("sprocket")

    assert subscribed.context.deliver_webhooks() == 1

    [(url, headers, body)] = sender.deliveries
    timestamp = int(clock.now().timestamp())
    assert url == URL
    assert headers[SIGNATURE_HEADER] == sign(SECRET, timestamp, body)
    assert headers[SIGNATURE_HEADER].startswith(f"t={timestamp},v1=")
    assert sign("another-secret", timestamp, body) != headers[SIGNATURE_HEADER]
    assert json.loads(body) == subscribed.context.feed.all()[0]
    assert headers["Firmsim-Event-Id"] == "toy-000001"
    assert headers["Firmsim-Delivery-Attempt"] == "1"


def test_sign_is_the_stripe_style_scheme() -> None:
    expected = hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()

    assert sign("secret", 1700000000, b'{"a":1}') == f"t=1700000000,v1={expected}"


def test_subscription_receives_only_the_types_it_wants(api: ToyApi, sender: RecordingSender) -> None:
    api.client.post("/admin/subscriptions", json={"url": URL, "secret": SECRET, "types": ["toy.widget.polished"]})
    widget = api.create().get_json()
    api.post(f"/widgets/{widget['id']}/polish")

    api.context.deliver_webhooks()

    assert [json.loads(body)["type"] for _, _, body in sender.deliveries] == ["toy.widget.polished"]


def test_admin_endpoint_pushes_due_webhooks(subscribed: ToyApi, sender: RecordingSender) -> None:
    subscribed.create("sprocket")
    subscribed.create("gear")

    response = subscribed.client.post("/admin/webhooks/deliver")

    assert response.get_json() == {"delivered": 2, "pending": 0}
    assert sender.event_ids() == ["toy-000001", "toy-000002"]


def test_failed_delivery_is_retried_with_exponential_backoff(subscribed: ToyApi, sender: RecordingSender,
                                                             clock: ManualClock) -> None:
    sender.statuses = [500, ConnectionError("refused"), 503]
    subscribed.create("sprocket")

    delivered = [subscribed.context.deliver_webhooks()]
    for wait in (FIRST_BACKOFF_S - 1, 1, 2 * FIRST_BACKOFF_S, 4 * FIRST_BACKOFF_S):
        clock.advance(wait)
        delivered.append(subscribed.context.deliver_webhooks())

    assert delivered == [0, 0, 0, 0, 1]
    assert [headers["Firmsim-Delivery-Attempt"] for _, headers, _ in sender.deliveries] == ["1", "2", "3", "4"]
    [subscription] = subscribed.client.get("/admin/subscriptions").get_json()["items"]
    assert (subscription["delivered"], subscription["failed"]) == (1, 3)


def test_delivery_gives_up_after_the_last_attempt_and_the_feed_keeps_the_event(
        subscribed: ToyApi, sender: RecordingSender, clock: ManualClock) -> None:
    sender.statuses = [500] * MAX_ATTEMPTS
    subscribed.create("sprocket")

    for _ in range(MAX_ATTEMPTS):
        subscribed.context.deliver_webhooks()
        clock.advance(3600)

    assert len(sender.deliveries) == MAX_ATTEMPTS
    assert subscribed.context.webhooks.gave_up == 1
    assert subscribed.context.webhooks.pending() == 0
    assert len(subscribed.get("/events").get_json()["items"]) == 1


def test_duplicate_fault_delivers_extra_copies_of_the_same_event(subscribed: ToyApi, sender: RecordingSender,
                                                                 clock: ManualClock) -> None:
    subscribed.add_fault(kind="webhook_duplicate", params={"copies": 2})
    subscribed.create("sprocket")

    first = subscribed.context.deliver_webhooks()
    clock.advance(1)  # copies follow the original a millisecond apart
    copies = subscribed.context.deliver_webhooks()

    assert (first, copies) == (1, 2)
    assert sender.event_ids() == ["toy-000001"] * 3


def test_delay_fault_holds_deliveries_back(subscribed: ToyApi, sender: RecordingSender, clock: ManualClock) -> None:
    subscribed.add_fault(kind="webhook_delay", params={"delay_s": 60})
    subscribed.create("sprocket")

    clock.advance(59)
    early = subscribed.context.deliver_webhooks()
    clock.advance(1)
    on_time = subscribed.context.deliver_webhooks()

    assert (early, on_time) == (0, 1)


def test_reorder_fault_delivers_every_event_but_out_of_order(subscribed: ToyApi, sender: RecordingSender,
                                                             clock: ManualClock) -> None:
    subscribed.add_fault(kind="webhook_reorder", params={"max_delay_s": 30})
    for number in range(8):
        subscribed.create(f"widget {number}")

    clock.advance(30)
    subscribed.context.deliver_webhooks()

    in_commit_order = [f"toy-{sequence:06d}" for sequence in range(1, 9)]
    assert sorted(sender.event_ids()) == in_commit_order
    assert sender.event_ids() != in_commit_order


def test_drop_fault_loses_the_webhook_but_not_the_feed_event(subscribed: ToyApi, sender: RecordingSender) -> None:
    subscribed.add_fault(kind="webhook_drop")
    subscribed.create("sprocket")

    assert subscribed.context.deliver_webhooks() == 0
    assert subscribed.context.webhooks.pending() == 0
    assert [event["id"] for event in subscribed.get("/events").get_json()["items"]] == ["toy-000001"]
    assert subscribed.context.faults.injected["webhook_drop"] == 1


def test_unsubscribed_endpoint_gets_nothing_more(subscribed: ToyApi, sender: RecordingSender) -> None:
    subscribed.create("sprocket")
    [subscription] = subscribed.client.get("/admin/subscriptions").get_json()["items"]

    removed = subscribed.client.delete(f"/admin/subscriptions/{subscription['id']}")
    subscribed.context.deliver_webhooks()

    assert removed.status_code == 200
    assert sender.deliveries == []
    assert subscribed.client.delete(f"/admin/subscriptions/{subscription['id']}").status_code == 404


def test_refused_request_sends_no_webhook(subscribed: ToyApi, sender: RecordingSender) -> None:
    subscribed.post("/widgets", {"name": ""})

    assert subscribed.context.webhooks.pending() == 0
