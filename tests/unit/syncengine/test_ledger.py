"""The ledger contract, run on each adapter."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from syncengine.ledger import AbstractLedger, InMemoryLedger, SqliteLedger, idempotency_key
from tests.unit.syncengine.ledger_contract import DurableLedgerContract, LedgerContract, tracking

R = TypeVar("R")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TestInMemoryLedger(LedgerContract):
    @pytest.fixture
    def ledger(self) -> InMemoryLedger:
        return InMemoryLedger()


class TestSqliteLedger(DurableLedgerContract):
    @pytest.fixture
    def ledger(self, tmp_path: Path) -> Iterator[SqliteLedger]:
        ledger = SqliteLedger(tmp_path / "ledger.db")
        self._opened = [ledger]
        yield ledger
        for opened in self._opened:
            opened.close()

    def reopen(self, ledger: AbstractLedger) -> AbstractLedger:
        assert isinstance(ledger, SqliteLedger)
        reopened = SqliteLedger(ledger.path)
        self._opened.append(reopened)
        return reopened

    def test_the_file_is_in_wal_mode(self, ledger: SqliteLedger) -> None:
        ledger.record_processed(tracking())
        assert Path(ledger.path + "-wal").exists()
        assert ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")

    def test_a_batch_tracking_lookup_searches_the_primary_key(self, ledger: SqliteLedger,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
        # a scan of the whole tracking table per batch made a year-long run quadratic
        ledger.record_processed(tracking())
        statements: list[tuple[str, tuple[object, ...]]] = []
        execute = ledger._execute

        def recording(sql: str, parameters: tuple[object, ...] = ()) -> object:
            statements.append((sql, parameters))
            return execute(sql, parameters)

        monkeypatch.setattr(ledger, "_execute", recording)
        keys = [("psa", "TE-000001", 1, "billing.handle_approved"), ("psa", "TE-000002", 1, "billing.handle_approved")]
        assert ledger.processed_among(keys) == {keys[0]}
        sql, parameters = next((sql, parameters) for sql, parameters in statements if "tracking" in sql)
        plan = " | ".join(str(row[-1]) for row in execute("EXPLAIN QUERY PLAN " + sql, parameters).fetchall())
        assert "SEARCH t USING COVERING INDEX" in plan and "SCAN t" not in plan, plan


def test_idempotency_keys_are_stable_and_specific() -> None:
    key = idempotency_key("psa", "TE-000001", 2, "billable-transaction")
    assert key == "fse-" + hashlib.sha256(b"psa\x1fTE-000001\x1f2\x1fbillable-transaction").hexdigest()
    others = {idempotency_key("psa", "TE-000001", 3, "billable-transaction"),
              idempotency_key("psa", "TE-000001", 2, "reversal"),
              idempotency_key("psa-legacy", "TE-000001", 2, "billable-transaction")}
    assert key not in others and len(others) == 3


def test_an_idempotency_key_needs_a_purpose() -> None:
    with pytest.raises(ValueError, match="purpose"):
        idempotency_key("psa", "TE-000001", 2, "")


def test_an_adapter_that_reruns_standalone_operations_reruns_them_though_its_base_does_not() -> None:
    """The memory ledger calls its operations without the `standalone` wrapper; a subclass that re-runs
    them (as the PostgreSQL ledger does) must still get every standalone operation through it."""

    class RerunningLedger(InMemoryLedger):
        def __init__(self) -> None:
            super().__init__()
            self.reruns = 0

        def _retry_standalone(self, operation: Callable[[], R]) -> R:
            self.reruns += 1
            return operation()

    rerunning = RerunningLedger()
    assert rerunning.record_received("psa", "psa-1", T0)
    assert rerunning.cursor("psa") is None
    assert rerunning.reruns == 2
    with rerunning.unit_of_work():  # inside a unit of work the operation is not its own: never re-run
        rerunning.record_received("psa", "psa-2", T0)
    assert rerunning.reruns == 2
    plain = InMemoryLedger()
    assert plain.record_received("psa", "psa-1", T0) and not plain.record_received("psa", "psa-1", T0)
