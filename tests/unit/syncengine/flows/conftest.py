"""Fixtures of the money-flow tests: a world of the four systems and the engine's money flows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.runner.world import World
from tests.unit.syncengine.flows.test_money_world import assert_conformant, money_world


@pytest.fixture
def world() -> Iterator[World]:
    """Systems and an engine with the deal and money flows; every response must have met the spec."""
    world = money_world()
    yield world
    assert_conformant(world)
