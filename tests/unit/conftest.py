"""Fixtures shared by the unit tests: a manual clock, and the system apps whose responses must meet the spec."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from simulators.common.app import context_of
from simulators.common.clock import ManualClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing at Monday 2 March 2026, 09:00 UTC."""
    return ManualClock(START)


def spec_checked(create_app: Callable[[dict[str, Any]], Flask], clock: ManualClock) -> Iterator[Flask]:
    """Yield a system app on the clock; at teardown, no response it gave may have broken its spec."""
    app = create_app({"VALIDATE_RESPONSES": True, "CLOCK": clock})
    yield app
    assert context_of(app).response_violations == []
