"""The virtual clock reads the SimPy environment's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import simpy

from scenarios.engine.clock import HOUR, SimClock

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_now_follows_virtual_time_however_often_it_is_read() -> None:
    env = simpy.Environment()
    clock = SimClock(env, START)
    readings = [clock.now(), clock.now()]
    env.run(until=1.5 * HOUR)
    readings += [clock.now(), clock.now()]
    env.run(until=2 * HOUR)
    readings.append(clock.now())

    assert readings == [START, START, START + timedelta(minutes=90), START + timedelta(minutes=90),
                        START + timedelta(hours=2)]
    assert clock.today() == START.date()
