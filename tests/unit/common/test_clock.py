"""The scaled clock live mode gives the systems: the scenario's epoch, advancing `speed` times the wall."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from simulators.common.clock import ScaledClock, isoformat

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_scaled_clock_reads_the_epoch_plus_scaled_wall_time_since_its_origin() -> None:
    clock = ScaledClock(EPOCH, speed=3600.0, origin=time.time() - 2.0)
    elapsed = clock.now() - EPOCH
    assert timedelta(hours=2) <= elapsed < timedelta(hours=2, minutes=30)


def test_two_scaled_clocks_given_the_same_numbers_agree() -> None:
    origin = time.time()
    first, second = ScaledClock(EPOCH, 86400.0, origin), ScaledClock(EPOCH, 86400.0, origin)
    assert abs((second.now() - first.now()).total_seconds()) < 86400.0 * 0.05


def test_a_scaled_clock_moves_forward_and_stays_aware() -> None:
    clock = ScaledClock(EPOCH, 1000.0, time.time())
    before = clock.now()
    time.sleep(0.01)
    after = clock.now()
    assert after > before and after.tzinfo is not None


@pytest.mark.parametrize(("epoch", "speed"), [(datetime(2026, 1, 1), 1.0), (EPOCH, 0.0)])
def test_a_naive_epoch_or_a_speed_not_above_zero_is_refused(epoch: datetime, speed: float) -> None:
    with pytest.raises(ValueError, match="ScaledClock"):
        ScaledClock(epoch, speed, time.time())


def test_instants_are_formatted_in_utc_whatever_was_formatted_before() -> None:
    noon = datetime(2026, 3, 4, 12, 0, 5, 999_999, tzinfo=UTC)
    berlin = timezone(timedelta(hours=1))

    assert [isoformat(noon), isoformat(noon), isoformat(noon.astimezone(berlin)),
            isoformat(datetime(2026, 3, 4, 12, 0, 5, tzinfo=berlin)), isoformat(noon)] == [
        "2026-03-04T12:00:05Z", "2026-03-04T12:00:05Z", "2026-03-04T12:00:05Z", "2026-03-04T11:00:05Z",
        "2026-03-04T12:00:05Z"]
