"""When the distributed engine counts as settled: idle for the quiet period, then every worker heard from
and every feed found empty since the quiet began. Idle alone held while a busy worker had not yet read the
last events of a feed, or while a message just taken off the bus was not yet in any heartbeat."""

from __future__ import annotations

import pytest

from syncengine.runtime import distributed
from syncengine.runtime.distributed import EngineStatus, Settling, caught_up


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(distributed.time, "monotonic", clock.monotonic)
    return clock


def _status(idle: bool = True, drained: float | None = 0.1, heartbeat: float = 0.1) -> EngineStatus:
    return EngineStatus(idle, 0, 0, workers=1, drained_age_s=drained, heartbeat_age_s=heartbeat)


def _observe(settling: Settling, clock: Clock, status: EngineStatus, after_s: float = 0.2) -> bool:
    clock.now += after_s
    return settling.observe(lambda: status)


def test_caught_up_needs_every_feed_found_empty_and_every_worker_heard_from_within_the_window() -> None:
    assert caught_up(_status(drained=0.4, heartbeat=0.4), 0.5)
    assert not caught_up(_status(drained=0.6, heartbeat=0.1), 0.5)
    assert not caught_up(_status(drained=0.1, heartbeat=0.6), 0.5)
    assert not caught_up(_status(drained=None), 10.0), "a feed not found empty since it was taken over"


def test_idle_for_the_quiet_period_settles_once_the_feeds_were_read_since_it_began(clock: Clock) -> None:
    settling = Settling(quiet_s=1.0)
    # idle throughout, but the last empty read of a feed began before the quiet did (a busy worker)
    stale = [_observe(settling, clock, _status(drained=0.3 + 0.2 * step)) for step in range(10)]
    assert stale == [False] * 10
    assert _observe(settling, clock, _status(drained=0.3))


def test_a_heartbeat_from_before_the_quiet_does_not_settle_it(clock: Clock) -> None:
    settling = Settling(quiet_s=1.0)
    assert [_observe(settling, clock, _status(heartbeat=0.2 * step + 0.1)) for step in range(8)] == [False] * 8
    assert _observe(settling, clock, _status(heartbeat=0.1))


def test_a_status_that_is_not_idle_starts_the_quiet_again(clock: Clock) -> None:
    settling = Settling(quiet_s=1.0)
    seen = [_observe(settling, clock, _status()) for _ in range(4)]
    seen.append(_observe(settling, clock, _status(idle=False)))
    seen += [_observe(settling, clock, _status()) for _ in range(5)]
    assert seen == [False] * 10
    assert _observe(settling, clock, _status())


def test_the_worker_commands_poll_interval_is_the_engines() -> None:
    from harness.engine_worker import worker as command

    option = next(param for param in command.params if param.name == "poll_interval")
    assert option.default == distributed.WORKER_POLL_INTERVAL_S
