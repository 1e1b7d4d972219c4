"""The money side's pure mapping: PSA and ERP shapes to the canonical model and back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from syncengine.domain.errors import PermanentFailure, PoisonMessage
from syncengine.domain.messages import SourceEvent
from syncengine.domain.money import quantize
from syncengine.domain.work import BillableTransaction, BillingStatus, EntryKind, EntryStatus, Invoice
from syncengine.mapping import erp_billing, psa_work

NOW = datetime(2026, 4, 30, 18, 0, tzinfo=UTC)


def time_entry_data(**changes: Any) -> dict[str, Any]:
    approval = {"revision": 1, "date": "2026-03-03", "hours": "7.50", "billable": True, "currency": "GBP",
                "bill_rate": "160.00", "bill_amount": "1200.00", "cost_rate": "70.00", "cost_amount": "525.00",
                "cost_currency": "GBP", "approved_at": "2026-03-06T17:00:00Z"}
    return {"id": "TE-000451", "version": 4, "project_id": "PRJ-000007", "resource_id": "WRK-000012",
            "role": "CONSULTANT", "notes": "Workshop", "status": "APPROVED", "revision": 1,
            "approvals": [approval], **changes}


def test_an_approved_time_entry_reads_as_its_revision_valuation_and_posting() -> None:
    entry = psa_work.time_entry("psa-legacy", time_entry_data())

    valuation = entry.current_approval
    assert valuation is not None
    assert (valuation.quantity, valuation.rate, valuation.amount) == (Decimal("7.50"), Decimal("160.00"),
                                                                       Decimal("1200.00"))
    transaction = BillableTransaction.of(entry, valuation, "CON-000003", erp_billing.source_system(entry.system))
    item = erp_billing.transaction_item(transaction)
    assert item == {"contract_id": "CON-000003", "kind": "TIME", "source_system": "psa", "source_id": "TE-000451",
                    "source_version": 1, "date": "2026-03-03", "quantity": "7.50", "rate": "160.00",
                    "amount": "1200.00", "currency": "GBP", "external_id": "psa-legacy:TE-000451:v1",
                    "description": "Workshop", "worker_id": "WRK-000012", "role": "CONSULTANT"}
    assert entry.posting_key(1) == "time:TE-000451:1"


def test_a_reopened_entry_has_no_current_approval_but_keeps_the_last_one() -> None:
    entry = psa_work.time_entry("psa", time_entry_data(status="REOPENED", revision=2))

    assert (entry.status, entry.current_approval) == (EntryStatus.REOPENED, None)
    assert entry.approvals[-1].revision == 1


@pytest.mark.parametrize(("changes", "reason"), [
    ({"approvals": [{**time_entry_data()["approvals"][0], "bill_amount": 1200.0}]}, "malformed-amount"),
    ({"revision": 0}, "malformed-record"),
    ({"status": "LOST"}, "malformed-record"),
    ({"project_id": None}, "malformed-record"),
    ({"approvals": "none"}, "malformed-record"),
    ({"approvals": [{**time_entry_data()["approvals"][0], "currency": "XXX"}]}, "malformed-record"),
    ({"approvals": [{**time_entry_data()["approvals"][0], "currency": ["GBP"]}]}, "malformed-record"),
])
def test_a_malformed_time_entry_is_a_poison_message_naming_the_field(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(PoisonMessage) as refused:
        psa_work.time_entry("psa", time_entry_data(**changes))
    assert refused.value.reason == reason


def test_a_time_entry_read_from_a_mapping_that_is_not_a_dict_reads_the_same() -> None:
    data = time_entry_data()
    assert psa_work.time_entry("psa", MappingProxyType(data)) == psa_work.time_entry("psa", data)
    with pytest.raises(PoisonMessage, match="expected an object"):
        psa_work.time_entry("psa", [data])


def _approved(data: dict[str, Any], event_id: str = "771", event_type: str = "psa.time_entry.approved") -> SourceEvent:
    return SourceEvent("psa", event_id, event_type, str(data["id"]), 771, NOW, data)


def test_an_entry_read_by_two_flows_is_parsed_once_and_reads_the_same() -> None:
    billing, cost = _approved(time_entry_data(notes="Read once")), _approved(time_entry_data(notes="Read once"))

    first = psa_work.work_entry_of(billing)

    assert first == psa_work.work_entry("psa", "psa.time_entry.approved", billing.data)
    assert psa_work.work_entry_of(cost) is first  # the same event decoded apart (the other flow's bus message)
    assert psa_work.work_entry_of(_approved(time_entry_data(notes="Read once"), event_id="772")) is not first
    changed = psa_work.work_entry_of(_approved(time_entry_data(notes="Same id, other data")))
    assert changed.description == "Same id, other data"


def test_a_malformed_entry_read_by_two_flows_is_refused_to_each() -> None:
    malformed = _approved(time_entry_data(notes="Twice refused", revision=0), event_id="773")
    for _ in range(2):
        with pytest.raises(PoisonMessage, match="revision must be >= 1"):
            psa_work.work_entry_of(malformed)
    with pytest.raises(PoisonMessage, match="not a time entry or expense event"):
        psa_work.work_entry_of(_approved(time_entry_data(), event_id="774", event_type="psa.project.updated"))


def test_batch_results_name_the_existing_transaction_of_a_duplicate() -> None:
    body = {"results": [
        {"index": 1, "status": 409, "problem": {"type": "https://firmsim.dev/problems/duplicate-external-id",
                                                "title": "Duplicate", "status": 409, "existing_id": "BTX-000007"}},
        {"index": 0, "status": 201, "id": "BTX-000009"},
        {"index": 2, "status": 422, "problem": {"type": "https://firmsim.dev/problems/contract-terminated",
                                                "title": "Terminated", "status": 422}},
    ]}

    results = erp_billing.batch_results(body, 3)

    assert [(r.transaction_id, r.problem_type) for r in results] == [
        ("BTX-000009", ""), ("BTX-000007", "duplicate-external-id"), (None, "contract-terminated")]
    with pytest.raises(PermanentFailure, match="one result per item"):
        erp_billing.batch_results(body, 4)


def test_batch_results_in_order_read_as_the_erp_answered_them() -> None:
    body = {"results": [{"index": 0, "status": 201, "id": "BTX-000009"},
                        {"index": 1, "status": 422, "problem": {}}, {"index": 2, "status": 201, "id": 7}]}

    results = erp_billing.batch_results(body, 3)

    assert [(r.index, r.status, r.transaction_id, r.problem_type) for r in results] == [
        (0, 201, "BTX-000009", ""), (1, 422, None, ""), (2, 201, None, "")]
    with pytest.raises(PermanentFailure, match="one result per item"):
        erp_billing.batch_results(body, 2)


@pytest.mark.parametrize(("results", "detail"), [
    ([{"index": 0, "status": "201"}], "ERP batch results: results[0]: status must be an integer, got '201'"),
    ([{"index": 0, "status": 201}, {"index": True, "status": 201}],
     "ERP batch results: results[1]: index must be an integer, got True"),
    ([{"index": 0, "status": "x"}, "BTX-1"], "ERP batch results: results[1]: expected an object"),
    ({"0": {}}, "ERP batch results: results must be a list, got {'0': {}}"),
])
def test_a_malformed_batch_result_is_refused_naming_the_item(results: Any, detail: str) -> None:
    with pytest.raises(PoisonMessage) as refused:
        erp_billing.batch_results({"results": results}, len(results))
    assert refused.value.detail == detail


@pytest.mark.parametrize("text", ["0", "-0", "0.001", "1200.005", "-2.345", "1.6E+2", "1E+3", "0E-7", "1E-7",
                                  "0.0000001", "123456789012345678901234.5678", "-0.00", "7.50"])
@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_amounts_and_numbers_are_written_in_plain_notation(text: str, currency: str) -> None:
    number = Decimal(text)
    transaction = BillableTransaction("CON-1", EntryKind.TIME, "psa", "TE-1", 1, date(2026, 3, 3), number, number,
                                      number, currency, "psa:TE-1:v1")

    item = erp_billing.transaction_item(transaction)

    assert item["amount"] == f"{quantize(number, currency):f}"
    assert item["quantity"] == item["rate"] == f"{number:f}"


def test_an_aging_line_reads_as_ar_status_and_a_credit_balance_shows_as_zero_in_the_crm() -> None:
    report = {"as_of": "2026-04-30", "legal_entity": None, "items": [
        {"customer_id": "CUS-000001", "currency": "USD", "total_open": "900.00", "unapplied_cash": "1000.00",
         "balance": "-100.00", "buckets": {"CURRENT": "400.00", "1-30": "300.00", "31-60": "200.00", "61-90": "0.00",
                                           "90+": "0.00"}}]}

    status = erp_billing.ar_status(report, "CUS-000001", "USD", False, NOW)

    assert (status.balance, status.overdue) == (Decimal("-100.00"), Decimal("500.00"))
    assert erp_billing.crm_ar_status_body(status) == {"ar_status": {
        "balance": "0.00", "overdue_amount": "500.00", "currency": "USD", "as_of": "2026-04-30T18:00:00Z"},
        "credit_hold": False}
    nothing = erp_billing.ar_status(report, "CUS-000002", "USD", True, NOW)
    assert (nothing.balance, nothing.overdue, nothing.credit_hold) == (Decimal("0.00"), Decimal("0.00"), True)


def test_a_contracts_billing_status_sums_its_invoices_gross() -> None:
    invoices = [Invoice("INV-000001", 3, "CUS-000001", "CON-000001", "EUR", date(2026, 4, 30), Decimal("1190.00"),
                        Decimal("1190.00"), Decimal("0.00"), Decimal("0.00"), "REVERSED"),
                Invoice("INV-000002", 2, "CUS-000001", "CON-000001", "EUR", date(2026, 5, 31), Decimal("952.00"),
                        Decimal("0.00"), Decimal("500.00"), Decimal("452.00"), "POSTED")]

    status = BillingStatus.of(invoices, "EUR", False, NOW)

    assert (status.invoiced, status.credited, status.paid) == (Decimal("2142.00"), Decimal("1190.00"),
                                                                Decimal("500.00"))
    assert erp_billing.crm_billing_status_body(status)["billing_status"]["invoiced_amount"] == "2142.00"
    assert psa_work.project_billing_status_body(status)["as_of"] == "2026-04-30"


def test_a_system_instance_is_recorded_as_its_kind() -> None:
    assert erp_billing.source_system("psa-legacy") == "psa"
    with pytest.raises(ValueError, match="not one of"):
        erp_billing.source_system("sap")


EXPENSE = {"id": "EX-000031", "version": 2, "project_id": "PRJ-000007", "resource_id": "WRK-000012",
           "status": "APPROVED", "revision": 1, "category": "TRAVEL", "description": "Train",
           "approvals": [{"revision": 1, "date": "2026-03-03", "amount": "120.505", "currency": "EUR",
                          "billable": True}]}


def _approval(**changes: Any) -> dict[str, Any]:
    return {**time_entry_data()["approvals"][0], **changes}


@pytest.mark.parametrize("data", [
    time_entry_data(),
    time_entry_data(notes=None, role=None),
    time_entry_data(status="REOPENED", revision=2, approvals=[_approval(), _approval(revision=2, hours=" 2.5 ")]),
    time_entry_data(approvals=[_approval(bill_amount="1200.005", bill_rate="1.6E+2", currency="JPY")]),
    time_entry_data(approvals=[]),
    time_entry_data(version=True),
    time_entry_data(revision=0),
    time_entry_data(id=""),
    time_entry_data(notes=7),
    time_entry_data(status="LOST"),
    time_entry_data(status=["APPROVED"]),
    time_entry_data(project_id=None),
    time_entry_data(approvals=[_approval(hours="NaN")]),
    time_entry_data(approvals=[_approval(hours="seven")]),
    time_entry_data(approvals=[_approval(bill_amount="Infinity")]),
    time_entry_data(approvals=[_approval(date="2026-02-30")]),
    time_entry_data(approvals=[_approval(billable=1)]),
    time_entry_data(approvals=[_approval(currency="XXX")]),
    time_entry_data(approvals=["none"]),
    time_entry_data(approvals={"0": _approval()}),
])
def test_a_time_entry_reads_the_same_from_a_dict_and_from_any_mapping(data: dict[str, Any]) -> None:
    # a dict is read inline, another Mapping field by field: same entry, or the same refusal
    assert _reading(psa_work.time_entry, data) == _reading(psa_work.time_entry, MappingProxyType(data))


@pytest.mark.parametrize("changes", [
    {}, {"description": None}, {"category": ""}, {"category": None}, {"revision": -1}, {"resource_id": 7},
    {"approvals": [{**EXPENSE["approvals"][0], "amount": 120.5}]},
    {"approvals": [{**EXPENSE["approvals"][0], "revision": "1"}]},
])
def test_an_expense_reads_the_same_from_a_dict_and_from_any_mapping(changes: dict[str, Any]) -> None:
    data = {**EXPENSE, **changes}
    assert _reading(psa_work.expense, data) == _reading(psa_work.expense, MappingProxyType(data))


def _reading(read: Any, data: Any) -> Any:
    try:
        return read("psa", data)
    except PoisonMessage as refused:
        return refused.reason, refused.detail
