"""A distributed worker's feed intake: a poller per system, running only while the worker holds that
system's intake lock.

What a read takes in is published to the partition queues as one confirmed batch inside the ledger
unit of work that records the event ids and advances the cursor, so a crash between publishing and
saving the cursor publishes again, and tracking skips what was already done. What a read took in
for one partition goes as one bus message (bus_codec.py: each event once, however many flows handle
it), acked once all of it is done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from syncengine.adapters.bus.port import AbstractBus, Publisher, partition_of
from syncengine.runtime.bus_codec import EncodedBodies, encode, encode_many
from syncengine.runtime.coordination import Coordinator
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Delivery

log = logging.getLogger(__name__)

REBALANCE_S = 1.0
GATHER_S = 0.05
"""After a read that took in less than it could (its last page was not full), wait this long (at most the
poll interval) before the next: a busy feed is then read in fuller pages, and each read's fixed costs
(the request, a ledger unit of work, a confirmed publish, a bus message and a unit of work per key
downstream) are shared by more events."""


class FeedIntake:
    """Read the feeds of the systems whose intake lock this worker holds, publishing what they carry."""

    def __init__(self, engine: Engine, bus: AbstractBus, coordinator: Coordinator, stop: threading.Event, *,
                 poll_interval_s: float = 0.5) -> None:
        self.engine = engine
        self.bus = bus
        self.coordinator = coordinator
        self.poll_interval_s = poll_interval_s
        self.published = 0
        """Deliveries published."""
        self.messages = 0
        """Bus messages published (a feed read's deliveries go as one message per partition)."""
        self.poll_failures: dict[str, int] = {}
        self._stop = stop
        self._lock = threading.Lock()
        self._owned: set[str] = set()
        self._unread: set[str] = set()
        self._drained: dict[str, float] = {}
        """When (monotonic) the last read of each owned system that found its feed empty began."""
        self._local = threading.local()
        self.kept: EncodedBodies | None = None
        """Where the bodies of partitions this process consumes are kept for its consumer (None: not kept)."""
        self.consumes: Callable[[int], bool] = lambda _partition: False
        """Whether this process consumes a partition (now)."""
        engine.outlet = self.publish

    def counts(self) -> tuple[int, int]:
        """Return how many systems' intake this worker owns, and how many of them it has not read yet."""
        with self._lock:
            return len(self._owned), len(self._unread)

    def drained_age(self) -> float | None:
        """Return how long ago the oldest of the owned feeds' last empty reads began: every event a feed
        carried before then has been read and published (None: a feed owned has not been found empty since
        it was taken over, or none is owned)."""
        with self._lock:
            if not self._owned or any(system not in self._drained for system in self._owned):
                return None
            return time.monotonic() - min(self._drained[system] for system in self._owned)

    def publish(self, delivery: Delivery) -> None:
        """Put a delivery on the bus (within a feed read: with the read's batch, before its cursor commits)."""
        partition = partition_of(delivery.key, self.bus.partitions)
        outbox: dict[int, list[Delivery]] | None = getattr(self._local, "outbox", None)
        if outbox is not None:
            queued = outbox.get(partition)
            if queued is None:
                queued = outbox[partition] = []
            queued.append(delivery)
            return
        self._publisher().publish_batch([(partition, encode(delivery), delivery.id)])
        self.published += 1
        self.messages += 1

    def _messages(self, outbox: dict[int, list[Delivery]]) -> list[tuple[int, bytes, str]]:
        """Return one bus message per partition of a feed read: its deliveries, in their order (each body of a
        partition this process consumes kept for its consumer, before it is published)."""
        messages = []
        for partition, deliveries in outbox.items():
            body = encode_many(deliveries)
            if self.kept is not None and self.consumes(partition):
                self.kept.keep(body, deliveries)
            messages.append((partition, body, f"{deliveries[0].id}+{len(deliveries) - 1}"))
        return messages

    def _publisher(self) -> Publisher:
        publisher: Publisher | None = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = self._local.publisher = self.bus.publisher()
        return publisher

    def read_feed(self, system: str) -> int:
        """Read a feed once, publishing what it read before the cursor and event ids commit; return how many
        events it read."""
        publisher = self._publisher()
        outbox: dict[int, list[Delivery]] = {}
        self._local.outbox = outbox
        try:
            with self.engine.ports.ledger.unit_of_work():
                result = self.engine.poll(system)
                publisher.publish_batch(self._messages(outbox))
                self.published += sum(len(deliveries) for deliveries in outbox.values())
                self.messages += len(outbox)
        finally:
            self._local.outbox = None
        return result.events

    def run(self, system: str) -> None:
        """Poll one system's feed while this worker holds its intake lock, until the worker stops."""
        resource, failures = f"intake:{system}", 0
        while not self._stop.is_set():
            try:
                if not self.coordinator.try_own(resource):
                    with self._lock:
                        self._owned.discard(system)
                        self._unread.discard(system)
                        self._drained.pop(system, None)
                    self._stop.wait(REBALANCE_S)
                    continue
                with self._lock:
                    if system not in self._owned:
                        # Taken over: unread until a first read succeeds (the last owner may have died mid-read).
                        self._owned.add(system)
                        self._unread.add(system)
                        self._drained.pop(system, None)
                began = time.monotonic()
                events = self.read_feed(system)
            except Exception as error:  # noqa: BLE001 - unreachable system, broker or store: read again later
                failures += 1
                self.poll_failures[system] = self.poll_failures.get(system, 0) + 1
                with self._lock:
                    self._unread.add(system)
                log.warning("intake of %s failed: %s", system, error)
                self._stop.wait(min(self.poll_interval_s * 2 ** min(failures, 6), 10.0))
                continue
            failures = 0
            with self._lock:
                self._unread.discard(system)
                if not events:
                    self._drained[system] = began
            if not events:
                self._stop.wait(self.poll_interval_s)
            elif events < self.engine.pollers[system].limit * self.engine.pollers[system].max_pages:
                self._stop.wait(min(GATHER_S, self.poll_interval_s))
        self.coordinator.release(resource)
