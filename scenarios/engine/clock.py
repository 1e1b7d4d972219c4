"""Virtual time: SimPy's `env.now` is seconds since the scenario's first instant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

SECOND = 1.0
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY


class SimClock:
    """A clock that reads a SimPy environment's virtual time."""

    def __init__(self, env: Any, start: datetime) -> None:
        self.env = env
        self.start = start
        self._read: tuple[float, datetime] = (0.0, start)

    def now(self) -> datetime:
        """Return the virtual instant."""
        seconds = float(self.env.now)
        read = self._read  # one tuple: a thread reading while another writes sees a matching pair
        if read[0] == seconds:  # read many times per virtual instant (every request, record and event)
            return read[1]
        instant = self.start + timedelta(seconds=seconds)
        self._read = (seconds, instant)
        return instant

    def today(self) -> date:
        """Return the virtual business date."""
        return self.now().date()

    def at(self, instant: datetime) -> float:
        """Return the virtual time (seconds) of an instant."""
        return (instant - self.start).total_seconds()

    def at_date(self, day: date, hour: float = 0.0) -> float:
        """Return the virtual time of an hour on a business date."""
        return (day - self.start.date()).days * DAY + hour * HOUR
