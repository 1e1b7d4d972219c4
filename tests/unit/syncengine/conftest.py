"""Fixtures of the sync engine's unit tests: a clock and the toy system built on the shared pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from tests.unit.common.toy import create_app

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def toy(clock: ManualClock) -> Iterator[Flask]:
    app = create_app({"CLOCK": clock, "SYSTEM_NAME": "toy"})
    yield app
    assert context_of(app).response_violations == []


def add_fault(app: Flask, kind: str, start: datetime | None = None, duration: float | None = None,
              **params: object) -> None:
    """Schedule a fault on a system (from `start` for `duration` s, or always), through its admin API."""
    fault: dict[str, object] = {"kind": kind, "params": params}
    if start is not None:
        fault["start"] = start.isoformat()
    if duration is not None:
        fault["duration"] = duration
    response = app.test_client().post("/admin/faults", json=fault)
    assert response.status_code == 201, response.get_data(as_text=True)
