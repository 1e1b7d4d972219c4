"""The RabbitMQ bus (quorum queues, single active consumer, confirms) passes the bus contract."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

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
