"""Business KPIs: computed from truth and the ERP's end state, the way an operations person would."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from scenarios.engine.kpis import business_kpis
from scenarios.engine.truth import Truth

START, END = date(2026, 1, 5), date(2026, 1, 30)
AT = "2026-01-12T10:00:00Z"


def hire(truth: Truth, worker_id: str, entity: str = "US01") -> None:
    truth.record("worker_hired", AT, worker_id=worker_id, legal_entity=entity, role="CONSULTANT",
                 worker_type="EMPLOYEE", practice="DATA_AI", hire_date="2025-06-01", weekly_capacity_hours="40.00")
    truth.record("cost_rate_set", AT, worker_id=worker_id, cost_rate_id=f"CR-{worker_id}", effective_from="2025-06-01",
                 hourly_cost="80.00", currency="USD", reason="HIRE", retroactive=False)


def won(truth: Truth, opportunity_id: str, model: str = "TIME_AND_MATERIALS", at: str = AT) -> None:
    truth.record("deal_won", at, opportunity_id=opportunity_id, account_id="ACC-000001", customer_key="c1",
                 legal_entity="US01", currency="USD", billing_model=model, practice="DATA_AI", amount="100000.00",
                 service_start="2026-01-05", service_end="2026-03-27", rate_card=[], milestones=[],
                 monthly_fee=None, cap_amount=None, expected_exception=None)


def approved(truth: Truth, entry: str, hours: str, revision: int = 1, billable: bool = True,
             day: str = "2026-01-14") -> None:
    truth.record("time_approved", AT, time_entry_id=entry, revision=revision, project_id="PRJ-000001",
                 opportunity_id="OPP-000001", resource_id="WRK-000001", role="CONSULTANT", date=day, hours=hours,
                 billable=billable, bill_rate="200.00", amount=f"{float(hours) * 200:.2f}", currency="USD")


@pytest.fixture
def truth() -> Truth:
    record = Truth()
    hire(record, "WRK-000001")
    won(record, "OPP-000001")
    return record


def test_utilization_is_billable_hours_over_capacity_of_the_period(truth: Truth) -> None:
    approved(truth, "TIM-1", "8.00")
    approved(truth, "TIM-2", "4.00", billable=False)
    approved(truth, "TIM-3", "8.00", day="2026-02-03")
    kpis = business_kpis(truth, None, start=START, end=END)
    # 5-30 January: 20 working days, less Martin Luther King Jr. Day (a US01 holiday), at 8 h a day
    assert kpis.utilization == pytest.approx(8 / (19 * 8))
    assert kpis.utilization_by_entity == {"US01": pytest.approx(8 / 152)}


def test_a_reopened_entry_counts_only_once_re_approved(truth: Truth) -> None:
    approved(truth, "TIM-1", "8.00")
    truth.record("time_reopened", AT, time_entry_id="TIM-1", revision=1, project_id="PRJ-000001",
                 opportunity_id="OPP-000001")
    assert business_kpis(truth, None, start=START, end=END).utilization == 0
    approved(truth, "TIM-1", "6.00", revision=2)
    assert business_kpis(truth, None, start=START, end=END).utilization == pytest.approx(6 / 152)


def test_win_rate_counts_only_deals_closed_in_the_period(truth: Truth) -> None:
    won(truth, "OPP-000002", at="2025-12-20T10:00:00Z")
    for number in range(3):
        truth.record("deal_lost", AT, opportunity_id=f"OPP-00010{number}")
    kpis = business_kpis(truth, None, start=START, end=END)
    assert (kpis.deals_won, kpis.deals_lost) == (1, 3)
    assert kpis.win_rate == pytest.approx(0.25)
    assert kpis.pricing_mix == {"TIME_AND_MATERIALS": 1.0}


def test_dso_is_receivables_at_the_last_month_end_over_the_invoicing_up_to_it(truth: Truth) -> None:
    # December's invoice is history; January's billing is dated the 23rd (the period's last close)
    erp: dict[str, Any] = {"records": {"invoices": [
        {"invoice_date": "2025-12-31", "total": "400.00", "open_amount": "0.00", "currency": "USD"},
        {"invoice_date": "2026-01-09", "total": "1000.00", "open_amount": "0.00", "currency": "USD"},
        {"invoice_date": "2026-01-23", "total": "1100.00", "open_amount": "0.00", "currency": "USD"},
    ], "credit_memos": [
        {"credit_date": "2026-01-20", "total": "100.00", "open_amount": "0.00", "currency": "USD"},
        {"credit_date": "2026-01-27", "total": "50.00", "open_amount": "0.00", "currency": "USD"},  # after the close
    ], "payments": [
        {"received_on": "2026-01-12", "amount": "400.00", "currency": "USD"},  # December's
        {"received_on": "2026-01-16", "amount": "600.00", "currency": "USD"},  # part of the 9th's
        {"received_on": "2026-01-28", "amount": "1000.00", "currency": "USD"},  # after the close
    ], "billable_transactions": [
        {"status": "UNBILLED", "amount": "500.00", "billed_amount": "0.00", "currency": "USD"},
        {"status": "BILLED", "amount": "700.00", "billed_amount": "700.00", "currency": "USD"},
        {"status": "REVERSED", "amount": "90.00", "billed_amount": "0.00", "currency": "USD"},
    ]}}
    kpis = business_kpis(truth, erp, start=START, end=END)
    receivable = 400 + 1000 + 1100 - 100 - 400 - 600
    assert kpis.dso_days == pytest.approx(receivable / (1000 + 1100 - 100) * 19)  # 5 to 23 January
    assert kpis.unbilled_value == {"USD": "500.00"}


def test_dso_counts_other_currencies_at_the_display_rate_and_needs_an_invoice_in_the_period(truth: Truth) -> None:
    erp: dict[str, Any] = {"records": {"invoices": [
        {"invoice_date": "2026-01-09", "total": "1000.00", "open_amount": "0.00", "currency": "GBP"},
        {"invoice_date": "2026-01-09", "total": "1000.00", "open_amount": "0.00", "currency": "USD"},
    ], "credit_memos": [], "payments": [{"received_on": "2026-01-09", "amount": "1000.00", "currency": "USD"}]}}
    kpis = business_kpis(truth, erp, start=START, end=END)
    assert kpis.dso_days == pytest.approx(1270 / 2270 * 5)
    after = {**erp["records"]["invoices"][0], "invoice_date": "2026-02-02"}  # January's billing after the period
    early = {"records": {**erp["records"], "invoices": [after]}}
    assert business_kpis(truth, early, start=START, end=END).dso_days is None


def test_setup_days_run_from_the_win_to_the_first_booking(truth: Truth) -> None:
    truth.record("project_staffed", "2026-01-15T10:00:00Z", project_id="PRJ-000001", opportunity_id="OPP-000001",
                 resource_id="WRK-000001", role="CONSULTANT", start_date="2026-01-19", end_date="2026-03-27")
    kpis = business_kpis(truth, None, start=START, end=END)
    assert kpis.setup_days_median == pytest.approx(3.0)
    assert "billable utilization" in kpis.render()


def test_dso_receivables_leave_out_bad_debt_written_off_and_add_back_credit_refunded(truth: Truth) -> None:
    erp: dict[str, Any] = {"records": {"invoices": [
        {"invoice_date": "2026-01-09", "total": "1000.00", "open_amount": "0.00", "currency": "USD",
         "written_off_amount": "300.00", "write_off": {"date": "2026-01-20"}},
        {"invoice_date": "2026-01-23", "total": "1100.00", "open_amount": "0.00", "currency": "USD",
         "written_off_amount": "1100.00", "write_off": {"date": "2026-01-29"}},  # after the close
    ], "credit_memos": [
        {"credit_date": "2026-01-10", "total": "100.00", "open_amount": "0.00", "currency": "USD",
         "refunds": [{"amount": "40.00", "refunded_on": "2026-01-15"},
                     {"amount": "60.00", "refunded_on": "2026-01-30"}]},  # the second after the close
    ], "payments": [{"received_on": "2026-01-16", "amount": "600.00", "currency": "USD"}]}}
    kpis = business_kpis(truth, erp, start=START, end=END)
    receivable = 1000 + 1100 - 100 + 40 - 600 - 300
    assert kpis.dso_days == pytest.approx(receivable / (1000 + 1100 - 100) * 19)
