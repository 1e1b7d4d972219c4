"""The distributed engine on RabbitMQ + PostgreSQL: workers share the partitions, and a worker killed
at any instant (SIGKILL), or its broker link dropped, loses and duplicates nothing."""

from __future__ import annotations

import random
import signal
import threading
import time

import pytest

from syncengine.ledger.records import DeadLetter, ExceptionItem
from syncengine.runtime.distributed import EngineStatus
from tests.integration.distributed_engine import Deployment, close_connections
from tests.integration.live_firm import Firm, eventually

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _staffed_project(firm: Firm, engine: Deployment, name: str) -> tuple[str, str]:
    opportunity_id = firm.win_deal(name)
    project = eventually(lambda: firm.project_of(opportunity_id), timeout_s=30)
    return project["id"], firm.staff(project["id"], worker=f"WRK-{abs(hash(name)) % 999999:06d}")


SETTLE_S = 5.0
"""How long the ERP may take to show every entry billed once after the engine has settled (`Settling`). Before
settling waited for every feed to be read since the quiet began, and counted only live workers' heartbeats,
a worker restarted after a SIGKILL under CPU load was reported idle before it had read the last approvals
(up to 4 of 30 unbilled at that moment, billed once seconds later); this margin is for the ERP's own
answer, not for that. A lost entry stays at 0, a duplicate at 2."""


def _billed_once(firm: Firm, entries: list[str], engine: Deployment | None = None) -> None:
    deadline = time.monotonic() + SETTLE_S
    while True:
        counts = firm.transactions_by_entry()
        wrong = {entry: counts.get(entry, 0) for entry in entries if counts.get(entry, 0) != 1}
        if not wrong or any(count > 1 for count in wrong.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not wrong, f"{len(wrong)} of {len(entries)} entries not billed once: {wrong}; " + (
        f"{engine.status()}\n{engine.log_tail()}" if engine else "")


def _problems(status: EngineStatus, project_id: str) -> list[tuple[str, str, str]]:
    # The systems outlive each test's engine: a fresh ledger meets earlier tests' projects as unknown.
    items: list[ExceptionItem | DeadLetter] = [*status.exceptions, *status.dead_letters]
    return [(item.message_id, item.reason, item.detail) for item in items if item.key == f"project:{project_id}"]


def test_two_workers_share_the_partitions_and_bill_each_approval_once(firm: Firm, engine: Deployment) -> None:
    engine.start_worker()
    engine.start_worker()
    project_id, worker = _staffed_project(firm, engine, "Contoso Two Workers")
    entries = firm.approve_time(project_id, worker, 24)
    status = engine.wait_idle()
    _billed_once(firm, entries, engine)
    assert status.workers == 2 and status.queue_depth == 0 and status.in_flight == 0
    assert _problems(status, project_id) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_worker_killed_at_a_random_instant_loses_and_duplicates_nothing(
        firm: Firm, engine: Deployment, seed: int) -> None:
    rng = random.Random(seed)
    victim = engine.start_worker()
    project_id, worker = _staffed_project(firm, engine, f"Fabrikam Crash {seed}")
    entries: list[str] = []
    producer = threading.Thread(target=lambda: entries.extend(firm.approve_time(project_id, worker, 30)))
    producer.start()
    time.sleep(rng.uniform(0.2, 2.5))
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    if rng.random() < 0.5:
        engine.start_worker()  # another worker takes over
    else:
        time.sleep(rng.uniform(0.0, 1.0))
        engine.start_worker()  # the same one comes back, later
    producer.join()
    status = engine.wait_idle(timeout_s=40)
    _billed_once(firm, entries, engine)
    assert _problems(status, project_id) == []


def test_a_dropped_broker_link_mid_run_loses_nothing(firm: Firm, engine: Deployment) -> None:
    engine.start_worker()
    project_id, worker = _staffed_project(firm, engine, "Tailspin Broker Drop")
    entries: list[str] = []
    producer = threading.Thread(target=lambda: entries.extend(firm.approve_time(project_id, worker, 30)))
    producer.start()
    time.sleep(1.0)
    assert close_connections(engine.prefix) >= 1
    producer.join()
    engine.wait_idle(timeout_s=40)
    _billed_once(firm, entries, engine)
    assert all(process.poll() is None for process in engine.workers), engine.log_tail()
