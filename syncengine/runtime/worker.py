"""A distributed worker: feed intake onto the bus for the systems it owns (worker_intake.py), and the
partitions it owns consumed through a per-key worker pool.

Consumption: each message is queued locally under its key; a key's messages run in order through
the engine's dispatcher, what is queued of a key (up to BATCH_MAX first attempts) in one unit of work
(effects and tracking, one commit), and are acked only after that commits; when one of them fails the
batch rolls back and the ones before it go again. A transient failure holds the key (not its
partition: other keys go on) for the retry policy's backoff; held past a limit (under the broker's
consumer timeout) the message is deferred to the ledger and acked, and the workers retry it from
there within its retry budget. A business exception, or a spent budget, parks its key: later
messages of the key are recorded behind it and acked (parking.py), until it is re-driven; then they
run in order.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace

from syncengine.adapters.bus.port import AbstractBus, Ack, Consumer, partition_of
from syncengine.domain.errors import EngineError
from syncengine.domain.records import quick_init
from syncengine.runtime.bus_codec import AckWhenAllDone, EncodedBodies, decode, decode_many, encode
from syncengine.runtime.coordination import CoordinationError, Coordinator, WorkerStatus
from syncengine.runtime.dispatch import AttemptOutcome
from syncengine.runtime.engine import Engine
from syncengine.runtime.keyed_pool import KeyedWorkers
from syncengine.runtime.parking import KeyParking
from syncengine.runtime.registry import Delivery
from syncengine.runtime.worker_intake import REBALANCE_S, FeedIntake

__all__ = ["BATCH_MAX", "DistributedWorker", "decode", "encode"]

log = logging.getLogger(__name__)

BUS_RETRY_S = 1.0
BUS_RETRY_MAX_S = 8.0
"""A lost broker link is retried after 1 s, doubling up to this, for as long as the worker runs."""
BATCH_MAX = 100
"""At most this many of a key's queued messages run in one unit of work (one ledger commit)."""
STATISTICS_EVERY = 4
"""Every this many heartbeats (2 s), the ledger tables that have doubled are analyzed (`refresh_statistics`)."""


@quick_init
@dataclass(frozen=True, slots=True)
class _Entry:
    delivery: Delivery
    ack: Ack
    partition: int
    generation: int
    since: float = field(default_factory=time.monotonic)
    """When this worker took the message in (it may hold it unacked only so long: parking.py)."""


def _from_ledger() -> None:
    """Ack a message re-run from the ledger: nothing to tell the bus (its item is resolved or reopened)."""


class DistributedWorker:
    """One worker process's share of the distributed engine."""

    def __init__(self, engine: Engine, bus: AbstractBus, coordinator: Coordinator, *, workers: int = 4,
                 poll_interval_s: float = 0.5, backoff_scale: float = 1.0, worker_id: str | None = None,
                 batch_max: int = BATCH_MAX) -> None:
        self.engine = engine
        self.batch_max = batch_max
        self.bus = bus
        self.coordinator = coordinator
        self.backoff_scale = backoff_scale
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self._stop = threading.Event()
        self.intake = FeedIntake(engine, bus, coordinator, self._stop, poll_interval_s=poll_interval_s)
        self.kept = self.intake.kept = EncodedBodies()
        self.intake.consumes = self._consumes
        self._pool = KeyedWorkers(self._step, workers=workers, name="worker-key")
        self.parking = KeyParking(engine)
        self._lock = threading.Lock()
        self._keys: dict[str, deque[_Entry]] = {}
        self._in_flight: dict[int, int] = {}
        self._owned: set[int] = set()
        self._draining: set[int] = set()
        self._generation = 0
        self._threads: list[threading.Thread] = []
        self.consumed_messages = 0
        """Bus messages taken in (each acked once all its deliveries are done)."""

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start intake pollers, the bus consumer and the worker pool."""
        self._pool.start()
        for system in self.engine.pollers:
            self._spawn(f"intake-{system}", self.intake.run, system)
        self._spawn("bus", self._consume)
        self._spawn("heartbeat", self._heartbeat)
        self._spawn("deferred", self._sweep)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking work, let running attempts finish, and leave (unacked messages go back)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._pool.stop(max(0.0, deadline - time.monotonic()))
        self.coordinator.close()
        self.bus.close()
        self.engine.ports.ledger.close()

    def _spawn(self, name: str, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    # -- observing -------------------------------------------------------------------------------

    def status(self) -> WorkerStatus:
        """Return what this worker has in hand."""
        intake, unread = self.intake.counts()
        with self._lock:
            in_flight = sum(len(queue) for queue in self._keys.values())
            owned = len(self._owned)
        return WorkerStatus(self.worker_id, self.bus.partitions, owned, in_flight, self._pool.waiting, unread,
                            len(self.engine.pollers), intake, self.intake.drained_age())

    def gauges(self) -> dict[str, float]:
        """Return this worker's gauges for /metrics."""
        status = self.status()
        return {"worker_partitions_owned": status.owned, "worker_in_flight": status.in_flight,
                "worker_keys_backing_off": status.backing_off, "worker_feeds_unread": status.unread,
                "worker_published_messages": self.intake.published,
                "worker_bus_messages_published": self.intake.messages,
                "worker_bus_messages_consumed": self.consumed_messages,
                "worker_bus_messages_kept": self.kept.taken,
                "worker_ledger_statements": getattr(self.engine.ports.ledger, "statements", 0)}

    @property
    def published(self) -> int:
        """Return how many messages this worker's intake published."""
        return self.intake.published

    @property
    def poll_failures(self) -> dict[str, int]:
        """Return how many reads of each system's feed failed."""
        return self.intake.poll_failures

    @property
    def owned_partitions(self) -> set[int]:
        """Return the partitions this worker consumes."""
        with self._lock:
            return set(self._owned)

    # -- consumption -----------------------------------------------------------------------------

    def _consume(self) -> None:
        consumer: Consumer | None = None
        next_rebalance, failures = 0.0, 0
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer = self.bus.consumer()
                    with self._lock:
                        owned = sorted(self._owned)
                    for partition in owned:
                        consumer.subscribe(partition, self._on_message)
                    if failures:
                        log.warning("bus link back after %d failed attempts: consuming %d partitions", failures,
                                    len(owned))
                    failures = 0
                if time.monotonic() >= next_rebalance:
                    self._rebalance(consumer)
                    next_rebalance = time.monotonic() + REBALANCE_S
                consumer.run(0.1)
            except Exception as error:  # noqa: BLE001 - lost broker link or store session: start a new session
                failures += 1
                delay_s = min(BUS_RETRY_S * 2 ** (failures - 1), BUS_RETRY_MAX_S)
                if failures == 1 or failures % 10 == 0:
                    log.warning("bus link lost (attempt %d), reconnecting in %.0f s: %s", failures, delay_s, error)
                if consumer is not None:
                    consumer.close()
                consumer = None
                self._forget_undelivered()
                self._stop.wait(delay_s)
        if consumer is not None:
            with self._lock:
                owned = sorted(self._owned)
            for partition in owned:
                consumer.unsubscribe(partition)
            consumer.close()

    def _rebalance(self, consumer: Consumer) -> None:
        share = math.ceil(self.bus.partitions / self.coordinator.members())
        with self._lock:
            owned = set(self._owned)
            for partition in list(self._draining):
                if not self._in_flight.get(partition):
                    self._draining.discard(partition)
                    self.coordinator.release(f"partition:{partition}")
        for partition in sorted(owned):
            # A lost coordination session lost its locks: keep only the partitions still ours.
            if not self.coordinator.try_own(f"partition:{partition}"):
                consumer.unsubscribe(partition)
                owned.discard(partition)
        start = partition_of(self.worker_id, self.bus.partitions)
        for offset in range(self.bus.partitions):
            partition = (start + offset) % self.bus.partitions
            if len(owned) >= share:
                break
            if partition in owned or partition in self._draining:
                continue
            if self.coordinator.try_own(f"partition:{partition}"):
                self.parking.refresh()  # the keys parked by the partition's last owner
                consumer.subscribe(partition, self._on_message)
                owned.add(partition)
        while len(owned) > share:
            partition = max(owned)
            consumer.unsubscribe(partition)
            owned.discard(partition)
            self._draining.add(partition)
        with self._lock:
            self._owned = owned

    def _consumes(self, partition: int) -> bool:
        return partition in self._owned  # a read of a set being replaced whole: no lock needed

    def _on_message(self, partition: int, body: bytes, ack: Ack) -> None:
        self.consumed_messages += 1
        try:
            deliveries = self.kept.take(body) or decode_many(self.engine, body)
        except (ValueError, KeyError, LookupError, TypeError, EngineError) as error:
            self.engine.ports.ledger.dead_letter(
                flow="bus", key="", message_id=f"bus:{partition}:{time.time_ns()}", reason="malformed-bus-message",
                detail=f"{type(error).__name__}: {error}", payload={"body": body.decode(errors="replace")},
                now=self.engine.ports.clock.now())
            ack()
            return
        done = ack if len(deliveries) == 1 else AckWhenAllDone(ack, len(deliveries))
        since = time.monotonic()  # when the message was taken in: the same for each of its deliveries
        with self._lock:
            keys, generation = self._keys, self._generation
            for delivery in deliveries:
                queue = keys.get(delivery.key)
                if queue is None:  # not setdefault: that builds a deque per delivery
                    queue = keys[delivery.key] = deque()
                queue.append(_Entry(delivery, done, partition, generation, since))
            self._in_flight[partition] = self._in_flight.get(partition, 0) + len(deliveries)
        for key in dict.fromkeys(delivery.key for delivery in deliveries):
            self._pool.wake(key)

    def _forget_undelivered(self) -> None:
        # The broker gives the unacked messages back to whoever consumes next: drop our copies.
        with self._lock:
            self._generation += 1

    def _step(self, key: str) -> float | None:
        with self._lock:
            queue = self._keys.get(key)
            if not queue:
                return None
            entry = queue[0]
            if entry.generation != self._generation:
                self._finish(key, queue)
                return 0.0
            batch = list(itertools.takewhile(
                lambda queued: queued.generation == self._generation and queued.delivery.attempt == 1
                and queued.delivery.exception_id is None, itertools.islice(queue, self.batch_max)))
        if self.parking.holds(entry.delivery):  # behind an open exception of its key: recorded there, acked
            with self._lock:
                self._finish(key, queue)
            entry.ack()
            return 0.0
        if batch:
            results = self.engine.dispatcher.attempt_batch([queued.delivery for queued in batch])
        else:
            results = [self.engine.dispatcher.attempt(entry.delivery)]
        self.parking.note(key, results)
        if results[0].outcome is AttemptOutcome.RETRY and self.parking.defer(
                entry.delivery, results[0], time.monotonic() - entry.since + results[0].delay_s * self.backoff_scale):
            with self._lock:
                self._finish(key, queue)
            entry.ack()  # held long enough: the ledger keeps it, the workers retry it from there
            return 0.0
        with self._lock:
            if results[0].outcome is AttemptOutcome.RETRY:
                queue[0] = replace(entry, delivery=replace(entry.delivery, attempt=entry.delivery.attempt + 1))
                return results[0].delay_s * self.backoff_scale
            done = [self._finish(key, queue) for _ in results]
        for finished in done:
            finished.ack()
        return 0.0

    def _finish(self, key: str, queue: deque[_Entry]) -> _Entry:
        entry = queue.popleft()
        if not queue:
            del self._keys[key]
        self._in_flight[entry.partition] -= 1
        return entry

    def _sweep(self) -> None:
        """Queue again, each under its key, the deferred messages that are due (parking.py)."""
        while not self._stop.wait(self.parking.sweep_s):
            try:
                due = self.parking.due(self.owned_partitions, self.bus.partitions)
            except Exception as error:  # noqa: BLE001 - the ledger is unreachable: look again later
                log.warning("cannot read the deferred messages: %s", error)
                continue
            for key, deliveries in due:
                partition = partition_of(key, self.bus.partitions)
                with self._lock:
                    if key in self._keys or partition not in self._owned:
                        continue  # the key's queued messages run first, or release it
                    self._keys[key] = deque(_Entry(delivery, _from_ledger, partition, self._generation)
                                            for delivery in deliveries)
                    self._in_flight[partition] = self._in_flight.get(partition, 0) + len(deliveries)
                self._pool.wake(key)

    # -- heartbeat -------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        beats = 0
        while not self._stop.wait(0.5):
            beats += 1
            try:
                self.coordinator.report(self.status())
                if beats % STATISTICS_EVERY == 0:
                    self.coordinator.refresh_statistics()
            except CoordinationError as error:
                log.warning("heartbeat failed: %s", error)
