"""The tests every ledger adapter passes (eventsourcing's AggregateRecorderTestCase pattern).

Subclass `LedgerContract` and give it a `ledger` fixture; `reopen` returns a ledger over the same
storage when the adapter is durable.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncengine.ledger import (
    AbstractLedger,
    DeadLetterStatus,
    DuplicateTracking,
    ExceptionStatus,
    LedgerError,
    XrefConflict,
    XrefEntry,
)
from tests.unit.syncengine.ledger_batch_contract import LedgerBatchContract
from tests.unit.syncengine.ledger_contract_support import T0, Boom, record_exception, tracking
from tests.unit.syncengine.ledger_copy_contract import LedgerCopyContract

__all__ = ["T0", "Boom", "record_exception", "tracking"]


class LedgerContract(LedgerBatchContract, LedgerCopyContract):
    """Behaviour of the ledger port, whatever stores it."""

    def test_a_processed_message_is_tracked(self, ledger: AbstractLedger) -> None:
        assert not ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")
        ledger.record_processed(tracking())
        assert ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")

    def test_tracking_is_per_version_and_per_handler(self, ledger: AbstractLedger) -> None:
        ledger.record_processed(tracking())
        assert not ledger.already_processed("psa", "TE-000001", 2, "billing.handle_approved")
        assert not ledger.already_processed("psa", "TE-000001", 1, "costs.handle_approved")
        assert not ledger.already_processed("erp", "TE-000001", 1, "billing.handle_approved")

    def test_tracking_the_same_message_twice_is_refused(self, ledger: AbstractLedger) -> None:
        ledger.record_processed(tracking())
        with pytest.raises(DuplicateTracking):
            ledger.record_processed(tracking())

    def test_a_failed_unit_of_work_leaves_nothing_behind(self, ledger: AbstractLedger) -> None:
        with pytest.raises(Boom), ledger.unit_of_work():
            ledger.link("contract", "erp", "CON-000001", "deal:OPP-000001")
            ledger.set_applied_version("contract:OPP-000001", 3)
            ledger.set_cursor("crm", "42")
            ledger.record_processed(tracking())
            raise Boom
        assert not ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")
        assert ledger.external_id("contract", "erp", "deal:OPP-000001") is None
        assert ledger.applied_version("contract:OPP-000001") is None
        assert ledger.cursor("crm") is None

    def test_a_failed_unit_of_work_gives_back_what_it_overwrote_as_it_was_before(self, ledger: AbstractLedger) -> None:
        ledger.set_applied_version("contract:OPP-000001", 2)
        ledger.set_cursor("crm", "10")
        with pytest.raises(Boom), ledger.unit_of_work():
            for version in (3, 4):  # the same key twice: it goes back to 2, not to 3
                ledger.set_applied_version("contract:OPP-000001", version)
                ledger.set_cursor("crm", str(version * 10))
            raise Boom
        assert (ledger.applied_version("contract:OPP-000001"), ledger.cursor("crm")) == (2, "10")

    def test_effects_and_tracking_commit_together(self, ledger: AbstractLedger) -> None:
        with ledger.unit_of_work():
            ledger.link("contract", "erp", "CON-000001", "deal:OPP-000001")
            assert ledger.external_id("contract", "erp", "deal:OPP-000001") == "CON-000001"
            ledger.record_processed(tracking())
        assert ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")
        assert ledger.external_id("contract", "erp", "deal:OPP-000001") == "CON-000001"

    def test_a_nested_unit_of_work_joins_the_outer_one(self, ledger: AbstractLedger) -> None:
        with pytest.raises(Boom), ledger.unit_of_work():
            with ledger.unit_of_work():
                ledger.record_processed(tracking())
            assert ledger.in_unit_of_work
            raise Boom
        assert not ledger.in_unit_of_work
        assert not ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")

    def test_an_event_id_is_new_only_once(self, ledger: AbstractLedger) -> None:
        assert ledger.record_received("psa", "psa-000001", T0)
        assert not ledger.record_received("psa", "psa-000001", T0)
        assert ledger.record_received("psa-legacy", "psa-000001", T0)

    def test_xref_links_ids_across_systems_through_one_key(self, ledger: AbstractLedger) -> None:
        ledger.link("opportunity", "crm", "OPP-000001", "deal:OPP-000001")
        ledger.link("contract", "erp", "CON-000007", "deal:OPP-000001")
        ledger.link("project", "psa", "PRJ-000003", "deal:OPP-000001")
        assert ledger.canonical_key("contract", "erp", "CON-000007") == "deal:OPP-000001"
        assert ledger.external_id("project", "psa", "deal:OPP-000001") == "PRJ-000003"
        assert ledger.links("deal:OPP-000001") == [
            XrefEntry("opportunity", "crm", "OPP-000001", "deal:OPP-000001"),
            XrefEntry("contract", "erp", "CON-000007", "deal:OPP-000001"),
            XrefEntry("project", "psa", "PRJ-000003", "deal:OPP-000001"),
        ]
        assert ledger.canonical_key("contract", "erp-legacy", "CON-000007") is None

    def test_linking_the_same_pair_again_is_harmless(self, ledger: AbstractLedger) -> None:
        ledger.link("contract", "erp", "CON-000007", "deal:OPP-000001")
        ledger.link("contract", "erp", "CON-000007", "deal:OPP-000001")
        assert len(ledger.links("deal:OPP-000001")) == 1

    def test_an_id_cannot_be_linked_to_two_keys_nor_a_key_to_two_ids(self, ledger: AbstractLedger) -> None:
        ledger.link("contract", "erp", "CON-000007", "deal:OPP-000001")
        with pytest.raises(XrefConflict):
            ledger.link("contract", "erp", "CON-000007", "deal:OPP-000002")
        with pytest.raises(XrefConflict):
            ledger.link("contract", "erp", "CON-000008", "deal:OPP-000001")
        assert ledger.links("deal:OPP-000002") == []

    def test_an_exception_is_queued_open_with_its_reason_and_payload(self, ledger: AbstractLedger) -> None:
        exception_id = record_exception(ledger)
        item = ledger.exception(exception_id)
        assert exception_id == "EXC-000001"
        assert (item.flow, item.key, item.reason, item.status, item.attempts) == (
            "billing", "project:PRJ-000001", "missing-tax-registration", ExceptionStatus.OPEN, 1)
        assert item.payload == {"event": {"id": "psa-000001"}}
        assert item.first_seen == item.last_seen == T0

    def test_the_same_message_refused_again_counts_on_one_exception(self, ledger: AbstractLedger) -> None:
        first = record_exception(ledger)
        ledger.redrive_exception(first, T0 + timedelta(hours=1))
        again = record_exception(ledger, reason="invalid-dimension", now=T0 + timedelta(hours=2))
        item = ledger.exception(again)
        assert again == first
        assert (item.attempts, item.status, item.reason) == (2, ExceptionStatus.OPEN, "invalid-dimension")
        assert (item.first_seen, item.last_seen) == (T0, T0 + timedelta(hours=2))
        assert len(ledger.exceptions()) == 1

    def test_exceptions_are_listed_in_order_and_by_status(self, ledger: AbstractLedger) -> None:
        ids = [record_exception(ledger, message_id=f"psa:psa-{n:06d}/billing.h") for n in range(1, 4)]
        ledger.redrive_exception(ids[1], T0)
        ledger.resolve_exception(ids[2], T0)
        assert [item.id for item in ledger.exceptions()] == ["EXC-000001", "EXC-000002", "EXC-000003"]
        assert [item.id for item in ledger.exceptions(ExceptionStatus.OPEN)] == [ids[0]]
        assert [item.id for item in ledger.exceptions(ExceptionStatus.REDRIVEN)] == [ids[1]]
        assert [item.id for item in ledger.exceptions(ExceptionStatus.RESOLVED, flow="billing")] == [ids[2]]
        assert ledger.exceptions(flow="staffing") == []

    def test_only_an_open_exception_can_be_redriven(self, ledger: AbstractLedger) -> None:
        exception_id = record_exception(ledger)
        assert ledger.redrive_exception(exception_id, T0).status is ExceptionStatus.REDRIVEN
        with pytest.raises(LedgerError):
            ledger.redrive_exception(exception_id, T0)
        with pytest.raises(LedgerError):
            ledger.redrive_exception("EXC-999999", T0)

    def test_dead_letters_keep_payload_reason_and_time(self, ledger: AbstractLedger) -> None:
        ledger.dead_letter(flow="intake", key="", message_id="psa:psa-000009", reason="malformed-event",
                           detail="data must be an object", payload={"event": {"id": "psa-000009"}}, now=T0)
        ledger.dead_letter(flow="billing", key="project:PRJ-1", message_id="psa:psa-000010/billing.h",
                           reason="retries-exhausted", detail="503 after 8 attempts", payload={}, now=T0)
        letters = ledger.dead_letters()
        assert [letter.id for letter in letters] == ["DLQ-000001", "DLQ-000002"]
        assert (letters[0].reason, letters[0].payload, letters[0].time) == (
            "malformed-event", {"event": {"id": "psa-000009"}}, T0)

    def test_a_dead_letter_is_re_driven_once_after_its_cause_is_fixed(self, ledger: AbstractLedger) -> None:
        for number in (1, 2):
            ledger.dead_letter(flow="billing", key="project:PRJ-1", message_id=f"psa:psa-00000{number}/billing.h",
                               reason="invalid-dimension", detail="", payload={"n": number}, now=T0)
        assert ledger.redrive_dead_letter("DLQ-000002").status is DeadLetterStatus.REDRIVEN
        assert ledger.dead_letter_by_id("DLQ-000002").payload == {"n": 2}
        assert [letter.id for letter in ledger.dead_letters(DeadLetterStatus.OPEN)] == ["DLQ-000001"]
        assert [letter.id for letter in ledger.dead_letters(DeadLetterStatus.REDRIVEN)] == ["DLQ-000002"]
        with pytest.raises(LedgerError, match="only an OPEN one"):
            ledger.redrive_dead_letter("DLQ-000002")
        with pytest.raises(LedgerError, match="no dead letter"):
            ledger.redrive_dead_letter("DLQ-999999")

    def test_a_failed_re_drive_leaves_the_dead_letter_open(self, ledger: AbstractLedger) -> None:
        ledger.dead_letter(flow="intake", key="", message_id="psa:x", reason="malformed-event", detail="",
                           payload={}, now=T0)
        with pytest.raises(Boom), ledger.unit_of_work():
            ledger.redrive_dead_letter("DLQ-000001")
            raise Boom
        assert ledger.dead_letter_by_id("DLQ-000001").status is DeadLetterStatus.OPEN

    def test_feed_cursors_are_kept_per_system(self, ledger: AbstractLedger) -> None:
        assert ledger.cursor("crm") is None
        ledger.set_cursor("crm", "10")
        ledger.set_cursor("crm", "25")
        ledger.set_cursor("erp", "3")
        assert (ledger.cursor("crm"), ledger.cursor("erp")) == ("25", "3")

    def test_applied_versions_are_kept_per_key(self, ledger: AbstractLedger) -> None:
        assert ledger.applied_version("contract:OPP-000001") is None
        ledger.set_applied_version("contract:OPP-000001", 2)
        ledger.set_applied_version("contract:OPP-000001", 3)
        assert ledger.applied_version("contract:OPP-000001") == 3
        assert ledger.applied_version("contract:OPP-000002") is None


class DurableLedgerContract(LedgerContract):
    """What a ledger that survives a restart also does."""

    def reopen(self, ledger: AbstractLedger) -> AbstractLedger:
        raise NotImplementedError

    def test_everything_survives_a_restart(self, ledger: AbstractLedger) -> None:
        ledger.record_processed(tracking())
        ledger.record_received("psa", "psa-000001", T0)
        ledger.link("contract", "erp", "CON-000001", "deal:OPP-000001")
        exception_id = record_exception(ledger)
        ledger.dead_letter(flow="intake", key="", message_id="psa:x", reason="malformed-event", detail="",
                           payload={"a": [1, "2"]}, now=T0)
        ledger.set_cursor("psa", "17")
        ledger.set_applied_version("contract:OPP-000001", 4)
        ledger.redrive_dead_letter("DLQ-000001")
        reopened = self.reopen(ledger)
        assert reopened.already_processed("psa", "TE-000001", 1, "billing.handle_approved")
        assert not reopened.record_received("psa", "psa-000001", T0)
        assert reopened.external_id("contract", "erp", "deal:OPP-000001") == "CON-000001"
        assert reopened.exception(exception_id) == ledger.exception(exception_id)
        assert reopened.dead_letters() == ledger.dead_letters()
        assert (reopened.cursor("psa"), reopened.applied_version("contract:OPP-000001")) == ("17", 4)
        assert record_exception(reopened, message_id="psa:another") == "EXC-000002"

