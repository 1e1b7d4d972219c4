"""The RabbitMQ bus (pika, blocking connections): durable quorum queues, one per partition, each with
`x-single-active-consumer`; publisher confirms; manual acks carried to the connection's own thread.

pika connections are not thread-safe: each publisher and each consumer owns its connection, used by
one thread; acks from worker threads are collected and handed to the consumer's thread with one
`add_callback_threadsafe` for all that came in meanwhile (a batch's hundred acks: one wake-up), which
acks the longest run of finished messages from the oldest unacked one with one `basic_ack(multiple=True)`
and any finished after a gap (a message still running, or backing off) one by one, so that no message
is acked before it is finished. A message whose ack is lost with its connection is delivered again.

Each message carries its publisher's wall time in the `firmsim-published-ns` header; the consumer
records publish-to-delivery delays and ack times in the bus's `timings` (timings.py).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from syncengine.adapters.bus.port import AbstractBus, BusError, Consumer, OnMessage
from syncengine.adapters.bus.timings import PUBLISHED_HEADER

CONFIRM_TIMEOUT_S = 30.0
HEARTBEAT_S = 15
"""AMQP heartbeat: a connection that sends none for about two of these is closed by the broker."""
QUEUE_ARGUMENTS = {"x-queue-type": "quorum", "x-single-active-consumer": True}
_T = TypeVar("_T")
LINK_ERRORS: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError)


def _parameters(url: str, name: str) -> pika.URLParameters:
    try:
        parameters = pika.URLParameters(url)
    except Exception as error:  # pika raises several types for a malformed URL
        raise BusError(f"--bus {url!r}: not an amqp:// URL ({error})") from error
    parameters.heartbeat = HEARTBEAT_S
    parameters.blocked_connection_timeout = 30
    parameters.socket_timeout = 5
    parameters.connection_attempts = 1
    parameters.client_properties = {"connection_name": name}
    return parameters


def _connect(url: str, name: str) -> pika.BlockingConnection:
    """Open a connection named `name` (shown by `rabbitmqctl list_connections client_properties`)."""
    try:
        return pika.BlockingConnection(_parameters(url, name))
    except LINK_ERRORS as error:
        raise BusError(f"cannot reach RabbitMQ at {_redacted(url)}: {type(error).__name__} {error}".strip()) from error


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    _, at, host = rest.rpartition("@")
    return f"{scheme}://{host}" if at else url


class RabbitBus(AbstractBus):
    """Partition queues `<prefix>.p<N>` on a RabbitMQ broker."""

    def __init__(self, url: str, *, partitions: int = 8, prefix: str = "firmsim.engine", prefetch: int = 200) -> None:
        super().__init__(partitions)
        if not url.startswith(("amqp://", "amqps://")):
            raise BusError(f"--bus {url!r}: expected an amqp:// or amqps:// URL")
        self.url = url
        self.prefix = prefix
        self.prefetch = prefetch
        self._admin: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def queue(self, partition: int) -> str:
        """Return the name of a partition's queue."""
        return f"{self.prefix}.p{partition:03d}"

    def declare(self) -> None:
        """Declare every partition queue (idempotent); raise BusError when the broker refuses."""
        def declare(channel: BlockingChannel) -> None:
            for partition in range(self.partitions):
                channel.queue_declare(self.queue(partition), durable=True, arguments=QUEUE_ARGUMENTS)

        self._admin_call("declare the partition queues", declare)

    def publisher(self) -> RabbitPublisher:
        """Return a publisher with its own connection (one per thread)."""
        return RabbitPublisher(self)

    def consumer(self) -> RabbitConsumer:
        """Return a consumer session with its own connection (one per thread)."""
        return RabbitConsumer(self)

    def depth(self) -> int:
        """Return how many messages wait undelivered in the partition queues."""
        def depth(channel: BlockingChannel) -> int:
            total = 0
            for partition in range(self.partitions):
                try:
                    total += channel.queue_declare(self.queue(partition), passive=True).method.message_count
                except pika.exceptions.ChannelClosedByBroker as error:
                    if error.reply_code != 404:
                        raise
                    channel = self._admin_channel()  # a queue nobody declared yet holds nothing
            return total

        return self._admin_call("read the partition queues", depth)

    def delete(self) -> None:
        """Delete the partition queues (tests and benchmarks clean up with it)."""
        def delete(channel: BlockingChannel) -> None:
            for partition in range(self.partitions):
                channel.queue_delete(self.queue(partition))

        self._admin_call("delete the partition queues", delete)

    def close(self) -> None:
        """Close the administrative connection."""
        self._drop_admin()

    def _admin_call(self, what: str, operation: Callable[[BlockingChannel], _T]) -> _T:
        """Run an administrative operation (each is idempotent) on the kept channel. The connection is
        used now and then, so it may be found closed: the broker drops a connection that sent no
        heartbeat for two intervals (a blocking connection sends them only while it is used), or it
        restarted. Then reconnect and run it once more; raise BusError if that fails too."""
        for attempt in (1, 2):
            try:
                return operation(self._admin_channel())
            except LINK_ERRORS as error:
                self._drop_admin()
                if attempt == 2:
                    raise BusError(f"cannot {what}: {error!r}") from error
        raise AssertionError("unreachable")

    def _admin_channel(self) -> BlockingChannel:
        """Return the administrative channel, opened once and reused (a channel a call opened and left
        open would stay open with the connection: a connection allows 2,047)."""
        if self._admin is None or self._admin.is_closed:
            self._channel = None
            self._admin = _connect(self.url, f"{self.prefix}:admin")
        if self._channel is None or self._channel.is_closed:
            self._channel = self._admin.channel()
        return self._channel

    def _drop_admin(self) -> None:
        if self._admin is not None and self._admin.is_open:
            with contextlib.suppress(*LINK_ERRORS):
                self._admin.close()
        self._admin = None
        self._channel = None


class RabbitPublisher:
    """Publish persistent messages with confirms, a whole batch waiting for its confirms at once.

    A quorum queue confirms once the message is replicated and on disk; waiting for each confirm in
    turn (BlockingChannel's way) costs a disk sync per message, so the batch goes out on the
    underlying channel and the confirms are collected together. Reconnects on the next publish after
    a lost link.
    """

    def __init__(self, bus: RabbitBus) -> None:
        self.bus = bus
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._published = 0
        self._unconfirmed: set[int] = set()
        self._refused: set[int] = set()

    def publish(self, partition: int, body: bytes, message_id: str) -> None:
        """Publish to a partition and wait for the broker's confirm; raise BusError otherwise."""
        self.publish_batch([(partition, body, message_id)])

    def publish_batch(self, messages: Sequence[tuple[int, bytes, str]]) -> None:
        """Publish (partition, body, message id) messages; return once the broker confirmed them all. An empty
        batch (a feed read that took in nothing) keeps the connection alive."""
        if not messages:
            self._keep_alive()
            return
        try:
            connection, channel = self._open()
            tags = []
            for partition, body, message_id in messages:
                channel.basic_publish("", self.bus.queue(partition), body, pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json",
                    message_id=message_id, headers={PUBLISHED_HEADER: time.time_ns()}))
                self._published += 1
                self._unconfirmed.add(self._published)
                tags.append(self._published)
            deadline = time.monotonic() + CONFIRM_TIMEOUT_S
            while self._unconfirmed.intersection(tags):
                if time.monotonic() > deadline:
                    raise BusError(f"RabbitMQ did not confirm {len(messages)} messages within {CONFIRM_TIMEOUT_S} s")
                connection.process_data_events(time_limit=0.01)
            refused = self._refused.intersection(tags)
            if refused:
                self._refused.difference_update(refused)
                raise BusError(f"RabbitMQ refused {len(refused)} of {len(messages)} messages (nack)")
        except LINK_ERRORS as error:
            self.close()
            raise BusError(f"lost RabbitMQ while publishing {len(messages)} messages: {error!r}") from error

    def _keep_alive(self) -> None:
        """Let an idle connection send and answer heartbeats (a blocking connection does only while it is
        driven): left alone past two heartbeats the broker closed it, and the next publish failed, so a feed's
        first read after ~30 s without events was lost and read again a second or more later."""
        if self._connection is None or not self._connection.is_open:
            return
        try:
            self._connection.process_data_events(time_limit=0)
        except LINK_ERRORS:
            self.close()  # the next publish connects afresh

    def close(self) -> None:
        """Close the connection."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(*LINK_ERRORS):
                connection.close()

    def _open(self) -> tuple[pika.BlockingConnection, Any]:
        if self._channel is None or self._connection is None or self._connection.is_closed:
            self._connection = _connect(self.bus.url, f"{self.bus.prefix}:publisher")
            self._channel = self._connection.channel()
            self._published, self._unconfirmed, self._refused = 0, set(), set()
            ready: list[bool] = []
            # The asynchronous channel under the blocking one: confirms arrive as callbacks.
            self._channel._impl.confirm_delivery(self._on_confirm, lambda _frame: ready.append(True))
            while not ready:
                self._connection.process_data_events(time_limit=0.05)
        return self._connection, self._channel._impl

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tags = ({tag for tag in self._unconfirmed if tag <= method.delivery_tag} if method.multiple
                else {method.delivery_tag})
        self._unconfirmed.difference_update(tags)
        if isinstance(method, pika.spec.Basic.Nack):
            self._refused.update(tags)


class RabbitConsumer(Consumer):
    """A consumer session: one connection and channel, driven by the thread that calls `run`."""

    def __init__(self, bus: RabbitBus) -> None:
        self.bus = bus
        self._connection = _connect(bus.url, f"{bus.prefix}:consumer")
        self._channel = self._connection.channel()
        self._channel.basic_qos(prefetch_count=bus.prefetch)
        self._tags: dict[int, str] = {}
        self._unacked: set[int] = set()
        """Delivery tags given to the worker and not acked yet (consumer thread only)."""
        self._finished: dict[int, float] = {}
        """Delivery tags the worker finished (and when: perf_counter), waiting for the consumer thread to ack them."""
        self._finished_lock = threading.Lock()

    def subscribe(self, partition: int, on_message: OnMessage) -> None:
        """Start consuming a partition's queue (active once it is first in line)."""
        def deliver(channel: BlockingChannel, method: Any, properties: Any, body: bytes) -> None:
            stamp = (properties.headers or {}).get(PUBLISHED_HEADER)
            self.bus.timings.delivered(stamp if isinstance(stamp, int) else None)
            self._unacked.add(method.delivery_tag)
            on_message(partition, body, functools.partial(self._ack, method.delivery_tag))

        try:
            self._tags[partition] = self._channel.basic_consume(self.bus.queue(partition), deliver)
        except LINK_ERRORS as error:
            raise BusError(f"cannot consume {self.bus.queue(partition)}: {error!r}") from error

    def unsubscribe(self, partition: int) -> None:
        """Cancel the partition's consumer."""
        tag = self._tags.pop(partition, None)
        if tag is not None:
            try:
                self._channel.basic_cancel(tag)
            except LINK_ERRORS as error:
                raise BusError(f"cannot cancel {self.bus.queue(partition)}: {error!r}") from error

    def run(self, time_limit_s: float) -> None:
        """Process the connection's I/O (deliveries, acks, heartbeats) for up to `time_limit_s`."""
        try:
            self._connection.process_data_events(time_limit=time_limit_s)
        except LINK_ERRORS as error:
            raise BusError(f"lost RabbitMQ: {error!r}") from error

    def close(self) -> None:
        """Carry out the acks already given, then close (unacked messages return to their queues)."""
        if self._connection.is_open:
            with contextlib.suppress(*LINK_ERRORS):
                self._connection.process_data_events(time_limit=0)
                self._connection.close()

    def _ack(self, delivery_tag: int) -> None:
        with self._finished_lock:
            self._finished[delivery_tag] = time.perf_counter()
            if len(self._finished) > 1:
                return  # the consumer thread is already asked to ack what has finished
        # When the link is gone the broker delivers the message again, and tracking skips it.
        with contextlib.suppress(*LINK_ERRORS):
            self._connection.add_callback_threadsafe(self._ack_finished)

    def _ack_finished(self) -> None:
        """Ack what has finished (on the consumer thread): the oldest run at once, the rest one by one."""
        started = time.perf_counter()
        with self._finished_lock:
            finished_at, self._finished = self._finished, {}
        finished = finished_at.keys() & self._unacked
        if not finished or not self._channel.is_open:
            return
        running = self._unacked - finished
        oldest_running = min(running) if running else None
        run = [tag for tag in finished if oldest_running is None or tag < oldest_running]
        if run:
            self._channel.basic_ack(max(run), multiple=True)
        for tag in finished.difference(run):
            self._channel.basic_ack(tag)
        self._unacked -= finished
        acked_at = time.perf_counter()
        self.bus.timings.acked([acked_at - finished_at[tag] for tag in finished], acked_at - started)
