"""A distributed worker starting while its PostgreSQL sessions are cut starts again instead of exiting."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pytest

from syncengine.adapters.clock import SystemClock
from syncengine.runtime.coordination import CoordinationError, PgCoordinator
from syncengine.runtime.distributed import build_worker

pytestmark = pytest.mark.services


def test_a_worker_whose_coordination_session_is_cut_while_it_starts_starts_again(
        rabbitmq_url: str, postgres_url: str, schema: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cuts: list[str] = []
    exclusive = PgCoordinator.exclusive

    def cut_once(self: PgCoordinator, lock: str) -> AbstractContextManager[Any]:
        if not cuts:
            cuts.append(lock)
            raise CoordinationError("lost the coordination session: AdminShutdown")
        return exclusive(self, lock)

    monkeypatch.setattr(PgCoordinator, "exclusive", cut_once)
    worker = build_worker(f"{rabbitmq_url}?prefix=firmsim.{schema}", f"{postgres_url}?schema={schema}", {},
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
