"""The distributed engine through infrastructure faults: the RabbitMQ application restarted mid-run and
the workers' PostgreSQL sessions terminated again and again; nothing lost, nothing applied twice."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from syncengine.ledger.records import DeadLetter, ExceptionItem
from syncengine.runtime.distributed import EngineStatus, close_inspectors
from tests.integration.distributed_engine import (
    Deployment,
    broker_running,
    start_broker,
    stop_broker,
    terminate_backends,
)
from tests.integration.live_firm import Firm, eventually

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _staffed_project(firm: Firm, name: str) -> tuple[str, str]:
    opportunity_id = firm.win_deal(name)
    project = eventually(lambda: firm.project_of(opportunity_id), timeout_s=30)
    return project["id"], firm.staff(project["id"], worker=f"WRK-{abs(hash(name)) % 999999:06d}")


def _assert_billed_once(firm: Firm, entries: list[str], engine: Deployment) -> None:
    counts = firm.transactions_by_entry()
    wrong = {entry: counts.get(entry, 0) for entry in entries if counts.get(entry, 0) != 1}
    assert not wrong, f"{len(wrong)} of {len(entries)} entries not billed once: {wrong}\n{engine.log_tail()}"


def _problems(status: EngineStatus, project_id: str) -> list[tuple[str, str, str]]:
    items: list[ExceptionItem | DeadLetter] = [*status.exceptions, *status.dead_letters]
    return [(item.message_id, item.reason, item.detail) for item in items if item.key == f"project:{project_id}"]


def _wait_until_logged(engine: Deployment, text: str, workers: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum(text in path.read_text(errors="replace") for path in engine.logs.glob("worker-*.log")) >= workers:
            return
        time.sleep(0.2)
    raise AssertionError(f"not {workers} workers logged {text!r} within {timeout_s} s:\n{engine.log_tail()}")


def test_the_broker_restarted_mid_run_loses_and_duplicates_nothing(firm: Firm, engine: Deployment) -> None:
    if not broker_running():
        pytest.fail("RabbitMQ is not running before the test (rabbitmqctl await_startup failed)")
    engine.start_worker()
    engine.start_worker()
    project_id, worker = _staffed_project(firm, "Litware Broker Restart")
    entries: list[str] = []
    producer = threading.Thread(target=lambda: entries.extend(firm.approve_time(project_id, worker, 30)))
    producer.start()
    try:
        time.sleep(1.0)
        stop_broker()
        time.sleep(2.0)  # the workers see the broker gone: publishing, consuming and intake all fail
    finally:
        start_broker()  # even when the test fails, the broker is back for the tests after it
        producer.join(60)
    assert not producer.is_alive(), "the firm's approvals did not finish within 60 s"
    _wait_until_logged(engine, "bus link back", workers=2)  # both consume again
    entries += firm.approve_time(project_id, worker, 10, first_day=date(2026, 6, 1))  # after the restart
    close_inspectors()  # the harness's own broker connection died with the restart
    status = engine.wait_idle(timeout_s=60)
    _assert_billed_once(firm, entries, engine)
    assert _problems(status, project_id) == []
    assert all(process.poll() is None for process in engine.workers), engine.log_tail()
    assert broker_running()


def test_postgres_sessions_terminated_repeatedly_lose_and_duplicate_nothing(
        firm: Firm, engine: Deployment, postgres_url: str) -> None:
    engine.start_worker()
    engine.start_worker()
    project_id, worker = _staffed_project(firm, "Adatum Postgres Drops")
    entries: list[str] = []
    producer = threading.Thread(target=lambda: entries.extend(firm.approve_time(project_id, worker, 30)))
    producer.start()
    terminated = 0
    for _ in range(5):
        time.sleep(0.6)
        terminated += terminate_backends(postgres_url, engine.schema, engine.prefix)
    producer.join(60)
    assert not producer.is_alive(), "the firm's approvals did not finish within 60 s"
    assert terminated >= 5, f"only {terminated} of the engine's PostgreSQL sessions were terminated"
    close_inspectors()
    status = engine.wait_idle(timeout_s=60)
    _assert_billed_once(firm, entries, engine)
    assert _problems(status, project_id) == []
    assert all(process.poll() is None for process in engine.workers), engine.log_tail()
