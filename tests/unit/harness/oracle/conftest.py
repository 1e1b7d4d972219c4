"""Fixtures of the oracle's tests: a consistent test firm to break one thing at a time."""

from __future__ import annotations

import pytest

from tests.unit.harness.oracle.world import World, consistent_world


@pytest.fixture
def world() -> World:
    """Return the test firm with every system consistent with truth."""
    return consistent_world()
