"""Which workers' heartbeats count: only those of a worker alive now, written since its session began. A
killed worker's last row stays fresh for a few seconds and says what it had in hand then; counting it
reported the engine idle before a successor had taken the feeds over and read them. And the ledger's
planner statistics, which the workers refresh as its tables grow."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from syncengine.ledger.postgres import PostgresLedger
from syncengine.runtime.coordination import PgCoordinator, WorkerStatus, live_workers

pytestmark = pytest.mark.services

NAMESPACE = "liveness"


def _idle_status(worker: str) -> WorkerStatus:
    """A heartbeat saying: every feed owned and read, nothing in flight."""
    return WorkerStatus(worker, partitions=4, owned=4, in_flight=0, backing_off=0, unread=0, systems=4,
                        intake_owned=4)


@pytest.fixture
def store(postgres_url: str, schema: str) -> str:
    return f"{postgres_url}?schema={schema}"


@pytest.fixture
def coordinators() -> Iterator[list[PgCoordinator]]:
    opened: list[PgCoordinator] = []
    yield opened
    for coordinator in reversed(opened):  # a killed one reconnects to close: after its successor has left
        coordinator.close()


def _kill_session(postgres_url: str, worker: str) -> None:
    """End a worker's coordination session as a SIGKILL of its process would: its row stays behind."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        killed = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s",
            (f"firmsim-worker:{NAMESPACE}:{worker}",)).fetchall()
    assert killed == [(True,)]


def test_a_killed_workers_fresh_heartbeat_does_not_count(
        postgres_url: str, store: str, coordinators: list[PgCoordinator]) -> None:
    for worker in ("victim", "survivor"):
        coordinator = PgCoordinator(store, NAMESPACE, worker)
        coordinators.append(coordinator)
        coordinator.report(_idle_status(worker))
    assert [status.worker for status in live_workers(store, NAMESPACE)] == ["survivor", "victim"]

    _kill_session(postgres_url, "victim")

    assert [status.worker for status in live_workers(store, NAMESPACE)] == ["survivor"]


def test_a_worker_back_under_its_old_name_counts_once_it_has_written_a_heartbeat(
        postgres_url: str, store: str, coordinators: list[PgCoordinator]) -> None:
    first = PgCoordinator(store, NAMESPACE, "worker-a")
    coordinators.append(first)
    first.report(_idle_status("worker-a"))
    _kill_session(postgres_url, "worker-a")

    again = PgCoordinator(store, NAMESPACE, "worker-a")  # holds the membership lock, has not reported yet
    coordinators.append(again)
    assert live_workers(store, NAMESPACE) == [], "the row is the dead session's, written before this one began"

    again.report(WorkerStatus("worker-a", 4, 0, 0, 0, 2, 4, 2))
    assert [(status.unread, status.intake_owned) for status in live_workers(store, NAMESPACE)] == [(2, 2)]


def test_a_ledger_table_that_has_doubled_is_analyzed_once(
        postgres_url: str, store: str, schema: str, coordinators: list[PgCoordinator]) -> None:
    PostgresLedger(postgres_url, schema=schema).close()  # the ledger's tables, empty
    coordinator = PgCoordinator(store, NAMESPACE, "analyst")
    coordinators.append(coordinator)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"INSERT INTO {schema}.xref SELECT 'transaction', 'erp', 'BTX-' || n, 'time:' || n "
                           "FROM generate_series(1, 1500) n")
    analyzed: list[str] = []
    deadline = time.monotonic() + 10  # the statistics system counts the rows within a second or so
    while not analyzed and time.monotonic() < deadline:
        analyzed = coordinator.refresh_statistics()
        time.sleep(0.2)
    assert analyzed == ["xref"]
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        [(analyzed_at,)] = connection.execute("SELECT last_analyze FROM pg_stat_user_tables "
                                              "WHERE schemaname = %s AND relname = 'xref'", (schema,)).fetchall()
    assert analyzed_at is not None
    assert coordinator.refresh_statistics() == [], "not again until it has doubled"
