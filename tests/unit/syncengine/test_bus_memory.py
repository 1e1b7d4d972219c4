"""The in-process bus passes the bus contract."""

from __future__ import annotations

import pytest

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.adapters.bus.port import partition_of
from tests.unit.syncengine.bus_contract import BusContract


class TestInProcessBus(BusContract):
    @pytest.fixture(autouse=True)
    def _bus(self) -> None:
        self.bus = InProcessBus(partitions=2)


def test_a_key_always_lands_on_the_same_partition() -> None:
    assert {partition_of("project:PRJ-1", 8) for _ in range(5)} == {partition_of("project:PRJ-1", 8)}
    assert len({partition_of(f"project:PRJ-{n}", 8) for n in range(200)}) == 8


def test_a_sub_key_lands_on_the_partition_of_the_key_it_refines() -> None:
    assert all(partition_of(f"project:PRJ-{n}/cost", 8) == partition_of(f"project:PRJ-{n}", 8) for n in range(50))
    assert partition_of("project:PRJ-1/cost/x", 8) == partition_of("project:PRJ-1", 8)
