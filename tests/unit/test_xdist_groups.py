"""The suite's xdist scheduler: every collected test runs once, and the groups that must stay whole do."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

from tests.xdist_groups import GroupScheduling

COLLECTION = [
    "tests/contract/test_consumer_deals.py::test_a_deal",
    "tests/contract/test_drift.py::test_drift",
    "tests/contract/test_pact_files.py::test_committed_pact_files",
    *["tests/fuzz/test_fuzz_hcm.py::test_every_operation_survives_fuzzing_with_every_check"] * 3,
    "tests/integration/test_bus_rabbitmq.py::test_a_partition",
    "tests/integration/test_postgres_ledger.py::test_a_unit_of_work",
    "tests/integration/test_distributed_faults.py::test_the_broker_restarted",
    "tests/unit/test_events_crm.py::test_an_event",
]


class Worker:
    """What a scheduler sees of an xdist worker: the tests it was sent, in order."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


def run(scheduling: type[LoadScopeScheduling]) -> list[Worker]:
    """Run the collection on two workers that finish each test they are sent, as xdist would."""
    config: Any = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True),
                                  getvalue=lambda name: {"tx": ["popen", "popen"]}[name])
    scheduler = scheduling(config, Producer("dsession", enabled=False))
    workers = [Worker("gw0"), Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
    for worker in workers:
        scheduler.add_node_collection(worker, COLLECTION)  # type: ignore[arg-type]
    scheduler.schedule()
    done = dict.fromkeys(workers, 0)
    while any(done[worker] < len(worker.sent) for worker in workers):
        for worker in workers:
            while done[worker] < len(worker.sent):
                scheduler.mark_test_complete(worker, worker.sent[done[worker]])  # type: ignore[arg-type]
                done[worker] += 1
    assert scheduler.tests_finished
    return workers


def test_every_collected_test_runs_once_even_when_node_ids_repeat() -> None:
    workers = run(GroupScheduling)
    assert sorted(index for worker in workers for index in worker.sent) == list(range(len(COLLECTION)))


def test_broker_tests_and_the_pact_tests_each_run_on_one_worker_in_collection_order() -> None:
    workers = run(GroupScheduling)
    for members in ([6, 8], [0, 2]):  # the broker's modules; a consumer test and test_pact_files
        holder = next(worker for worker in workers if members[0] in worker.sent)
        assert [index for index in holder.sent if index in members] == members
