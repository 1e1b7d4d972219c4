"""Webhook intake: verify `Firmsim-Signature` in constant time, then hand the event over.

`Firmsim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; a signature
older or newer than the tolerance (300 s) against the injected clock is refused as stale, so a
captured request cannot be replayed later. Within the tolerance a repeat is accepted and dropped as
a duplicate by event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from syncengine.intake.feed import EventSink
from syncengine.ports import Clock

SIGNATURE_HEADER = "Firmsim-Signature"
TOLERANCE_S = 300

Sender = Callable[[str, dict[str, str], bytes], int]


class SignatureError(Exception):
    """A webhook whose signature cannot be trusted; `reason` is a slug."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class SignatureVerifier:
    """Check webhook signatures with each system's shared secret."""

    def __init__(self, secrets: Mapping[str, str], clock: Clock, tolerance_s: int = TOLERANCE_S) -> None:
        self.secrets = dict(secrets)
        self.clock = clock
        self.tolerance_s = tolerance_s

    def verify(self, system: str, header: str | None, body: bytes) -> None:
        """Return when the signature is good; raise SignatureError naming what is wrong."""
        secret = self.secrets.get(system)
        if secret is None:
            raise SignatureError("unknown-system", f"no webhook secret for system {system!r}")
        if not header:
            raise SignatureError("missing-signature", f"no {SIGNATURE_HEADER} header")
        timestamp: int | None = None
        candidates: list[str] = []
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            if name == "t" and value.isdigit():
                timestamp = int(value)
            elif name == "v1" and value:
                candidates.append(value)
        if timestamp is None or not candidates:
            raise SignatureError("malformed-signature", f"expected 't=<unix seconds>,v1=<hex>', got {header[:80]!r}")
        age = self.clock.now().timestamp() - timestamp
        if abs(age) > self.tolerance_s:
            raise SignatureError("stale-signature", f"signed {int(age)} s from now; tolerance is {self.tolerance_s} s")
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            raise SignatureError("bad-signature", "no v1 signature matches the body")


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """The HTTP answer to one webhook delivery."""

    status: int
    body: dict[str, Any]


class WebhookReceiver:
    """Receive signed webhooks: refuse and count bad ones, hand good ones to the sink."""

    def __init__(self, verifier: SignatureVerifier, sink: EventSink,
                 on_rejected: Callable[[str], None] | None = None) -> None:
        self.verifier = verifier
        self.sink = sink
        self.on_rejected = on_rejected
        self.rejected: Counter[str] = Counter()
        self.accepted = 0

    def receive(self, system: str, headers: Mapping[str, str], body: bytes) -> WebhookAnswer:
        """Verify and take one delivery; never raises."""
        if system not in self.verifier.secrets:
            return WebhookAnswer(404, {"error": "unknown-system", "detail": f"no system {system!r}"})
        header = next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER.lower()), None)
        try:
            self.verifier.verify(system, header, body)
        except SignatureError as error:
            return self._reject(401, error.reason, error.detail)
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._reject(400, "malformed-body", "the body is not JSON")
        if not isinstance(raw, dict):
            return self._reject(400, "malformed-body", "the body is not a JSON object")
        self.accepted += 1
        deliveries = self.sink.submit(system, raw)
        return WebhookAnswer(202, {"accepted": True, "deliveries": deliveries})

    def sender(self) -> Sender:
        """Return an in-process webhook sender (simulated mode) routing `.../webhooks/<system>` here."""

        def send(url: str, headers: dict[str, str], body: bytes) -> int:
            path = urlsplit(url).path.rstrip("/")
            prefix, _, system = path.rpartition("/")
            if not prefix.endswith("/webhooks") and prefix != "/webhooks":
                return 404
            return self.receive(system, headers, body).status

        return send

    def _reject(self, status: int, reason: str, detail: str) -> WebhookAnswer:
        self.rejected[reason] += 1
        if self.on_rejected is not None:
            self.on_rejected(reason)
        return WebhookAnswer(status, {"error": reason, "detail": detail})
