"""The event log: a run's business facts as an operations person reads them, one line each, in time order."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from harness.report.eventlog import event_lines, write_event_log
from harness.report.eventlog_lines import Names, time_line
from scenarios.engine.truth import Truth

STATES: dict[str, Any] = {
    "hcm": {"records": {
        "workers": [{"id": "WRK-000001", "first_name": "Priya", "last_name": "Shah", "role": "CONSULTANT",
                     "legal_entity": "US01"}],
        "time_off": [{"id": "TOF-000001", "worker_id": "WRK-000001", "start_date": "2026-02-09",
                      "end_date": "2026-02-13", "kind": "VACATION", "working_days": 5, "status": "APPROVED",
                      "created_at": "2026-01-20T11:00:00Z"}]}},
    "psa": {"records": {"projects": [{"id": "PRJ-000012", "name": "Acme - CRM rollout", "currency": "USD"}]}},
    "crm": {"records": {"opportunities": [{"id": "OPP-000003", "name": "Acme - CRM rollout", "loss_reason": None},
                                          {"id": "OPP-000004", "name": "Beta - Cloud migration",
                                           "loss_reason": "PRICE"}]}},
    "erp": {"records": {
        "customers": [{"id": "CUS-000001", "name": "Acme Inc"}],
        "invoices": [{"id": "INV-000001", "customer_id": "CUS-000001", "currency": "USD", "total": "12000.00",
                      "invoice_date": "2026-01-31", "due_date": "2026-03-02"}]}},
}


def _time(truth: Truth, at: str, entry: str, day: str, hours: str, billable: bool = True) -> None:
    truth.record("time_approved", at, time_entry_id=entry, revision=1, project_id="PRJ-000012",
                 opportunity_id="OPP-000003", resource_id="WRK-000001", role="CONSULTANT", date=day, hours=hours,
                 billable=billable, bill_rate="190.00", amount="0.00", currency="USD")


def _truth() -> Truth:
    truth = Truth()
    truth.record("deal_lost", "2026-01-29T14:10:00Z", opportunity_id="OPP-000004")
    _time(truth, "2026-02-02T10:00:00Z", "TIM-000001", "2026-01-26", "8.00")
    _time(truth, "2026-02-02T10:00:00Z", "TIM-000002", "2026-01-27", "7.50", billable=False)
    truth.record("payment_made", "2026-02-26T14:31:00Z", payment_id="PAY-000001", customer_id="CUS-000001",
                 invoice_id="INV-000001", amount="12000.00", currency="USD", received_on="2026-03-05")
    return truth


def test_a_week_of_approved_time_is_one_timesheet_line_with_the_persons_name_and_project() -> None:
    lines = event_lines([fact.to_dict() for fact in _truth()], STATES)
    sheets = [line for line in lines if "timesheet" in line]
    assert sheets == ["2026-02-02 Mon 10:00  PSA  approved timesheet 2026-W05 of Priya Shah (Consultant, US01): "
                      "15.50 h on 2 days: PRJ-000012 Acme - CRM rollout 15.50 h (7.50 h not billable)"]


def test_lines_are_in_time_order_and_say_what_an_operations_person_needs() -> None:
    lines = event_lines([fact.to_dict() for fact in _truth()], STATES)
    assert [line[:20] for line in lines] == sorted(line[:20] for line in lines)
    assert lines[0] == ("2026-01-20 Tue 11:00  HCM  Priya Shah (Consultant, US01) vacation 2026-02-09..2026-02-13 "
                        "(5 working days), approved")
    assert "CRM  lost OPP-000004 Beta - Cloud migration (price)" in lines[1]
    assert lines[-1].endswith("received USD 12,000.00 from Acme Inc for INV-000001 (of USD 12,000.00, 33 days after "
                              "the invoice date, 3 days late)")


def test_ids_the_systems_do_not_know_are_shown_as_ids(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    write_event_log(_truth(), {}, path, (date(2026, 1, 1), date(2026, 3, 31)))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Business facts of the run, 4 facts in 3 lines")
    assert "approved timesheet 2026-W05 of WRK-000001: 15.50 h" in text
    assert "lost OPP-000004\n" in text


def test_a_customer_on_credit_hold_at_the_end_shows_when_and_why() -> None:
    customer = {"id": "CUS-000002", "name": "Beta Ltd", "currency": "GBP", "credit_hold": True,
                "credit_hold_reasons": ["over-credit-limit"], "credit_limit": "60000.00", "payment_terms_days": 45,
                "updated_at": "2026-03-03T09:05:00Z"}
    states = {**STATES, "erp": {"records": {**STATES["erp"]["records"],
                                            "customers": [*STATES["erp"]["records"]["customers"], customer]}}}
    lines = event_lines([fact.to_dict() for fact in _truth()], states)
    assert "2026-03-03 Tue 09:05  ERP  Beta Ltd (CUS-000002) on credit hold (over credit limit), net 45, " \
           "limit GBP 60,000.00" in lines
    assert not [line for line in lines if "Acme Inc (CUS-000001) on credit hold" in line]


def test_a_timesheet_line_sums_hours_per_project_and_counts_days_and_corrected_entries() -> None:
    entries = [{"hours": "8.00", "project_id": "PRJ-000012", "date": "2026-01-26", "billable": True, "revision": 1},
               {"hours": "2.50", "project_id": "PRJ-000099", "date": "2026-01-26", "billable": False, "revision": 2},
               {"hours": "4.25", "project_id": "PRJ-000012", "date": "2026-01-27", "billable": True, "revision": 3}]
    assert time_line(Names(STATES), "WRK-000001", "2026-W05", entries) == (
        "PSA  approved timesheet 2026-W05 of Priya Shah (Consultant, US01): 14.75 h on 2 days: "
        "PRJ-000012 Acme - CRM rollout 12.25 h; PRJ-000099 2.50 h (2.50 h not billable, 2 corrected entries)")
