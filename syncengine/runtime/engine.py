"""The engine core, independent of any runtime: intake, per-key queues, dispatch, re-drive.

A runtime (simulated: `runtime.sim`; live: a broker) decides *when* each key's head runs by calling
`dispatch(key)`, and is told through `listen()` when a key gets work. The queues sit behind a lock
held only for queue operations (never across a handler), so threads may submit and dispatch
different keys at once; a runtime must not dispatch one key from two threads at a time.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from syncengine.domain.errors import EngineError, MalformedEvent
from syncengine.domain.messages import SourceEvent
from syncengine.intake.feed import FeedPoller, PollResult
from syncengine.intake.webhooks import WebhookReceiver
from syncengine.ledger.records import ExceptionItem
from syncengine.ports import Ports
from syncengine.retry import RetryPolicy
from syncengine.runtime.dispatch import AttemptOutcome, AttemptResult, Dispatcher
from syncengine.runtime.metrics import Metrics, MetricsSnapshot
from syncengine.runtime.queues import KeyedQueues
from syncengine.runtime.registry import Delivery, HandlerRegistry

INTAKE_FLOW = "intake"


class Engine:
    """The sync engine: takes events in, queues them per key, runs their handlers, keeps the ledger."""

    def __init__(self, ports: Ports, registry: HandlerRegistry, *, policy: RetryPolicy | None = None,
                 rng: random.Random | None = None, metrics: Metrics | None = None,
                 park_on_exception: bool = True, virtual_latency: bool = True) -> None:
        self.ports = ports
        self.registry = registry
        self.policy = policy or RetryPolicy()
        self.metrics = metrics or Metrics()
        self.park_on_exception = park_on_exception
        self.queues = KeyedQueues()
        self.dispatcher = Dispatcher(ports, self.policy, rng or random.Random(0), self.metrics,
                                     virtual_latency=virtual_latency)
        self.pollers: dict[str, FeedPoller] = {}
        self.webhooks: WebhookReceiver | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._core = threading.RLock()
        self._page = threading.local()
        """The event ids of the page `submit_page` is taking in on this thread, and which of them were new."""
        self.outlet: Callable[[Delivery], None] | None = None
        """Where deliveries go instead of the local queues (a broker, in the distributed runtime)."""

    # -- wiring ----------------------------------------------------------------------------------

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call `listener(key)` whenever a key gets a message ready to run."""
        self._listeners.append(listener)

    def add_poller(self, system: str, *, limit: int = 100, max_pages: int = 10) -> FeedPoller:
        """Poll a system's event feed with its client, for the event types the registered flows handle."""
        poller = FeedPoller(system, self.ports.client(system), self.ports.ledger, self, limit=limit,
                            max_pages=max_pages, type_prefixes=self.registry.type_prefixes)
        self.pollers[system] = poller
        return poller

    # -- intake ----------------------------------------------------------------------------------

    def submit(self, system: str, raw: Any, *, replay: bool = False) -> int:
        """Take one raw event of a system; return how many deliveries it was queued as."""
        ledger = self.ports.ledger
        now = self.ports.clock.now()
        self.metrics.events_received += 1
        event_id = raw.get("id") if type(raw) is dict or isinstance(raw, Mapping) else None  # a dict: no ABC check
        try:
            event = SourceEvent.from_cloudevent(system, raw)
        except MalformedEvent as error:
            if self._duplicate(system, event_id, now, replay):
                return 0
            self.metrics.malformed_events += 1
            self._intake_dead_letter(system, raw, error)
            return 0
        routes = self.registry.routes(event.type)
        if not routes:
            # Nothing to do, so nothing to remember: most of a feed is events no flow handles, and
            # recording each one would cost the ledger a write per event.
            self.metrics.ignored_events += 1
            return 0
        if self._duplicate(system, event_id, now, replay):
            return 0
        queued = 0
        for route in routes:
            try:
                key = route.ordering_key(event)
            except Exception as error:  # noqa: BLE001 - a key function failing on bad data is a poison message
                self.metrics.flow(route.flow).dead_letters += 1
                reason, detail = ((error.reason, error.detail) if isinstance(error, EngineError)
                                  else ("unexpected-error", f"{type(error).__name__}: {error}"))
                ledger.dead_letter(flow=route.flow, key="", message_id=f"{event.message_id}/{route.handler_name}",
                                   reason=reason, detail=detail,
                                   payload={"system": system, "event": event.to_cloudevent(),
                                            "handler": route.handler_name, "key": ""}, now=now)
                continue
            self.metrics.flow(route.flow).deliveries += 1
            self._enqueue(Delivery(event, route, key))
            queued += 1
        return queued

    def submit_page(self, system: str, raws: Sequence[Any], *, replay: bool = False) -> int:
        """Take a page of raw events of a system as `submit` takes each, their ids recorded in one ledger write
        and their deliveries queued together (one lock, each key woken once) once the page is read."""
        wanted = [raw["id"] for raw in raws if self._receipt_needed(raw)]
        self._page.wanted = set(wanted)
        self._page.fresh = self.ports.ledger.record_received_many(system, wanted, self.ports.clock.now())
        queued: list[Delivery] = []
        self._page.queued = queued if self.outlet is None else None
        try:
            return sum(self.submit(system, raw, replay=replay) for raw in raws)
        finally:
            self._page.wanted = self._page.fresh = self._page.queued = None
            self._enqueue_all(queued)  # what was taken before a failure is queued too, as `submit` queues it

    def poll(self, system: str) -> PollResult:
        """Read a system's feed once (raises the client's failure when the system is unreachable)."""
        return self.pollers[system].poll()

    def replay(self, system: str, after: str | None) -> PollResult:
        """Re-read a system's feed after a cursor; effects already applied are skipped by tracking."""
        return self.pollers[system].replay(after)

    # -- dispatch --------------------------------------------------------------------------------

    def dispatch(self, key: str) -> AttemptResult | None:
        """Run one attempt at the head of a key; None when the key has nothing ready."""
        with self._core:
            delivery = self.queues.head(key)
        if delivery is None:
            return None
        result = self.dispatcher.attempt(delivery)
        with self._core:
            if result.outcome is AttemptOutcome.RETRY:
                self.queues.replace_head(replace(delivery, attempt=delivery.attempt + 1))
                return result
            self.queues.pop(key)
            if result.outcome is AttemptOutcome.EXCEPTION and self.park_on_exception and result.exception is not None:
                self.queues.park(key, result.exception.id)
        return result

    def dispatch_batch(self, key: str, limit: int) -> AttemptResult | None:
        """Run what is queued of a key, up to `limit` first attempts, in one unit of work (see
        `Dispatcher.attempt_batch`); return the last result settled (the head's when it failed), None
        when the key has nothing ready. A retry or re-drive at the head runs alone, as `dispatch`."""
        with self._core:
            queued = self.queues.prefix(key, limit)
        batch = list(itertools.takewhile(lambda delivery: delivery.attempt == 1 and delivery.exception_id is None,
                                         queued))
        if len(batch) < 2:
            return self.dispatch(key)
        results = self.dispatcher.attempt_batch(batch)
        with self._core:
            for delivery, result in zip(batch, results, strict=False):
                if result.outcome is AttemptOutcome.RETRY:
                    self.queues.replace_head(replace(delivery, attempt=delivery.attempt + 1))
                    break
                self.queues.pop(key)
                if result.outcome is AttemptOutcome.EXCEPTION and self.park_on_exception \
                        and result.exception is not None:
                    self.queues.park(key, result.exception.id)
        return results[-1]

    def runnable_keys(self) -> list[str]:
        """Return the keys with a message ready to run."""
        with self._core:
            return self.queues.runnable_keys()

    # -- operators -------------------------------------------------------------------------------

    def redrive(self, exception_id: str) -> Delivery:
        """Queue an OPEN exception's message again, at the front of its key, and release the key."""
        ledger = self.ports.ledger
        with ledger.unit_of_work():  # an exception whose message cannot be rebuilt stays OPEN
            item = ledger.redrive_exception(exception_id, self.ports.clock.now())
            delivery = self._delivery_of(item)
        with self._core:
            self.queues.push(delivery, front=True)
            self.queues.unpark(item.key, item.id)
            self._notify(item.key)
        return delivery

    def redrive_dead_letter(self, letter_id: str) -> int:
        """Hand an OPEN dead letter back once its cause is fixed; return how many deliveries it made.

        A handler's dead letter runs its handler again (tracking skips it if it went through after
        all); an intake dead letter (a malformed event) goes through intake again. If it fails again
        it is sorted like any new failure (a new dead letter, or an exception).
        """
        ledger = self.ports.ledger
        with ledger.unit_of_work():  # a letter that cannot be re-driven stays OPEN
            payload: Mapping[str, Any] = ledger.redrive_dead_letter(letter_id).payload
            if not isinstance(payload.get("system"), str) or not isinstance(payload.get("event"), Mapping):
                raise MalformedEvent("unredrivable-dead-letter", f"{letter_id} keeps no system and event")
            if "handler" not in payload:
                return self.submit(str(payload["system"]), payload["event"], replay=True)
            event = SourceEvent.from_cloudevent(str(payload["system"]), payload["event"])
            route = self.registry.route(str(payload["handler"]))
            key = str(payload.get("key") or "") or route.ordering_key(event)
        self.metrics.flow(route.flow).deliveries += 1
        self._enqueue(Delivery(event, route, key))
        return 1

    def resolve(self, exception_id: str) -> ExceptionItem:
        """Close an exception without running its message again, and release its key."""
        item = self.ports.ledger.resolve_exception(exception_id, self.ports.clock.now())
        with self._core:
            if self.queues.unpark(item.key, item.id):
                self._notify(item.key)
        return item

    # -- observing -------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Tell whether no message is ready to run (parked keys wait for an operator)."""
        with self._core:
            return not self.queues.any_runnable()

    def snapshot(self) -> MetricsSnapshot:
        """Return the metrics as they stand."""
        with self._core:
            depth, max_depth, parked = self.queues.depth(), self.queues.max_depth, len(self.queues.parked())
        return self.metrics.snapshot(depth, max_depth, parked)

    # -- internals -------------------------------------------------------------------------------

    def _enqueue(self, delivery: Delivery) -> None:
        if self.outlet is not None:
            self.outlet(delivery)
            return
        page: list[Delivery] | None = getattr(self._page, "queued", None)
        if page is not None:  # a page's: queued with the rest of it (`submit_page`)
            page.append(delivery)
            return
        with self._core:
            self.queues.push(delivery)
            self._notify(delivery.key)

    def _enqueue_all(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        with self._core:
            push = self.queues.push
            for delivery in deliveries:
                push(delivery)
            for key in dict.fromkeys(delivery.key for delivery in deliveries):
                self._notify(key)

    def _notify(self, key: str) -> None:
        if self.queues.head(key) is None:
            return
        for listener in self._listeners:
            listener(key)

    def _delivery_of(self, item: ExceptionItem) -> Delivery:
        payload: Mapping[str, Any] = item.payload
        event = SourceEvent.from_cloudevent(str(payload["system"]), payload["event"])
        return Delivery(event, self.registry.route(str(payload["handler"])), item.key, exception_id=item.id)

    def _duplicate(self, system: str, event_id: Any, now: datetime, replay: bool) -> bool:
        """Record an event id; tell whether it was taken in before (a replay takes it again)."""
        if not isinstance(event_id, str) or not event_id:
            return False
        wanted: set[str] | None = getattr(self._page, "wanted", None)
        if wanted is not None and event_id in wanted:  # recorded with its page (`submit_page`)
            new = event_id in self._page.fresh
            self._page.fresh.discard(event_id)  # the same id again in the page is a duplicate
        else:
            new = self.ports.ledger.record_received(system, event_id, now)
        if not new and not replay:
            self.metrics.duplicate_events += 1
            return True
        return False

    def _receipt_needed(self, raw: Any) -> bool:
        """Tell whether `submit` records this event's id: one of a type a flow handles (it records an event
        it cannot read on its own)."""
        if not (type(raw) is dict or isinstance(raw, Mapping)) or not isinstance(raw.get("id"), str) or not raw["id"]:
            return False
        event_type = raw.get("type")
        return isinstance(event_type, str) and bool(self.registry.routes(event_type))

    def _intake_dead_letter(self, system: str, raw: Any, error: EngineError) -> None:
        event_id = raw.get("id") if isinstance(raw, Mapping) else None
        self.metrics.flow(INTAKE_FLOW).dead_letters += 1
        self.ports.ledger.dead_letter(flow=INTAKE_FLOW, key="", message_id=f"{system}:{event_id or '?'}",
                                      reason=error.reason, detail=error.detail,
                                      payload={"system": system, "event": dict(raw) if isinstance(raw, Mapping) else
                                               repr(raw)}, now=self.ports.clock.now())
