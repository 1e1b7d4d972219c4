"""The ledger port's batch operations, part of the contract every adapter passes (`LedgerContract`)."""

from __future__ import annotations

import pytest

from syncengine.ledger import AbstractLedger, DuplicateTracking, Tracking, XrefConflict, XrefEntry
from tests.unit.syncengine.ledger_contract_support import T0, Boom, tracking

HANDLER = "billing.handle_approved"


def _entries(*pairs: tuple[str, str]) -> list[XrefEntry]:
    return [XrefEntry("billable_transaction", "erp", external_id, key) for external_id, key in pairs]


class LedgerBatchContract:
    """What the batch operations do, whatever stores the ledger: the same as their single forms, many at once."""

    def test_processed_among_tells_which_of_many_messages_were_processed(self, ledger: AbstractLedger) -> None:
        ledger.record_processed(tracking("TE-000001"))
        ledger.record_processed(tracking("TE-000003", version=2))
        asked = [("psa", f"TE-00000{n}", version, HANDLER) for n in (1, 2, 3) for version in (1, 2)]
        assert ledger.processed_among(asked) == {("psa", "TE-000001", 1, HANDLER), ("psa", "TE-000003", 2, HANDLER)}
        assert ledger.processed_among([("psa", "TE-000001", 1, "costs.handle_approved")]) == set()
        assert ledger.processed_among([]) == set()

    def test_many_messages_are_tracked_at_once(self, ledger: AbstractLedger) -> None:
        ledger.record_processed_many([tracking(f"TE-00000{n}") for n in range(1, 6)])
        assert all(ledger.already_processed("psa", f"TE-00000{n}", 1, HANDLER) for n in range(1, 6))
        assert not ledger.already_processed("psa", "TE-000006", 1, HANDLER)

    def test_a_batch_holding_one_processed_message_tracks_none_of_it(self, ledger: AbstractLedger) -> None:
        ledger.record_processed(tracking("TE-000002"))
        with pytest.raises(DuplicateTracking):
            ledger.record_processed_many([tracking("TE-000001"), tracking("TE-000002"), tracking("TE-000003")])
        assert not ledger.already_processed("psa", "TE-000001", 1, HANDLER)
        assert not ledger.already_processed("psa", "TE-000003", 1, HANDLER)
        with pytest.raises(DuplicateTracking):
            ledger.record_processed_many([tracking("TE-000004"), tracking("TE-000004")])
        assert not ledger.already_processed("psa", "TE-000004", 1, HANDLER)

    def test_received_event_ids_are_new_once_however_they_arrive(self, ledger: AbstractLedger) -> None:
        assert ledger.record_received("psa", "psa-000002", T0)
        new = ledger.record_received_many("psa", ["psa-000001", "psa-000002", "psa-000003", "psa-000001"], T0)
        assert new == {"psa-000001", "psa-000003"}
        assert ledger.record_received_many("psa", ["psa-000003", "psa-000004"], T0) == {"psa-000004"}
        assert not ledger.record_received("psa", "psa-000004", T0)
        assert ledger.record_received_many("psa-legacy", ["psa-000001"], T0) == {"psa-000001"}
        assert ledger.record_received_many("psa", [], T0) == set()

    def test_applied_versions_are_read_and_written_many_at_once(self, ledger: AbstractLedger) -> None:
        ledger.set_applied_version("time-revision:TE-1", 1)
        ledger.set_applied_versions({"time-revision:TE-1": 3, "time-revision:TE-2": 2})
        assert ledger.applied_versions(["time-revision:TE-1", "time-revision:TE-2", "time-revision:TE-3"]) == {
            "time-revision:TE-1": 3, "time-revision:TE-2": 2}
        assert ledger.applied_version("time-revision:TE-1") == 3
        assert ledger.applied_versions([]) == {}

    def test_many_ids_are_linked_and_looked_up_at_once(self, ledger: AbstractLedger) -> None:
        ledger.link("billable_transaction", "erp", "BT-000001", "time:TE-1:1")
        ledger.link_many(_entries(("BT-000001", "time:TE-1:1"), ("BT-000002", "time:TE-2:1"),
                                  ("BT-000003", "time:TE-3:1")))
        assert ledger.external_ids("billable_transaction", "erp", ["time:TE-1:1", "time:TE-3:1", "time:TE-9:1"]) == {
            "time:TE-1:1": "BT-000001", "time:TE-3:1": "BT-000003"}
        assert ledger.canonical_key("billable_transaction", "erp", "BT-000002") == "time:TE-2:1"
        assert ledger.external_ids("reversal", "erp", ["time:TE-1:1"]) == {}
        ledger.link_many(_entries(("BT-000002", "time:TE-2:1")))  # again: harmless
        assert ledger.links("time:TE-2:1") == _entries(("BT-000002", "time:TE-2:1"))

    @pytest.mark.parametrize("clash", [("BT-000001", "time:TE-5:1"), ("BT-000009", "time:TE-1:1")],
                             ids=["id-linked-to-another-key", "key-linked-to-another-id"])
    def test_a_batch_with_one_clashing_link_links_none_of_it(self, ledger: AbstractLedger,
                                                             clash: tuple[str, str]) -> None:
        ledger.link("billable_transaction", "erp", "BT-000001", "time:TE-1:1")
        with pytest.raises(XrefConflict):
            ledger.link_many(_entries(("BT-000002", "time:TE-2:1"), clash))
        assert ledger.external_ids("billable_transaction", "erp", ["time:TE-2:1", "time:TE-5:1"]) == {}

    def test_a_batch_linking_one_id_two_ways_is_refused(self, ledger: AbstractLedger) -> None:
        with pytest.raises(XrefConflict):
            ledger.link_many(_entries(("BT-000001", "time:TE-1:1"), ("BT-000001", "time:TE-2:1")))
        with pytest.raises(XrefConflict):
            ledger.link_many(_entries(("BT-000001", "time:TE-1:1"), ("BT-000002", "time:TE-1:1")))
        assert ledger.links("time:TE-1:1") == []

    def test_batch_writes_of_a_failed_unit_of_work_leave_nothing_behind(self, ledger: AbstractLedger) -> None:
        with pytest.raises(Boom), ledger.unit_of_work():
            ledger.record_processed_many([tracking("TE-000001")])
            ledger.record_received_many("psa", ["psa-000001"], T0)
            ledger.set_applied_versions({"time-revision:TE-1": 1})
            ledger.link_many(_entries(("BT-000001", "time:TE-1:1")))
            assert ledger.processed_among([("psa", "TE-000001", 1, HANDLER)])  # seen inside it
            raise Boom
        assert ledger.processed_among([("psa", "TE-000001", 1, HANDLER)]) == set()
        assert ledger.record_received_many("psa", ["psa-000001"], T0) == {"psa-000001"}
        assert ledger.applied_versions(["time-revision:TE-1"]) == {}
        assert ledger.external_ids("billable_transaction", "erp", ["time:TE-1:1"]) == {}

    def test_a_batch_of_hundreds_goes_through_whole(self, ledger: AbstractLedger) -> None:
        ledger.record_processed_many([Tracking("psa", f"TE-{n:06d}", 1, HANDLER, T0) for n in range(450)])
        asked = [("psa", f"TE-{n:06d}", 1, HANDLER) for n in range(0, 900, 2)]
        assert len(ledger.processed_among(asked)) == 225
        versions = {f"time-revision:TE-{n}": n for n in range(450)}
        ledger.set_applied_versions(versions)
        assert ledger.applied_versions(list(versions)) == versions

    def test_ids_with_quotes_backslashes_commas_and_braces_go_through_the_batch_forms_as_they_are(
            self, ledger: AbstractLedger) -> None:
        awkward = ['TE-"1"', "TE-\\2", "TE-{3},4", "TE 5 ß", "NULL"]
        ledger.record_processed_many([tracking(source_id) for source_id in awkward])
        assert ledger.processed_among([("psa", source_id, 1, HANDLER) for source_id in awkward]) == {
            ("psa", source_id, 1, HANDLER) for source_id in awkward}
        assert ledger.record_received_many("psa", awkward, T0) == set(awkward)
        ledger.set_applied_versions({f"time-revision:{source_id}": n for n, source_id in enumerate(awkward, 1)})
        assert ledger.applied_versions([f"time-revision:{source_id}" for source_id in awkward]) == {
            f"time-revision:{source_id}": n for n, source_id in enumerate(awkward, 1)}
        ledger.link_many(_entries(*((f"BT-{source_id}", f"time:{source_id}:1") for source_id in awkward)))
        assert ledger.external_ids("billable_transaction", "erp", [f"time:{source_id}:1" for source_id in awkward]) == {
            f"time:{source_id}:1": f"BT-{source_id}" for source_id in awkward}

    def test_after_commit_runs_once_the_unit_of_work_committed_and_never_after_a_rollback(
            self, ledger: AbstractLedger) -> None:
        ran: list[str] = []
        ledger.after_commit(lambda: ran.append("outside"))
        assert ran == ["outside"]
        with ledger.unit_of_work():
            ledger.after_commit(lambda: ran.append("committed"))
            with ledger.unit_of_work():
                ledger.after_commit(lambda: ran.append("nested"))
            assert ran == ["outside"], "not before the outer unit of work commits"
        with pytest.raises(Boom), ledger.unit_of_work():
            ledger.after_commit(lambda: ran.append("rolled back"))
            raise Boom
        with ledger.unit_of_work():
            pass
        assert ran == ["outside", "committed", "nested"]

    def test_what_a_unit_of_work_keeps_of_its_reads_is_gone_once_it_commits_or_rolls_back(
            self, ledger: AbstractLedger) -> None:
        ledger.unit_memo()["contract-of:PRJ-1"] = "CON-1"
        assert ledger.unit_memo() == {}, "outside a unit of work nothing is kept"
        with ledger.unit_of_work():
            ledger.unit_memo()["contract-of:PRJ-1"] = "CON-1"
            with ledger.unit_of_work():
                assert ledger.unit_memo() == {"contract-of:PRJ-1": "CON-1"}, "a nested one sees the outer's"
            assert ledger.unit_memo() == {"contract-of:PRJ-1": "CON-1"}
        with ledger.unit_of_work():
            assert ledger.unit_memo() == {}
            ledger.unit_memo()["contract-of:PRJ-1"] = "CON-2"
        with pytest.raises(Boom), ledger.unit_of_work():
            ledger.unit_memo()["contract-of:PRJ-1"] = "CON-3"
            raise Boom
        with ledger.unit_of_work():
            assert ledger.unit_memo() == {}, "a rolled back unit of work's reads are not kept"
