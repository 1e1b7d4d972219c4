"""The bus port's behaviour, one abstract test case run against every adapter (no tests collected here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from syncengine.adapters.bus.port import AbstractBus, Ack, Consumer


def keep_and_ack(into: list[bytes]) -> Callable[[int, bytes, Ack], None]:
    """Return a handler that keeps each body and acks it."""

    def on_message(_partition: int, body: bytes, ack: Ack) -> None:
        into.append(body)
        ack()

    return on_message


def drain(consumer: Consumer, until: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Run a consumer until a condition holds."""
    deadline = time.monotonic() + timeout_s
    while not until() and time.monotonic() < deadline:
        consumer.run(0.05)
    assert until(), "the consumer did not get there in time"


class BusContract:
    """Every bus adapter passes these; a subclass gives `bus` (two partitions, empty)."""

    bus: AbstractBus

    def test_a_partition_delivers_in_publish_order_and_acked_messages_do_not_return(self) -> None:
        publisher = self.bus.publisher()
        for number in range(20):
            publisher.publish(0, f"m{number}".encode(), f"id-{number}")
        publisher.close()
        received: list[bytes] = []
        consumer = self.bus.consumer()
        consumer.subscribe(0, keep_and_ack(received))
        drain(consumer, lambda: len(received) == 20)
        consumer.close()
        assert received == [f"m{number}".encode() for number in range(20)]
        again: list[bytes] = []
        second = self.bus.consumer()
        second.subscribe(0, lambda _p, body, ack: again.append(body))
        second.run(0.3)
        second.close()
        assert again == []

    def test_unacked_messages_go_back_when_a_consumer_goes_and_the_next_one_gets_them(self) -> None:
        publisher = self.bus.publisher()
        for number in range(5):
            publisher.publish(1, f"m{number}".encode(), f"id-{number}")
        publisher.close()
        held: list[tuple[bytes, Ack]] = []
        first = self.bus.consumer()
        first.subscribe(1, lambda _p, body, ack: held.append((body, ack)))
        standby: list[bytes] = []
        second = self.bus.consumer()
        second.subscribe(1, keep_and_ack(standby))
        drain(first, lambda: len(held) == 5)
        second.run(0.3)
        assert standby == [], "a partition has one active consumer at a time"
        held[0][1]()  # the first message is done; the others die with their consumer
        first.run(0.2)
        first.close()
        drain(second, lambda: len(standby) == 4)
        second.close()
        assert standby == [f"m{number}".encode() for number in range(1, 5)]

    def test_acks_may_come_from_other_threads(self) -> None:
        publisher = self.bus.publisher()
        for number in range(10):
            publisher.publish(0, b"x", f"id-{number}")
        publisher.close()
        acked = threading.Event()
        count = [0]

        def on_message(_partition: int, _body: bytes, ack: Ack) -> None:
            def later() -> None:
                ack()
                count[0] += 1
                if count[0] == 10:
                    acked.set()

            threading.Thread(target=later).start()

        consumer = self.bus.consumer()
        consumer.subscribe(0, on_message)
        drain(consumer, acked.is_set)
        consumer.run(0.2)
        consumer.close()
        assert self.bus.depth() == 0

    def test_acks_out_of_order_ack_only_the_finished_messages(self) -> None:
        publisher = self.bus.publisher()
        for partition in (0, 1):
            for number in range(5):
                publisher.publish(partition, f"p{partition}m{number}".encode(), f"id-{partition}-{number}")
        publisher.close()
        held: dict[bytes, Ack] = {}
        first = self.bus.consumer()
        for partition in (0, 1):
            first.subscribe(partition, lambda _p, body, ack: held.__setitem__(body, ack))
        drain(first, lambda: len(held) == 10)
        finished = [b"p1m0", b"p0m2", b"p1m1", b"p1m2", b"p0m3", b"p1m3", b"p1m4"]  # p0's m0, m1, m4 still running
        worker = threading.Thread(target=lambda: [held[body]() for body in finished])
        worker.start()
        worker.join()
        first.run(0.3)
        first.close()
        again: list[bytes] = []
        second = self.bus.consumer()
        for partition in (0, 1):
            second.subscribe(partition, keep_and_ack(again))
        drain(second, lambda: len(again) >= 3)
        second.run(0.3)
        second.close()
        assert sorted(again) == [b"p0m0", b"p0m1", b"p0m4"]

    def test_each_delivery_is_timed_from_its_publish_stamp_and_each_ack_is_timed(self) -> None:
        publisher = self.bus.publisher()
        published_from = time.time()
        publisher.publish_batch([(0, f"m{number}".encode(), f"id-{number}") for number in range(3)])
        publisher.close()
        time.sleep(0.05)  # the messages wait on the bus at least this long
        received: list[bytes] = []
        consumer = self.bus.consumer()
        consumer.subscribe(0, keep_and_ack(received))
        drain(consumer, lambda: len(received) == 3)
        consumer.run(0.2)  # carry out the acks
        consumer.close()
        elapsed_us = (time.time() - published_from) * 1e6

        timings = self.bus.timings
        assert timings.delivery.get_total_count() == 3
        assert 50_000 <= timings.delivery.get_min_value() <= timings.delivery.get_max_value() <= elapsed_us * 1.01
        assert timings.ack.get_total_count() == 3
        assert timings.unstamped == 0 and timings.clock_skewed == 0

