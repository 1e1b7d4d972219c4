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
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from syncengine.domain.messages import SourceEvent
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.runtime.dispatch import AttemptOutcome, AttemptResult
from syncengine.runtime.registry import Delivery

if TYPE_CHECKING:
    from syncengine.runtime.engine import Engine

KEY_PARKED = "key-parked"
"""The reason of a message recorded behind an open exception of its key."""


class KeyParking:
    """Which keys wait behind an open exception, as far as this worker knows (the ledger decides)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
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
        if not known or delivery.exception_id is not None:
            return False
        self.refresh()  # an operator may have re-driven or closed what parked it
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
            payload = item.payload
            event = SourceEvent.from_cloudevent(str(payload["system"]), payload["event"])
            delivery = Delivery(event, self.engine.registry.route(str(payload["handler"])), item.key,
                                exception_id=item.id)
            result = self.engine.dispatcher.attempt(delivery)  # resolves the item when it goes through
            if result.outcome not in (AttemptOutcome.PROCESSED, AttemptOutcome.DUPLICATE):
                self.refresh()
                return False
        self.refresh()
        return True
