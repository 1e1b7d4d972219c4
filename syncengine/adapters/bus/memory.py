"""The in-process bus: partition queues in memory, one active consumer per partition, for one process."""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from syncengine.adapters.bus.port import AbstractBus, BusError, Consumer, OnMessage, Publisher


@dataclass
class _Partition:
    ready: deque[tuple[int, bytes, int]] = field(default_factory=deque)
    consumers: list[InProcessConsumer] = field(default_factory=list)


class InProcessBus(AbstractBus):
    """Partition queues in this process's memory (embedded default; tests of the distributed runtime)."""

    def __init__(self, partitions: int = 8) -> None:
        super().__init__(partitions)
        self.lock = threading.Condition()
        self.queues = [_Partition() for _ in range(partitions)]
        self._sequence = itertools.count(1)

    def publisher(self) -> Publisher:
        """Return a publisher onto this bus."""
        return _InProcessPublisher(self)

    def consumer(self) -> InProcessConsumer:
        """Return a consumer session on this bus."""
        return InProcessConsumer(self)

    def depth(self) -> int:
        """Return how many messages wait undelivered."""
        with self.lock:
            return sum(len(partition.ready) for partition in self.queues)

    def put(self, partition: int, body: bytes, *, front: bool = False) -> None:
        """Queue a message on a partition."""
        if not 0 <= partition < self.partitions:
            raise BusError(f"no partition {partition}")
        with self.lock:
            item = (next(self._sequence), body, time.time_ns())
            if front:
                self.queues[partition].ready.appendleft(item)
            else:
                self.queues[partition].ready.append(item)
            self.lock.notify_all()


class _InProcessPublisher:
    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def publish(self, partition: int, body: bytes, message_id: str) -> None:
        self.bus.put(partition, body)

    def publish_batch(self, messages: Sequence[tuple[int, bytes, str]]) -> None:
        for partition, body, _ in messages:
            self.bus.put(partition, body)

    def close(self) -> None:
        return None


class InProcessConsumer(Consumer):
    """A consumer session on the in-process bus."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus
        self.callbacks: dict[int, OnMessage] = {}
        self.unacked: dict[int, tuple[int, bytes, int]] = {}
        self.closed = False

    def subscribe(self, partition: int, on_message: OnMessage) -> None:
        """Join a partition's consumers (active when first in line)."""
        with self.bus.lock:
            self.callbacks[partition] = on_message
            self.bus.queues[partition].consumers.append(self)

    def unsubscribe(self, partition: int) -> None:
        """Leave a partition's consumers."""
        with self.bus.lock:
            self.callbacks.pop(partition, None)
            consumers = self.bus.queues[partition].consumers
            if self in consumers:
                consumers.remove(self)
            self.bus.lock.notify_all()

    def run(self, time_limit_s: float) -> None:
        """Deliver what is ready on the partitions where this session is the active consumer."""
        with self.bus.lock:
            if self.closed:
                raise BusError("the consumer is closed")
            due = self._due()
            if not due:
                self.bus.lock.wait(time_limit_s)
                due = self._due()
        for partition, tag, body in due:
            self.callbacks[partition](partition, body, functools.partial(self._ack, tag))

    def close(self) -> None:
        """Leave every partition; unacked messages go back to the front of theirs."""
        with self.bus.lock:
            self.closed = True
            for partition in list(self.callbacks):
                self.unsubscribe(partition)
            for tag in sorted(self.unacked, reverse=True):
                partition, body, published_ns = self.unacked.pop(tag)
                self.bus.queues[partition].ready.appendleft((tag, body, published_ns))
            self.bus.lock.notify_all()

    def _due(self) -> list[tuple[int, int, bytes]]:
        due = []
        for partition in self.callbacks:
            queue = self.bus.queues[partition]
            if queue.consumers and queue.consumers[0] is self:
                while queue.ready:
                    tag, body, published_ns = queue.ready.popleft()
                    self.unacked[tag] = (partition, body, published_ns)
                    self.bus.timings.delivered(published_ns)
                    due.append((partition, tag, body))
        return due

    def _ack(self, tag: int) -> None:
        started = time.perf_counter()
        with self.bus.lock:
            acked = self.unacked.pop(tag, None) is not None
        if acked:  # in this process an ack is done when called: no wait, only the time to take it off
            self.bus.timings.acked([0.0], time.perf_counter() - started)
