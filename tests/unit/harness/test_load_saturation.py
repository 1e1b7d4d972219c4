"""Saturation: a step the driver could not act out in time, and what limited a saturated step (the
machine, one process group's GIL, or waits)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from harness.load.driver import Phase, drive
from harness.load.engines import ENGINE_WORKERS
from harness.load.measure import CommitLog
from harness.load.run import limited_by

LOAD = "load process (systems, driver)"


def test_every_cpu_busy_is_the_machine_and_names_the_busiest_group() -> None:
    limit = limited_by({LOAD: 0.97, ENGINE_WORKERS: 0.81, "postgres": 0.12}, {LOAD: 1, ENGINE_WORKERS: 2}, cpus=2)

    assert limit["kind"] == "machine" and limit["group"] == LOAD
    assert limit["says"] == f"the machine's CPUs: 1.90 of 2 cores busy, 0.97 of them {LOAD}"


def test_a_load_process_held_to_one_core_is_the_load_generator_not_the_engine() -> None:
    limit = limited_by({LOAD: 0.96, ENGINE_WORKERS: 0.9, "postgres": 0.2}, {LOAD: 1, ENGINE_WORKERS: 4}, cpus=8)

    assert limit["kind"] == "process" and limit["group"] == LOAD
    assert limit["says"].endswith("the load generator and the systems, not the engine")


def test_workers_each_held_to_a_core_are_the_engine() -> None:
    limit = limited_by({LOAD: 0.4, ENGINE_WORKERS: 1.8}, {LOAD: 1, ENGINE_WORKERS: 2}, cpus=8)

    assert (limit["kind"], limit["group"]) == ("process", ENGINE_WORKERS)
    assert limit["says"] == f"{ENGINE_WORKERS}: 1.80 of 2 cores (one a Python process)"


def test_nothing_cpu_bound_is_waits() -> None:
    limit = limited_by({LOAD: 0.3, ENGINE_WORKERS: 0.5, "rabbitmq": 0.1}, {LOAD: 1, ENGINE_WORKERS: 2}, cpus=4)

    assert limit["kind"] == "waits" and limit["group"] is None
    assert "0.90 of 4 cores busy" in limit["says"]


class _Firm:
    """Acts out each action in `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sizes: dict[str, int] = {}
        self.actors = SimpleNamespace(calls=0)

    def pick(self) -> tuple[Any, ...]:
        return None, None, None, f"00-{'a' * 32}-{'b' * 16}-01"

    def act(self, kind: str, choice: Any, on_record: Any) -> None:
        time.sleep(self.seconds)


def _driven(seconds_per_action: float) -> Phase:
    phase = Phase("step", 40.0, time.perf_counter(), 0.5)
    arrivals = [(n / 80, "payment") for n in range(20)]  # 20 actions offered in the first quarter second
    return drive(_Firm(seconds_per_action), CommitLog(), phase, arrivals, clients=1)  # type: ignore[arg-type]


def test_a_phase_acted_out_late_counts_the_time_it_took_not_its_duration() -> None:
    phase = _driven(0.06)  # one client, 1.2 s of work for a half-second phase

    assert phase.completed_total == 20
    assert phase.acted_out_s >= 1.2


def test_a_phase_acted_out_on_time_takes_its_duration() -> None:
    phase = _driven(0.0)

    assert phase.completed_total == 20
    assert phase.acted_out_s == 0.5
