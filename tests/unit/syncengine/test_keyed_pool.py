"""The keyed worker pool: one step of a key at a time, a key backing off holds no thread."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from syncengine.runtime.keyed_pool import KeyedWorkers


def test_each_key_runs_its_steps_in_order_and_never_two_at_once() -> None:
    pending = {f"k{n}": list(range(30)) for n in range(6)}
    seen: dict[str, list[int]] = defaultdict(list)
    running: set[str] = set()
    overlaps: list[str] = []
    lock = threading.Lock()

    def step(key: str) -> float | None:
        with lock:
            if key in running:
                overlaps.append(key)
            running.add(key)
            item = pending[key].pop(0) if pending[key] else None
        time.sleep(0.0005)
        with lock:
            running.discard(key)
            if item is None:
                return None
            seen[key].append(item)
        return 0.0

    pool = KeyedWorkers(step, workers=3)
    pool.start()
    for key in pending:
        for _ in range(3):
            pool.wake(key)
    deadline = time.monotonic() + 10
    while pool.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.stop()
    assert overlaps == []
    assert dict(seen) == {key: list(range(30)) for key in pending}


def test_a_key_backing_off_does_not_hold_up_the_others() -> None:
    done: list[str] = []
    attempts = {"failing": 0}

    def step(key: str) -> float | None:
        if key == "failing":
            attempts["failing"] += 1
            return 0.3 if attempts["failing"] < 3 else None
        if key in done:
            return None
        done.append(key)
        return 0.0

    pool = KeyedWorkers(step, workers=1)
    pool.start()
    pool.wake("failing")
    started = time.monotonic()
    for n in range(20):
        pool.wake(f"ok{n}")
    while len(done) < 20 and time.monotonic() - started < 5:
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    assert len(done) == 20 and elapsed < 0.3, elapsed
    while pool.busy and time.monotonic() - started < 5:
        time.sleep(0.01)
    pool.stop()
    assert attempts["failing"] == 3


def test_work_arriving_while_a_key_runs_is_not_lost() -> None:
    queue: list[int] = [1]
    taken: list[int] = []
    gate = threading.Event()

    def step(key: str) -> float | None:
        if not queue:
            gate.wait(1)
            return None
        taken.append(queue.pop(0))
        return 0.0

    pool = KeyedWorkers(step, workers=2)
    pool.start()
    pool.wake("k")
    time.sleep(0.05)
    queue.append(2)
    pool.wake("k")
    gate.set()
    deadline = time.monotonic() + 5
    while (pool.busy or len(taken) < 2) and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.stop()
    assert taken == [1, 2]


class _CountingCondition(threading.Condition):
    def __init__(self) -> None:
        super().__init__()
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def test_a_key_that_goes_on_is_taken_up_again_without_waking_another_thread() -> None:
    left = {"k": 5}
    ran_on: list[str] = []

    def step(key: str) -> float | None:
        ran_on.append(threading.current_thread().name)
        left[key] -= 1
        return 0.0 if left[key] > 0 else None

    pool = KeyedWorkers(step, workers=3)
    pool._cv = condition = _CountingCondition()  # type: ignore[assignment]
    pool.start()
    pool.wake("k")
    deadline = time.monotonic() + 10
    while pool.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    notified = condition.notified
    pool.stop()
    assert len(ran_on) == 5
    assert notified == 1, "only the wake woke a thread"
    assert len(set(ran_on)) == 1
