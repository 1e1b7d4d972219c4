"""The live run's one clock: the scenario's time at `speed` times the wall, never ahead of the firm.

The systems and the embedded engine read a `PacedClock`: a `ScaledClock` held back to the firm's
horizon (the instant of the firm's next scheduled step). While the firm keeps up, the clock is the
scaled wall; when a busy moment makes the firm late (the real-time environment is not strict), the
clock waits for it, so a record a person enters on Friday afternoon is not stamped next Tuesday by a
system whose clock raced ahead. After the firm's period, `release()` lets the clock run free from
where it stands (the engine's retries and the systems' webhooks go on while the run drains).
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta

import simpy.rt

from simulators.common.clock import ScaledClock


class PacedEnvironment(simpy.rt.RealtimeEnvironment):
    """A real-time environment that publishes its horizon: the time of its next scheduled step."""

    def __init__(self, factor: float) -> None:
        super().__init__(initial_time=0, factor=factor, strict=False)
        self.horizon = 0.0

    def step(self) -> None:
        """Process the next event, then move the horizon to the one after it."""
        try:
            super().step()
        finally:
            self.horizon = max(self.horizon, self.peek())


class PacedClock:
    """A scaled wall clock that never reads later than the firm's horizon (until released)."""

    def __init__(self, scaled: ScaledClock, env: PacedEnvironment) -> None:
        self.scaled = scaled
        self.env = env
        self._lock = threading.Lock()
        self._last = -math.inf
        self._released: tuple[float, float] | None = None

    @property
    def epoch(self) -> datetime:
        """Return the instant the clock reads at its origin (the firm's time 0)."""
        return self.scaled.epoch

    def elapsed(self) -> float:
        """Return the simulated seconds since the epoch, monotonic."""
        wall = (time.time() - self.scaled.origin) * self.scaled.speed
        if self._released is None:
            seconds = min(wall, self.env.horizon)
        else:
            at, since = self._released
            seconds = at + (time.time() - since) * self.scaled.speed
        with self._lock:
            self._last = max(self._last, seconds)
            return self._last

    def now(self) -> datetime:
        """Return the scenario's instant."""
        return self.scaled.epoch + timedelta(seconds=self.elapsed())

    def lateness(self) -> float:
        """Return how far (simulated seconds) the firm is behind the scaled wall."""
        return max(0.0, (time.time() - self.scaled.origin) * self.scaled.speed - float(self.env.now))

    def release(self) -> None:
        """Stop holding the clock to the firm: run on from here at the scaled speed."""
        at = self.elapsed()
        with self._lock:
            self._released = (at, time.time())
