"""What the ledger contract tests share: an instant, records to put in a ledger, a failure to raise, a file's tables."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncengine.ledger import AbstractLedger, Tracking, XrefEntry

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def tracking(source_id: str = "TE-000001", version: int = 1, handler: str = "billing.handle_approved") -> Tracking:
    return Tracking("psa", source_id, version, handler, T0)


class Boom(Exception):
    pass


def record_exception(ledger: AbstractLedger, message_id: str = "psa:psa-000001/billing.h",
                     reason: str = "missing-tax-registration", now: datetime = T0) -> str:
    item = ledger.record_exception(flow="billing", key="project:PRJ-000001", message_id=message_id, reason=reason,
                                   detail="ACME has no VAT number", payload={"event": {"id": "psa-000001"}}, now=now)
    return item.id


def fill(ledger: AbstractLedger) -> None:
    """Put every kind of record in a ledger: tracking, received ids, links, exceptions and dead letters in each
    status, counters, cursors and applied versions."""
    ledger.record_processed_many([tracking(), tracking("TE-000002", version=2)])
    ledger.record_received_many("psa", ["psa-000001", "psa-000002"], T0)
    ledger.record_received("crm", "crm-000001", T0 + timedelta(minutes=5))
    ledger.link_many([XrefEntry("contract", "erp", "CON-000001", "deal:OPP-000001"),
                      XrefEntry("customer", "erp", "CUS-000001", "account:ACC-000001")])
    first = record_exception(ledger)
    second = record_exception(ledger, message_id="psa:psa-000002/billing.h")
    ledger.redrive_exception(first, T0 + timedelta(hours=1))
    record_exception(ledger, reason="invalid-dimension", now=T0 + timedelta(hours=2))  # reopens the first
    ledger.resolve_exception(second, T0 + timedelta(hours=3))
    for number in (1, 2):
        ledger.dead_letter(flow="intake", key="", message_id=f"psa:psa-00000{number}", reason="malformed-event",
                           detail="data must be an object", payload={"a": [number, "2"]}, now=T0)
    ledger.redrive_dead_letter("DLQ-000002")
    ledger.set_cursor("psa", "17")
    ledger.set_cursor("crm", "3")
    ledger.set_applied_versions({"contract:OPP-000001": 4, "project:PRJ-000001": 2})


def sqlite_tables(path: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Return every table of a SQLite file with its rows, sorted (a table's row order is not its content)."""
    with closing(sqlite3.connect(path)) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {name: sorted(connection.execute(f"SELECT * FROM {name}").fetchall()) for name in sorted(names)}
