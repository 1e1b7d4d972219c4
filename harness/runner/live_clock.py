"""The live run's one clock: the scenario's time at `speed` times the wall, never ahead of the firm.

The systems and the embedded engine read a `PacedClock`: a `ScaledClock` held back to the firm's
horizon (the instant of the firm's next scheduled step). While the firm keeps up, the clock is the
scaled wall; when a busy moment makes the firm late (the real-time environment is not strict), the
clock waits for it, so a record a person enters on Friday afternoon is not stamped next Tuesday by a
system whose clock raced ahead. After the firm's period, `release()` lets the clock run free from
where it stands (the engine's retries and the systems' webhooks go on while the run drains).
Engine worker processes follow the same clock through a `ClockFile`.
"""

from __future__ import annotations

import math
import os
import struct
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

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


CLOCK_RECORD = struct.Struct("<dd")
"""What a clock file holds: the clock's simulated seconds since its epoch, twice (a reader that sees two
different values caught a write half done, and reads again)."""


class ClockFile:
    """Publish a clock to engine processes of their own: its elapsed seconds, written to a file every
    `interval_s` (`firmsim engine worker --clock-file` reads it), so their clock waits for a late firm too."""

    def __init__(self, clock: PacedClock, path: Path, interval_s: float = 0.005) -> None:
        self.clock = clock
        self.path = path
        self.interval_s = interval_s
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self._write()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clock-file", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        elapsed = self.clock.elapsed()
        os.pwrite(self._fd, CLOCK_RECORD.pack(elapsed, elapsed), 0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._write()

    def close(self) -> None:
        """Stop writing (the file stays with its last reading)."""
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._fd)


class FollowedClock:
    """The clock a `ClockFile` publishes, read in another process: `epoch` plus the file's elapsed seconds
    (at most `interval_s` of wall time stale, never ahead of the clock it follows)."""

    def __init__(self, epoch: datetime, path: Path) -> None:
        if epoch.tzinfo is None:
            raise ValueError("FollowedClock needs an aware epoch")
        self.epoch = epoch
        self._fd = os.open(path, os.O_RDONLY)

    def elapsed(self) -> float:
        """Return the followed clock's simulated seconds since the epoch."""
        while True:
            first, second = CLOCK_RECORD.unpack(os.pread(self._fd, CLOCK_RECORD.size, 0))
            if first == second:
                return float(first)

    def now(self) -> datetime:
        """Return the followed clock's instant."""
        return self.epoch + timedelta(seconds=self.elapsed())

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)
