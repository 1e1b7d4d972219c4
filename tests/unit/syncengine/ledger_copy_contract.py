"""Copying a ledger, part of the contract every adapter passes (`LedgerContract`): out of it and into it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from syncengine.ledger import AbstractLedger, ExceptionStatus, InMemoryLedger, LedgerError
from syncengine.ledger.records import LedgerContents
from tests.unit.syncengine.ledger_contract_support import T0, fill, record_exception, tracking


def comparable(contents: LedgerContents) -> dict[str, Any]:
    """Return the contents with each kind of record sorted (a ledger's read order is not its content)."""
    return {field.name: sorted(value.items()) if isinstance(value, dict) else sorted(value, key=repr)
            for field in dataclasses.fields(contents) for value in [getattr(contents, field.name)]}


class LedgerCopyContract:
    """What a copy does, whatever stores the ledger: every record goes, and reads the same on the other side."""

    def test_a_copy_out_holds_every_record(self, ledger: AbstractLedger) -> None:
        fill(ledger)
        copy = InMemoryLedger()
        ledger.copy_to(copy)
        contents = ledger.contents()
        assert all(getattr(contents, field.name) for field in dataclasses.fields(contents))
        assert comparable(copy.contents()) == comparable(contents)

    def test_a_ledger_copied_into_reads_as_the_original(self, ledger: AbstractLedger) -> None:
        original = InMemoryLedger()
        fill(original)
        original.copy_to(ledger)
        assert comparable(ledger.contents()) == comparable(original.contents())
        assert ledger.already_processed("psa", "TE-000002", 2, "billing.handle_approved")
        assert ledger.record_received_many("psa", ["psa-000001", "psa-000003"], T0) == {"psa-000003"}
        assert ledger.links("deal:OPP-000001") == original.links("deal:OPP-000001")
        assert ledger.exceptions() == original.exceptions()
        assert [item.status for item in ledger.exceptions()] == [ExceptionStatus.OPEN, ExceptionStatus.RESOLVED]
        assert ledger.dead_letters() == original.dead_letters()
        assert (ledger.cursor("psa"), ledger.applied_versions(["contract:OPP-000001"])) == (
            "17", {"contract:OPP-000001": 4})
        assert record_exception(ledger, message_id="psa:another") == "EXC-000003"  # its counters came too
        assert ledger.dead_letter(flow="intake", key="", message_id="psa:x", reason="malformed-event", detail="",
                                  payload={}, now=T0).id == "DLQ-000003"

    def test_a_ledger_that_holds_records_takes_no_copy(self, ledger: AbstractLedger) -> None:
        ledger.record_processed(tracking("TE-000009"))
        before = comparable(ledger.contents())
        original = InMemoryLedger()
        fill(original)
        with pytest.raises(LedgerError, match="empty"):
            original.copy_to(ledger)
        assert comparable(ledger.contents()) == before
