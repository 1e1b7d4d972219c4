"""A distributed worker starting while its PostgreSQL sessions are cut starts again instead of exiting."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from syncengine.adapters.clock import SystemClock
from syncengine.runtime.coordination import CoordinationError, PgCoordinator
from syncengine.runtime.distributed import build_worker

pytestmark = pytest.mark.services


@pytest.fixture
def name(postgres_url: str) -> Iterator[str]:
    """Return a queue prefix and schema name of this test's own, dropped afterwards."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def test_a_worker_whose_coordination_session_is_cut_while_it_starts_starts_again(
        rabbitmq_url: str, postgres_url: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cuts: list[str] = []
    exclusive = PgCoordinator.exclusive

    def cut_once(self: PgCoordinator, lock: str) -> AbstractContextManager[Any]:
        if not cuts:
            cuts.append(lock)
            raise CoordinationError("lost the coordination session: AdminShutdown")
        return exclusive(self, lock)

    monkeypatch.setattr(PgCoordinator, "exclusive", cut_once)
    worker = build_worker(f"{rabbitmq_url}?prefix=firmsim.{name}", f"{postgres_url}?schema={name}", {},
                          token="firmsim-dev-token", clock=SystemClock(), flows=(), partitions=1)
    try:
        assert cuts == ["create-ledger"]
        assert worker.engine.ports.ledger.cursor("psa") is None, "its ledger is open on the second start"
        assert worker.coordinator.try_own("intake:psa")
    finally:
        worker.coordinator.close()
        worker.engine.ports.ledger.close()
        worker.bus.delete()  # type: ignore[attr-defined]
        worker.bus.close()
