"""The scaled clock: the epoch plus wall seconds since the origin, times the speed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from syncengine.adapters.clock import ScaledClock

EPOCH = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_a_day_per_second_reads_a_day_after_one_wall_second() -> None:
    clock = ScaledClock(EPOCH, 86400.0, origin=time.time() - 1.0)
    assert abs(clock.now() - (EPOCH + timedelta(days=1))) < timedelta(minutes=30)
    assert clock.wall_seconds(86400.0) == 1.0


def test_speed_one_is_real_time_and_naive_or_stopped_clocks_are_refused() -> None:
    clock = ScaledClock(EPOCH, 1.0)
    assert timedelta(0) <= clock.now() - EPOCH < timedelta(seconds=5)
    with pytest.raises(ValueError, match="aware"):
        ScaledClock(datetime(2026, 3, 2), 1.0)
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(EPOCH, 0.0)
