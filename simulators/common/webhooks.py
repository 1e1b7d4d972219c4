"""Signed webhooks, pushed at least once, retried with backoff; chaos from the fault plane."""

from __future__ import annotations

import hashlib
import heapq
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.common.exchange import wire_json
from simulators.common.faults import FaultPlane
from simulators.common.feed import Event

SIGNATURE_HEADER = "Firmsim-Signature"
MAX_ATTEMPTS = 8
FIRST_BACKOFF_S = 5.0
MAX_BACKOFF_S = 3600.0

Sender = Callable[[str, dict[str, str], bytes], int]
"""Deliver one webhook: (url, headers, body) -> HTTP status; raise on a network failure."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(slots=True)
class Subscription:
    """One webhook endpoint and the event types it wants (prefixes; empty = all)."""

    id: str
    url: str
    secret: str
    types: tuple[str, ...] = ()
    delivered: int = 0
    failed: int = 0

    def wants(self, event_type: str) -> bool:
        """Tell whether the subscription wants an event type."""
        return not self.types or any(event_type.startswith(prefix) for prefix in self.types)

    def to_dict(self) -> dict[str, Any]:
        """Return the subscription as JSON (without its secret)."""
        return {"id": self.id, "url": self.url, "types": list(self.types),
                "delivered": self.delivered, "failed": self.failed}


@dataclass(order=True, slots=True)
class _Delivery:
    due: datetime
    order: int
    subscription_id: str = field(compare=False)
    event: Event = field(compare=False)
    attempt: int = field(default=1, compare=False)


class WebhookDispatcher:
    """Queue each event for each subscriber and push the due ones through a sender."""

    def __init__(self, faults: FaultPlane) -> None:
        self.faults = faults
        self.subscriptions: dict[str, Subscription] = {}
        self._queue: list[_Delivery] = []
        self._order = 0
        self._lock = threading.Lock()
        self.gave_up = 0

    def reset(self) -> None:
        """Drop subscriptions and pending deliveries."""
        with self._lock:
            self.subscriptions = {}
            self._queue = []
            self.gave_up = 0

    def subscribe(self, url: str, secret: str, types: tuple[str, ...] = ()) -> Subscription:
        """Add a subscription."""
        with self._lock:
            subscription = Subscription(f"SUB-{len(self.subscriptions) + 1:06d}", url, secret, types)
            self.subscriptions[subscription.id] = subscription
            return subscription

    def unsubscribe(self, subscription_id: str) -> bool:
        """Remove a subscription; tell whether it existed."""
        with self._lock:
            return self.subscriptions.pop(subscription_id, None) is not None

    def pending(self) -> int:
        """Return the number of deliveries waiting."""
        with self._lock:
            return len(self._queue)

    def next_due(self) -> datetime | None:
        """Return when the next delivery is due, if any."""
        with self._lock:
            return self._queue[0].due if self._queue else None

    def enqueue(self, event: Event, now: datetime) -> None:
        """Queue an event for every subscription that wants it, applying webhook faults."""
        with self._lock:
            targets = [s for s in self.subscriptions.values() if s.wants(event["type"])]
        for subscription in targets:
            plan = self.faults.on_webhook(now)
            if plan.drop:
                continue
            for copy in range(plan.copies):
                self._push(now + timedelta(seconds=plan.delay_s + copy * 0.001), subscription.id, event, 1)

    def _push(self, due: datetime, subscription_id: str, event: Event, attempt: int) -> None:
        with self._lock:
            self._order += 1
            heapq.heappush(self._queue, _Delivery(due, self._order, subscription_id, event, attempt))

    def deliver_due(self, now: datetime, sender: Sender) -> int:
        """Push every delivery due by `now`; failed ones are retried later with backoff."""
        sent = 0
        while True:
            with self._lock:
                if not self._queue or self._queue[0].due > now:
                    return sent
                delivery = heapq.heappop(self._queue)
                subscription = self.subscriptions.get(delivery.subscription_id)
            if subscription is None:
                continue
            body = wire_json(delivery.event, sort_keys=True)
            timestamp = int(now.timestamp())
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
                "Firmsim-Event-Id": delivery.event["id"],
                "Firmsim-Delivery-Attempt": str(delivery.attempt),
            }
            if "traceparent" in delivery.event:
                headers["traceparent"] = delivery.event["traceparent"]
            try:
                status = sender(subscription.url, headers, body)
            except Exception:  # noqa: BLE001 - any transport failure is a failed attempt
                status = 0
            if 200 <= status < 300:
                subscription.delivered += 1
                sent += 1
                continue
            subscription.failed += 1
            if delivery.attempt >= MAX_ATTEMPTS:
                self.gave_up += 1  # the event stays in the feed; subscribers recover by polling
                continue
            backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (delivery.attempt - 1))
            self._push(now + timedelta(seconds=backoff), delivery.subscription_id, delivery.event, delivery.attempt + 1)
