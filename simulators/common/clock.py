"""Clocks: every component reads "now" from a clock it is given, never from the wall."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tell the current instant (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, for `firmsim serve`."""

    def now(self) -> datetime:
        """Return the wall-clock instant in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulated time)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's instant."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def set(self, instant: datetime) -> None:
        """Jump to an instant."""
        with self._lock:
            self._now = instant.astimezone(UTC)


class ScaledClock:
    """A wall clock running `speed` times as fast from `epoch` (live mode: the scenario's clock).

    now = epoch + (time.time() - origin) * speed; `origin` is the unix time at which the clock read
    `epoch`, so several processes given the same three numbers agree.
    """

    def __init__(self, epoch: datetime, speed: float, origin: float) -> None:
        if epoch.tzinfo is None:
            raise ValueError("ScaledClock needs an aware epoch")
        if speed <= 0:
            raise ValueError("ScaledClock needs a speed > 0")
        self.epoch = epoch.astimezone(UTC)
        self.speed = speed
        self.origin = origin

    def now(self) -> datetime:
        """Return the epoch plus the scaled wall time since the origin."""
        return self.epoch + timedelta(seconds=(time.time() - self.origin) * self.speed)


_last_formatted: list[tuple[datetime, str]] = [(datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00Z")]


def isoformat(instant: datetime) -> str:
    """Format an instant as RFC 3339 with a `Z` suffix and no sub-second digits."""
    last = _last_formatted[0]  # one tuple: a thread reading while another writes sees a matching pair
    if last[0] is instant or (last[0] == instant and instant.tzinfo is not None):
        return last[1]  # a request stamps many records with one instant (the clock's very object, mostly)
    text = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_formatted[0] = (instant, text)
    return text
