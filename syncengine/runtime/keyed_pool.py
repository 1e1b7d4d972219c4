"""A bounded pool of threads running per-key steps: one step of a key at a time, keys in turn.

A key is woken when it gets work; a thread takes it and runs `step(key)`, which returns None when
the key has nothing more to do, 0 to go on, or a delay in seconds (a retry's backoff). A key
waiting out a backoff holds no thread, so one failing key never blocks the others, and a key's
steps never overlap, so its order holds.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

Step = Callable[[str], float | None]
ERROR_DELAY_S = 1.0


class KeyedWorkers:
    """Run `step(key)` for woken keys on `workers` threads, never two steps of one key at once."""

    def __init__(self, step: Step, *, workers: int = 4, name: str = "keyed") -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self._step = step
        self._size = workers
        self._name = name
        self._cv = threading.Condition()
        self._ready: deque[str] = deque()
        self._scheduled: set[str] = set()
        self._dirty: set[str] = set()
        self._waiting: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._running = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self.step_errors = 0

    def start(self) -> None:
        """Start the threads."""
        for index in range(self._size):
            thread = threading.Thread(target=self._loop, name=f"{self._name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Let running steps finish (within `timeout_s`) and stop the threads; queued keys stay queued."""
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def wake(self, key: str) -> None:
        """Tell the pool a key has work."""
        with self._cv:
            if key in self._scheduled:
                self._dirty.add(key)
                return
            self._scheduled.add(key)
            self._ready.append(key)
            self._cv.notify()

    @property
    def busy(self) -> bool:
        """Tell whether a key is running, ready or waiting out a backoff."""
        with self._cv:
            return bool(self._scheduled)

    @property
    def waiting(self) -> int:
        """Return how many keys wait out a backoff."""
        with self._cv:
            return len(self._waiting)

    def _take(self) -> str | None:
        with self._cv:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                while self._waiting and self._waiting[0][0] <= now:
                    _, _, key = heapq.heappop(self._waiting)
                    self._ready.append(key)
                if self._ready:
                    key = self._ready.popleft()
                    self._dirty.discard(key)
                    self._running += 1
                    return key
                timeout = self._waiting[0][0] - now if self._waiting else None
                self._cv.wait(timeout)

    def _loop(self) -> None:
        while (key := self._take()) is not None:
            try:
                delay = self._step(key)
            except Exception:  # a broken step (ledger down) retries; it must not kill the thread
                log.exception("step of key %s failed; retrying in %.1f s", key, ERROR_DELAY_S)
                self.step_errors += 1
                delay = ERROR_DELAY_S
            self._done(key, delay)

    def _done(self, key: str, delay: float | None) -> None:
        with self._cv:
            self._running -= 1
            if delay is None and key in self._dirty:
                delay = 0.0
            if delay is None:
                self._scheduled.discard(key)
            elif delay <= 0:
                # No thread woken for it: this one goes straight back to `_take` and takes a ready key itself
                # (waking another, only for it to race this one and find nothing, cost a handover each step).
                self._ready.append(key)
            else:
                heapq.heappush(self._waiting, (time.monotonic() + delay, next(self._order), key))
                self._cv.notify()
            self._dirty.discard(key)
