"""AR aging buckets, DSO and the credit-hold rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from simulators.erp.receivables import OpenInvoice
from simulators.erp.receivables_aging import (
    AgingBucket,
    CreditProfile,
    HoldReason,
    aging_bucket,
    aging_by_customer,
    aging_report,
    credit_decision,
    credit_hold_changes,
    days_sales_outstanding,
)

D = Decimal
ZERO = D("0.00")
AS_OF = date(2026, 6, 30)


def due_days_ago(days: int, amount: str, *, customer_id: str = "CUS-1", invoice_id: str | None = None,
                 currency: str = "USD") -> OpenInvoice:
    due = AS_OF - timedelta(days=days)
    return OpenInvoice(invoice_id or f"INV-{days}", customer_id, currency, due - timedelta(days=30), due, D(amount))


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [(-10, AgingBucket.CURRENT), (0, AgingBucket.CURRENT), (1, AgingBucket.DAYS_1_30),
     (30, AgingBucket.DAYS_1_30), (31, AgingBucket.DAYS_31_60), (60, AgingBucket.DAYS_31_60),
     (61, AgingBucket.DAYS_61_90), (90, AgingBucket.DAYS_61_90), (91, AgingBucket.DAYS_OVER_90),
     (400, AgingBucket.DAYS_OVER_90)],
)
def test_aging_bucket_boundaries(days_past_due: int, bucket: AgingBucket) -> None:
    assert aging_bucket(AS_OF - timedelta(days=days_past_due), AS_OF) is bucket


def test_aging_report_sums_open_items_per_bucket_and_nets_unapplied_cash() -> None:
    items = [due_days_ago(-5, "100.00"), due_days_ago(10, "200.00"), due_days_ago(25, "50.00"),
             due_days_ago(45, "300.00"), due_days_ago(75, "400.00"), due_days_ago(120, "500.00"),
             due_days_ago(3, "-30.00", invoice_id="CM-1"), due_days_ago(10, "999.00", customer_id="CUS-2")]

    report = aging_report("CUS-1", "USD", items, AS_OF, unapplied_cash=D("80.00"))

    assert report.buckets == (
        (AgingBucket.CURRENT, D("100.00")), (AgingBucket.DAYS_1_30, D("220.00")),
        (AgingBucket.DAYS_31_60, D("300.00")), (AgingBucket.DAYS_61_90, D("400.00")),
        (AgingBucket.DAYS_OVER_90, D("500.00")))
    assert (report.total_open, report.unapplied_cash, report.balance) == (D("1520.00"), D("80.00"), D("1440.00"))
    assert report.amount_in(AgingBucket.DAYS_61_90) == D("400.00")


def test_aging_by_customer_lists_every_customer_and_currency_in_order() -> None:
    items = [due_days_ago(10, "5.00", customer_id="CUS-2"), due_days_ago(10, "7.00", customer_id="CUS-1",
                                                                         currency="EUR")]

    reports = aging_by_customer(items, AS_OF, {("CUS-1", "USD"): D("12.00")})

    assert [(r.customer_id, r.currency, r.balance) for r in reports] == [
        ("CUS-1", "EUR", D("7.00")), ("CUS-1", "USD", D("-12.00")), ("CUS-2", "USD", D("5.00"))]


def test_dso_is_ending_ar_over_period_sales_times_days() -> None:
    # 150,000 / 300,000 x 90 days = 45.0; 100 / 300 x 91 = 30.33 -> 30.3
    assert days_sales_outstanding(D("150000.00"), D("300000.00"), 90) == D("45.0")
    assert days_sales_outstanding(D("100.00"), D("300.00"), 91) == D("30.3")
    assert days_sales_outstanding(D("100.00"), ZERO, 30) is None


def profile(limit: str | None = "10000.00", *, on_hold: bool = False, customer_id: str = "CUS-1") -> CreditProfile:
    return CreditProfile(customer_id, "USD", None if limit is None else D(limit), on_hold)


@pytest.mark.parametrize(("days", "on_hold"), [(60, False), (61, True)])
def test_customer_goes_on_hold_once_an_invoice_is_more_than_60_days_past_due(days: int, on_hold: bool) -> None:
    decision = credit_decision(profile(), [due_days_ago(days, "10.00")], AS_OF)

    assert (decision.on_hold, decision.max_days_past_due) == (on_hold, days)
    assert decision.reasons == ((HoldReason.OVERDUE,) if on_hold else ())


def test_customer_goes_on_hold_when_the_balance_exceeds_the_credit_limit() -> None:
    items = [due_days_ago(-10, "6000.00"), due_days_ago(-20, "4000.01")]

    over = credit_decision(profile(), items, AS_OF)
    paid_ahead = credit_decision(profile(), items, AS_OF, unapplied_cash=D("0.01"))
    unlimited = credit_decision(profile(None), items, AS_OF)

    assert (over.on_hold, over.reasons, over.balance) == (True, (HoldReason.OVER_CREDIT_LIMIT,), D("10000.01"))
    assert (paid_ahead.on_hold, unlimited.on_hold) == (False, False)


def test_overdue_credit_memos_do_not_put_a_customer_on_hold() -> None:
    decision = credit_decision(profile(), [due_days_ago(200, "-50.00", invoice_id="CM-9")], AS_OF)

    assert (decision.on_hold, decision.max_days_past_due) == (False, 0)


def test_hold_changes_list_only_customers_whose_status_changes_sorted_by_id() -> None:
    profiles = [profile(customer_id="CUS-3", on_hold=True), profile(customer_id="CUS-1"),
                profile(customer_id="CUS-2", on_hold=True), profile(customer_id="CUS-4")]
    items = [due_days_ago(70, "10.00", customer_id="CUS-1"), due_days_ago(70, "10.00", customer_id="CUS-2"),
             due_days_ago(5, "10.00", customer_id="CUS-3"), due_days_ago(5, "10.00", customer_id="CUS-4")]

    changes = credit_hold_changes(profiles, items, AS_OF)

    assert [(c.customer_id, c.on_hold, c.previous_on_hold, c.decision.reasons) for c in changes] == [
        ("CUS-1", True, False, (HoldReason.OVERDUE,)), ("CUS-3", False, True, ())]
