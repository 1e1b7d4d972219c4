"""A message failing transiently is held by a worker only `hold_limit_s` (under the broker's consumer
timeout), then deferred to the ledger: acked, its key parked, retried by the workers, its retry budget
counted from its first failure even on another worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.adapters.clock import SystemClock
from syncengine.bootstrap import EngineConfig, bootstrap
from syncengine.domain import TransientFailure
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.retry import Backoff, RetryPolicy
from syncengine.runtime.coordination import SoloCoordinator
from syncengine.runtime.parking import KEY_PARKED, RETRY_DEFERRED
from syncengine.runtime.worker import DistributedWorker
from tests.unit.syncengine.test_engine import Steps, raw_event


def _worker(steps: Steps, bus: InProcessBus, ledger_path: Path, budget_s: float) -> DistributedWorker:
    policy = RetryPolicy(retry_budget_s=budget_s, backoff=Backoff(base_s=0.02, multiplier=2.0, cap_s=0.1))
    engine = bootstrap(EngineConfig(clock=SystemClock(), flows=(steps.flow(),), retry=policy, ledger="sqlite",
                                    ledger_path=ledger_path, park_on_exception=False, virtual_latency=False))
    worker = DistributedWorker(engine, bus, SoloCoordinator(), workers=2)
    worker.parking.hold_limit_s, worker.parking.sweep_s = 0.3, 0.05
    return worker


def _until(check: Callable[[], object], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting until {what}")


def _open(worker: DistributedWorker) -> list[ExceptionItem]:
    return worker.engine.ports.ledger.exceptions(ExceptionStatus.OPEN)


def test_a_message_held_too_long_is_deferred_acked_and_retried_from_the_ledger_until_it_goes_through(
        tmp_path: Path) -> None:
    steps, bus = Steps(), InProcessBus(partitions=1)
    worker = _worker(steps, bus, tmp_path / "ledger.db", budget_s=3600.0)
    steps.failing["A1"] = lambda: TransientFailure("service-unavailable", "down")
    worker.start()
    try:
        for sequence, (group, subject) in enumerate([("a", "A1"), ("a", "A2"), ("b", "B1")], start=1):
            worker.engine.submit("src", raw_event(sequence, group, subject))
        _until(lambda: [item.reason for item in _open(worker)] == [RETRY_DEFERRED, KEY_PARKED],
               "A1 is deferred and A2 parked behind it")
        _until(lambda: bus.depth() == 0 and worker.status().in_flight == 0, "the bus messages are acked")
        assert [subject for _, subject in steps.handled] == ["B1"]
        steps.failing.clear()  # the system is back
        _until(lambda: _open(worker) == [], "the workers retry A1 from the ledger and release A2")
    finally:
        worker.stop()
    assert [subject for _, subject in steps.handled] == ["B1", "A1", "A2"]


def test_the_retry_budget_of_a_deferred_message_counts_from_its_first_failure_on_another_worker(
        tmp_path: Path) -> None:
    steps, bus, budget_s = Steps(), InProcessBus(partitions=1), 3.0
    steps.failing["A1"] = lambda: TransientFailure("service-unavailable", "down for good")
    first = _worker(steps, bus, tmp_path / "ledger.db", budget_s)
    first.start()
    try:
        started = time.monotonic()
        first.engine.submit("src", raw_event(1, "a", "A1"))
        _until(lambda: [item.reason for item in _open(first)] == [RETRY_DEFERRED], "A1 is deferred")
        time.sleep(max(0.0, started + 2.0 - time.monotonic()))  # 2 of its 3 s spent on this worker
    finally:
        first.stop()
    second = _worker(steps, bus, tmp_path / "ledger.db", budget_s)  # a fresh dispatcher: nothing in memory
    second.start()
    try:
        _until(lambda: [item.reason for item in _open(second)] == ["retries-exhausted"],
               "A1 runs out of its retry budget")
        exhausted_after_s = time.monotonic() - started
    finally:
        second.stop()
    assert steps.handled == []
    assert budget_s - 0.2 <= exhausted_after_s < budget_s + 1.5, (
        f"the budget of {budget_s} s ran out {exhausted_after_s:.2f} s after the first failure: it restarted")
