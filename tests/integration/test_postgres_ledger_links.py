"""PostgreSQL's one-statement `link_many`: what another worker linked is read, clashes link nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from syncengine.ledger.postgres import PostgresLedger
from syncengine.ledger.records import XrefConflict, XrefEntry

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _bt(external_id: str, canonical_key: str) -> XrefEntry:
    return XrefEntry("billable_transaction", "erp", external_id, canonical_key)


def _reversal(external_id: str, canonical_key: str) -> XrefEntry:
    return XrefEntry("reversal", "erp", external_id, canonical_key)


@pytest.fixture
def ledgers(postgres_url: str, schema: str) -> Iterator[tuple[PostgresLedger, PostgresLedger]]:
    """Two workers' ledgers on one schema: neither has seen what the other linked."""
    ledger, other = PostgresLedger(postgres_url, schema=schema), PostgresLedger(postgres_url, schema=schema)
    yield ledger, other
    ledger.close()
    other.close()


def test_a_batch_of_new_links_is_one_statement(ledgers: tuple[PostgresLedger, PostgresLedger]) -> None:
    ledger, _ = ledgers
    with ledger.unit_of_work():
        ledger.record_received_many("psa", ["psa-1"], NOW)  # the transaction has begun
        sent = ledger.statements
        ledger.link_many([_bt(f"BT-{n}", f"time:TE-{n}:1") for n in range(50)] + [_reversal("RV-1", "time:TE-1:1")])
        assert ledger.statements == sent + 1
    assert ledger.external_ids("billable_transaction", "erp", ["time:TE-7:1"]) == {"time:TE-7:1": "BT-7"}
    assert ledger.canonical_key("reversal", "erp", "RV-1") == "time:TE-1:1"


def test_links_another_worker_made_the_same_way_are_harmless(ledgers: tuple[PostgresLedger, PostgresLedger]) -> None:
    ledger, other = ledgers
    other.link_many([_bt("BT-1", "time:TE-1:1"), _reversal("RV-1", "time:TE-1:1")])
    ledger.link_many([_bt("BT-1", "time:TE-1:1"), _bt("BT-2", "time:TE-2:1"), _reversal("RV-1", "time:TE-1:1")])
    assert other.external_ids("billable_transaction", "erp", ["time:TE-1:1", "time:TE-2:1"]) == {
        "time:TE-1:1": "BT-1", "time:TE-2:1": "BT-2"}
    with ledger.unit_of_work():
        ledger.record_received_many("psa", ["psa-1"], NOW)
        sent = ledger.statements
        ledger.link_many([_bt("BT-2", "time:TE-2:1"), _reversal("RV-1", "time:TE-1:1")])  # all known: not asked
        assert ledger.statements == sent


@pytest.mark.parametrize(("clash", "message"), [
    (_reversal("RV-9", "time:TE-1:1"), "time:TE-1:1 already has erp reversal RV-1, not RV-9"),
    (_reversal("RV-1", "time:TE-5:1"), "erp reversal RV-1 is already linked to time:TE-1:1, not time:TE-5:1"),
], ids=["key-linked-to-another-id", "id-linked-to-another-key"])
def test_a_clash_with_another_workers_link_links_none_of_the_batch(
        ledgers: tuple[PostgresLedger, PostgresLedger], clash: XrefEntry, message: str) -> None:
    ledger, other = ledgers
    other.link_many([_reversal("RV-1", "time:TE-1:1")])
    with pytest.raises(XrefConflict, match=message):
        ledger.link_many([_bt("BT-1", "time:TE-1:1"), _bt("BT-2", "time:TE-2:1"), clash])
    assert other.external_ids("billable_transaction", "erp", ["time:TE-1:1", "time:TE-2:1"]) == {}
    assert other.canonical_key("reversal", "erp", clash.external_id) in (None, "time:TE-1:1")


def test_a_batch_clashing_within_itself_names_its_first_clash(ledgers: tuple[PostgresLedger, PostgresLedger]) -> None:
    ledger, other = ledgers
    other.link_many([_bt("BT-1", "time:TE-1:1")])
    with pytest.raises(XrefConflict, match="erp billable_transaction BT-1 is already linked to time:TE-1:1"):
        ledger.link_many([_bt("BT-1", "time:TE-9:1"), _reversal("RV-1", "time:TE-1:1"),
                          _reversal("RV-1", "time:TE-2:1")])
    with pytest.raises(XrefConflict, match="RV-1 is linked to two keys in one batch"):
        ledger.link_many([_reversal("RV-1", "time:TE-1:1"), _reversal("RV-1", "time:TE-2:1"),
                          _bt("BT-1", "time:TE-9:1")])

