"""Keys parked behind an open exception, for the distributed worker (the embedded engine parks in memory).

A business exception, or work that exhausted its retry budget, parks its key: a later message of the
key must not overtake it (a contract's v2 applied while v1's creation waits for a VAT number). The
embedded engine holds those messages in its queue; a distributed worker cannot hold them unacked for
hours (the broker's consumer timeout, its prefetch window), so it records each of them in the
exception queue too, as `key-parked`, and acks it. `firmsim engine redrive --all` (or the ids of one
key, oldest first) runs them in their order. The ledger is the truth: the worker reads the open
exceptions when it takes a partition over and again before parking a message. When what parked the
key is gone (re-driven, closed, or re-driven by a flow, as an account's new VAT number re-drives its
deals) the next message of the key first runs the `key-parked` ones, in order, then itself.

A transient failure is retried with the message held, unacked, by the worker, but not for ever: past
`hold_limit_s` (20 min, under RabbitMQ's 30 min consumer timeout, past which the broker closes the
channel, delivers the message again and its retry budget would start over) the message is deferred:
recorded as `retry-deferred` with the time it first failed, acked, its key parked. The workers retry
it from the ledger every backoff cap (`due`), with its later messages behind it, until it goes
through or the retry budget, counted from that first failure, runs out (`retries-exhausted`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from syncengine.adapters.bus.port import partition_of
from syncengine.domain.messages import SourceEvent
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.runtime.dispatch import AttemptOutcome, AttemptResult
from syncengine.runtime.registry import Delivery

if TYPE_CHECKING:
    from syncengine.runtime.engine import Engine

KEY_PARKED = "key-parked"
"""The reason of a message recorded behind an open exception of its key."""
RETRY_DEFERRED = "retry-deferred"
"""The reason of a message still failing transiently after being held `hold_limit_s`."""
FIRST_FAILED = "first_failed"
"""The payload field of a deferred message: when it first failed (its retry budget counts from there)."""
HOLD_LIMIT_S = 20 * 60.0
SWEEP_S = 5.0


class KeyParking:
    """Which keys wait behind an open exception, as far as this worker knows (the ledger decides)."""

    def __init__(self, engine: Engine, *, hold_limit_s: float = HOLD_LIMIT_S, sweep_s: float = SWEEP_S) -> None:
        self.engine = engine
        self.hold_limit_s = hold_limit_s
        """Wall seconds a worker may hold a failing message unacked before deferring it."""
        self.sweep_s = sweep_s
        """Wall seconds between two looks for deferred messages that are due."""
        self._lock = threading.Lock()
        self._open: dict[str, list[ExceptionItem]] = {}
        """The open exceptions of each parked key, oldest first, as of the last refresh or note."""

    def refresh(self) -> None:
        """Read the parked keys from the ledger's open exceptions."""
        open_items: dict[str, list[ExceptionItem]] = {}
        for item in self.engine.ports.ledger.exceptions(ExceptionStatus.OPEN):
            if item.key:
                open_items.setdefault(item.key, []).append(item)
        with self._lock:
            self._open = open_items

    def note(self, key: str, results: Iterable[AttemptResult]) -> None:
        """Park a key whose attempt just ended in the exception queue."""
        for result in results:
            if result.outcome is AttemptOutcome.EXCEPTION and result.exception is not None:
                with self._lock:
                    self._open.setdefault(key, []).append(result.exception)

    def parked(self) -> dict[str, str]:
        """Return the parked keys and the exception each waits behind."""
        with self._lock:
            return {key: items[0].id for key, items in self._open.items()}

    def holds(self, delivery: Delivery) -> bool:
        """Record a message of a parked key behind its key's open exceptions; tell whether it did.

        A key whose open exceptions are all `key-parked` (what parked it is gone) runs them first.
        """
        with self._lock:
            known = delivery.key in self._open
        if not known:
            return False
        self.refresh()  # an operator may have re-driven or closed what parked it
        if delivery.exception_id is not None:  # re-run from the ledger: it waits while an older one is open
            with self._lock:
                items = self._open.get(delivery.key, [])
                return bool(items) and items[0].id != delivery.exception_id
        with self._lock:
            items = list(self._open.get(delivery.key, ()))
        if items and all(item.reason == KEY_PARKED for item in items) and self._release(items):
            return False
        with self._lock:
            items = list(self._open.get(delivery.key, ()))
        if not items:
            return False
        if any(item.flow == delivery.route.flow and item.message_id == delivery.id for item in items):
            return True  # delivered again after a crash between recording it and the ack: its item stands
        self.engine.ports.ledger.record_exception(
            flow=delivery.route.flow, key=delivery.key, message_id=delivery.id, reason=KEY_PARKED,
            detail=f"waits behind {items[0].id} of key {delivery.key}; re-drive them in order (redrive --all)",
            payload=delivery.payload(), now=self.engine.ports.clock.now())
        self.engine.metrics.flow(delivery.route.flow).exceptions += 1
        return True

    def _release(self, items: list[ExceptionItem]) -> bool:
        """Run a key's `key-parked` messages in order; tell whether all went through."""
        for item in items:
            result = self.engine.dispatcher.attempt(self._delivery(item))  # resolves the item when it goes through
            if result.outcome not in (AttemptOutcome.PROCESSED, AttemptOutcome.DUPLICATE):
                self.refresh()
                return False
        self.refresh()
        return True

    def defer(self, delivery: Delivery, result: AttemptResult, held_s: float) -> bool:
        """Defer a message failing transiently that would be held too long (`held_s` by its next attempt),
        or re-run from the ledger, to the exception queue, its first failure kept; tell whether it did
        (the caller then acks it)."""
        if delivery.exception_id is None and held_s < self.hold_limit_s:
            return False
        now = self.engine.ports.clock.now()
        # The dispatcher keeps the first failure of what is retrying; it has no public reader.
        first_failed = self.engine.dispatcher._first_failed.get(delivery.id, now)
        item = self.engine.ports.ledger.record_exception(
            flow=delivery.route.flow, key=delivery.key, message_id=delivery.id, reason=RETRY_DEFERRED,
            detail=f"{result.reason} since {first_failed.isoformat()}, attempt {delivery.attempt}; the workers "
                   f"retry it every {self.retry_interval_s:g} s within the retry budget",
            payload={**delivery.payload(), FIRST_FAILED: first_failed.isoformat()}, now=now)
        with self._lock:
            items = self._open.setdefault(delivery.key, [])
            if all(known.id != item.id for known in items):
                items.append(item)
        return True

    @property
    def retry_interval_s(self) -> float:
        """Return the engine-clock seconds between two retries of a deferred message (the backoff cap)."""
        return self.engine.policy.backoff.cap_s

    def due(self, owned: set[int], partitions: int) -> list[tuple[str, list[Delivery]]]:
        """Return, for each key of the owned partitions whose deferred message is due (or whose parking
        exception is gone), the messages to run again in order: that one and the `key-parked` after it."""
        self.refresh()
        now, interval = self.engine.ports.clock.now(), timedelta(seconds=self.retry_interval_s)
        with self._lock:
            open_items = dict(self._open)
        due = []
        for key, items in open_items.items():
            head = items[0]
            if partition_of(key, partitions) not in owned or head.reason not in (RETRY_DEFERRED, KEY_PARKED):
                continue
            if head.reason == RETRY_DEFERRED and head.last_seen + interval > now:
                continue
            chain = [head, *itertools.takewhile(lambda item: item.reason == KEY_PARKED, items[1:])]
            due.append((key, [self._delivery(item) for item in chain]))
        return due

    def _delivery(self, item: ExceptionItem) -> Delivery:
        """Rebuild an open exception's message, its first failure known to the dispatcher's retry budget."""
        payload = item.payload
        event = SourceEvent.from_cloudevent(str(payload["system"]), payload["event"])
        delivery = Delivery(event, self.engine.registry.route(str(payload["handler"])), item.key,
                            exception_id=item.id, attempt=item.attempts + 1 if FIRST_FAILED in payload else 1)
        if FIRST_FAILED in payload:
            self.engine.dispatcher._first_failed.setdefault(delivery.id, datetime.fromisoformat(
                str(payload[FIRST_FAILED])))
        return delivery
