"""Clocks the engine can be given: the real one and a scaled one (live mode), a manual one (tests, tools)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The wall clock, for live mode only."""

    def now(self) -> datetime:
        """Return the wall-clock instant in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the clock's instant."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._now += timedelta(seconds=seconds)


class ScaledClock:
    """Wall-clock time scaled from an origin: now = epoch + (time.time() - origin) * speed (live mode)."""

    def __init__(self, epoch: datetime, speed: float = 1.0, origin: float | None = None) -> None:
        if epoch.tzinfo is None:
            raise ValueError("ScaledClock needs an aware epoch")
        if speed <= 0:
            raise ValueError("ScaledClock needs a speed > 0")
        self.epoch = epoch.astimezone(UTC)
        self.speed = speed
        self.origin = time.time() if origin is None else origin

    def now(self) -> datetime:
        """Return the epoch plus the scaled wall seconds since the origin."""
        return self.epoch + timedelta(seconds=(time.time() - self.origin) * self.speed)

    def wall_seconds(self, simulated_s: float) -> float:
        """Return how many wall seconds pass while `simulated_s` simulated seconds do."""
        return simulated_s / self.speed
