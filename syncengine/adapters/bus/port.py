"""The bus port: N durable partition queues; a key's messages always go to the same partition.

Publishing returns only once the bus has the message (publisher confirms); a consumer acks a message
only after its effects are committed, so a consumer that dies leaves its unacked messages to be
delivered again (to whichever consumer takes the partition next). A partition has one active
consumer at a time, which is what keeps a key's order with many workers. A message may hold
deliveries of several keys of its partition.
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Callable, Sequence
from typing import Protocol

from syncengine.adapters.bus.timings import BusTimings


class BusError(Exception):
    """The bus cannot be reached or refused a message; the message names what failed."""


Ack = Callable[[], None]
OnMessage = Callable[[int, bytes, Ack], None]
"""Called with (partition, body, ack) on the consumer's thread; `ack` may be called from any thread."""


def partition_of(key: str, partitions: int) -> int:
    """Return the partition of an ordering key (stable across processes and runs): that of its root, the
    text before its first `/`.

    A flow's sub-key (`project:PRJ-1/cost`, apart from billing's `project:PRJ-1` so that one never holds
    the other back) refines the key of its root: both land in one partition, so the bus message of a
    feed read for that partition carries an event both flows handle once (bus_codec.py)."""
    return zlib.crc32(key.partition("/")[0].encode()) % partitions


class Publisher(Protocol):
    """Publish messages to partitions, each confirmed by the bus before `publish` returns."""

    def publish(self, partition: int, body: bytes, message_id: str) -> None: ...

    def publish_batch(self, messages: Sequence[tuple[int, bytes, str]]) -> None: ...

    def close(self) -> None: ...


class Consumer(abc.ABC):
    """One consumer session, driven by one thread: subscribe to partitions, run, ack from anywhere."""

    @abc.abstractmethod
    def subscribe(self, partition: int, on_message: OnMessage) -> None:
        """Start taking a partition's messages."""

    @abc.abstractmethod
    def unsubscribe(self, partition: int) -> None:
        """Stop taking a partition's messages (the unacked ones stay with this consumer until acked)."""

    @abc.abstractmethod
    def run(self, time_limit_s: float) -> None:
        """Deliver messages and carry out acks for up to `time_limit_s`; raise BusError when the link is lost."""

    @abc.abstractmethod
    def close(self) -> None:
        """End the session; messages not acked go back to their partitions."""


class AbstractBus(abc.ABC):
    """A bus of `partitions` partition queues."""

    def __init__(self, partitions: int) -> None:
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.partitions = partitions
        self.timings = BusTimings()
        """Delivery delays and ack times of what this process's consumers took (every publish is stamped)."""

    @abc.abstractmethod
    def publisher(self) -> Publisher:
        """Return a new publisher (one per thread)."""

    @abc.abstractmethod
    def consumer(self) -> Consumer:
        """Return a new consumer session (one per thread)."""

    @abc.abstractmethod
    def depth(self) -> int:
        """Return how many messages wait in the partitions, not yet delivered."""

    def close(self) -> None:  # noqa: B027 - adapters without resources need nothing
        """Release the bus's own resources."""
