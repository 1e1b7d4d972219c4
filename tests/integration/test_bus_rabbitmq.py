"""The RabbitMQ bus (quorum queues, single active consumer, confirms) passes the bus contract."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from syncengine.adapters.bus import rabbitmq
from syncengine.adapters.bus.port import BusError
from syncengine.adapters.bus.rabbitmq import RabbitBus
from tests.unit.syncengine.bus_contract import BusContract

pytestmark = pytest.mark.services


class TestRabbitBus(BusContract):
    @pytest.fixture(autouse=True)
    def _bus(self, rabbitmq_url: str) -> Iterator[None]:
        self.bus = RabbitBus(rabbitmq_url, partitions=2, prefix=f"firmsim.test.{uuid.uuid4().hex[:8]}")
        self.bus.declare()
        yield
        self.bus.delete()
        self.bus.close()


def test_an_unreachable_broker_is_one_clear_error() -> None:
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/", partitions=1)
    with pytest.raises(BusError, match=r"cannot reach RabbitMQ at amqp://127\.0\.0\.1:1/"):
        bus.declare()


def test_a_publisher_that_publishes_nothing_for_a_while_keeps_its_connection(
        rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rabbitmq, "HEARTBEAT_S", 1)  # the broker closes a connection silent for ~2 s
    prefix = f"firmsim.test.{uuid.uuid4().hex[:8]}"
    setup = RabbitBus(rabbitmq_url, partitions=1, prefix=prefix)
    setup.declare()
    setup.close()
    publisher = RabbitBus(rabbitmq_url, partitions=1, prefix=prefix).publisher()
    try:
        publisher.publish_batch([(0, b'{"n": 1}', "m1")])
        for _ in range(12):  # an intake whose feed is quiet: an empty batch every read
            publisher.publish_batch([])
            time.sleep(0.5)
        publisher.publish_batch([(0, b'{"n": 2}', "m2")])  # raised BusError (connection reset by the broker)
    finally:
        publisher.close()
        check = RabbitBus(rabbitmq_url, partitions=1, prefix=prefix)
        published = check.depth()
        check.delete()
        check.close()
    assert published == 2


def test_the_queue_depth_can_be_read_any_number_of_times(rabbitmq_url: str) -> None:
    # The harness reads it several times a second; each read used to leave a channel open, and a
    # connection allows 2,047 (NoFreeChannels after 2,046 reads).
    bus = RabbitBus(rabbitmq_url, partitions=2, prefix=f"firmsim.test.{uuid.uuid4().hex[:8]}")
    try:
        bus.declare()
        assert all(bus.depth() == 0 for _ in range(2100))
    finally:
        bus.delete()
        bus.close()


def test_an_idle_administrative_connection_closed_by_the_broker_is_reopened(
        rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rabbitmq, "HEARTBEAT_S", 1)  # the broker closes a connection silent for ~2 s
    bus = RabbitBus(rabbitmq_url, partitions=1, prefix=f"firmsim.test.{uuid.uuid4().hex[:8]}")
    try:
        bus.declare()
        assert bus.depth() == 0
        time.sleep(4)  # the harness between two reads, busy elsewhere: no heartbeat sent
        assert bus.depth() == 0  # raised StreamLostError (connection reset by peer)
    finally:
        bus.delete()
        bus.close()
