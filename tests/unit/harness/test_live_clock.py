"""The live run's paced clock: the scaled wall clock, never ahead of the firm's next step until released."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness.runner.live_clock import ClockFile, FollowedClock, PacedClock, PacedEnvironment
from simulators.common.clock import ScaledClock

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SPEED = 86400.0  # a simulated day per real second


def paced(origin_ago_s: float) -> tuple[PacedClock, PacedEnvironment]:
    env = PacedEnvironment(factor=1 / SPEED)
    return PacedClock(ScaledClock(EPOCH, SPEED, time.time() - origin_ago_s), env), env


def test_the_clock_waits_at_the_firms_next_step_when_the_firm_runs_late() -> None:
    clock, env = paced(origin_ago_s=10.0)  # the wall says day 10; the firm has not stepped yet
    env.timeout(0.0)
    env.timeout(3600.0)
    env.step()  # the firm's first step (time 0) is done; its next one is at 01:00
    assert clock.now() == EPOCH + timedelta(hours=1)
    assert clock.lateness() > 9 * SPEED


def test_the_clock_follows_the_scaled_wall_while_the_firm_keeps_up() -> None:
    clock, env = paced(origin_ago_s=0.5)
    env.timeout(0.0)
    env.timeout(30 * 86400.0)
    env.step()
    elapsed = (clock.now() - EPOCH).total_seconds()
    assert 0.5 * SPEED <= elapsed < 5 * SPEED


def test_a_released_clock_runs_on_from_where_it_stood_and_never_goes_back() -> None:
    clock, env = paced(origin_ago_s=10.0)
    env.timeout(0.0)
    env.timeout(60.0)
    env.step()
    held = clock.now()
    clock.release()
    time.sleep(0.02)
    assert held < clock.now() < held + timedelta(days=2)
    readings = [clock.now() for _ in range(50)]
    assert readings == sorted(readings)


def test_an_engine_process_following_the_clock_file_waits_for_a_late_firm_too(tmp_path: Path) -> None:
    clock, env = paced(origin_ago_s=10.0)  # the wall says day 10, the firm's next step is at 01:00
    env.timeout(0.0)
    env.timeout(3600.0)
    env.step()
    published = ClockFile(clock, tmp_path / "clock.bin", interval_s=0.001)
    followed = FollowedClock(EPOCH, tmp_path / "clock.bin")
    try:
        assert followed.now() == EPOCH + timedelta(hours=1)  # not day 10, as a scaled wall of its own would say
        env.step()  # the firm takes its 01:00 step; its next is far ahead, so the clock catches up with the wall
        deadline = time.monotonic() + 5
        while followed.now() <= EPOCH + timedelta(hours=1) and time.monotonic() < deadline:
            time.sleep(0.001)
        assert EPOCH + timedelta(days=10) <= followed.now() <= clock.now()
    finally:
        published.close()
        followed.close()
