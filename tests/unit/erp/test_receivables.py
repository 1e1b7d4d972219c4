"""Customer payments: FX conversion and application to open invoices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.erp.receivables import (
    Allocation,
    FxRate,
    FxTable,
    MissingFxRateError,
    OpenInvoice,
    Payment,
    PaymentApplication,
    PaymentError,
    apply_payment,
)

D = Decimal
ZERO = D("0.00")


def invoice(invoice_id: str, open_amount: str, due: date, *, issued: date | None = None,
            customer_id: str = "CUS-1", currency: str = "GBP") -> OpenInvoice:
    return OpenInvoice(invoice_id, customer_id, currency, issued or due - timedelta(days=30), due, D(open_amount))


@pytest.fixture
def open_invoices() -> list[OpenInvoice]:
    """Three open GBP invoices of CUS-1, listed newest first: 500 due 30 April, 300 due 31 March, 200 due 15 March."""
    return [invoice("INV-3", "500.00", date(2026, 4, 30)), invoice("INV-2", "300.00", date(2026, 3, 31)),
            invoice("INV-1", "200.00", date(2026, 3, 15))]


def pay(amount: str, currency: str = "GBP", on: date = date(2026, 4, 10)) -> Payment:
    return Payment("PAY-1", "CUS-1", currency, D(amount), on)


@pytest.fixture
def rates() -> FxTable:
    return FxTable((FxRate("EUR", "GBP", date(2026, 4, 1), D("0.86")),
                    FxRate("EUR", "GBP", date(2026, 4, 8), D("0.85")),
                    FxRate("GBP", "USD", date(2026, 4, 1), D("1.25"))))


def applied(result: PaymentApplication) -> list[tuple[str, Decimal, Decimal]]:
    return [(a.invoice_id, a.applied, a.remaining) for a in result.applications]


def test_payment_pays_the_oldest_invoices_first_in_full_then_partly(open_invoices: list[OpenInvoice]) -> None:
    result = apply_payment(pay("600.00"), open_invoices, ledger_currency="GBP")

    assert applied(result) == [("INV-1", D("200.00"), ZERO), ("INV-2", D("300.00"), ZERO),
                               ("INV-3", D("100.00"), D("400.00"))]
    assert (result.applied_amount, result.unapplied_amount, result.rate) == (D("600.00"), ZERO, D(1))


def test_over_payment_leaves_the_excess_as_unapplied_cash(open_invoices: list[OpenInvoice]) -> None:
    result = apply_payment(pay("1250.00"), open_invoices, ledger_currency="GBP")

    assert (result.applied_amount, result.unapplied_amount) == (D("1000.00"), D("250.00"))
    assert [a.remaining for a in result.applications] == [ZERO, ZERO, ZERO]


def test_invoices_due_the_same_day_are_paid_by_invoice_date_then_id() -> None:
    due = date(2026, 3, 31)
    invoices = [invoice("INV-9", "10.00", due, issued=date(2026, 3, 1)),
                invoice("INV-8", "10.00", due, issued=date(2026, 3, 2)),
                invoice("INV-7", "10.00", due, issued=date(2026, 3, 1))]

    result = apply_payment(pay("25.00"), invoices, ledger_currency="GBP")

    assert applied(result) == [("INV-7", D("10.00"), ZERO), ("INV-9", D("10.00"), ZERO),
                               ("INV-8", D("5.00"), D("5.00"))]


def test_remittance_allocation_is_applied_exactly_and_the_rest_left_unapplied(
        open_invoices: list[OpenInvoice]) -> None:
    result = apply_payment(pay("700.00"), open_invoices, ledger_currency="GBP",
                           allocations=[Allocation("INV-3", D("500.00")), Allocation("INV-2", D("150.00"))])

    assert applied(result) == [("INV-3", D("500.00"), ZERO), ("INV-2", D("150.00"), D("150.00"))]
    assert result.unapplied_amount == D("50.00")


@pytest.mark.parametrize(
    ("allocations", "message"),
    [
        ([Allocation("INV-4", D("1.00"))], "'INV-4', which is not an open invoice"),
        ([Allocation("INV-1", D("200.01"))], "exceeds its open amount 200.00"),
        ([Allocation("INV-1", D("0.00"))], "must be a positive GBP amount"),
        ([Allocation("INV-1", D("1.00")), Allocation("INV-1", D("1.00"))], "allocated twice"),
        ([Allocation("INV-3", D("500.00")), Allocation("INV-2", D("300.00"))], "payment is worth only 700.00"),
    ],
)
def test_impossible_allocations_are_refused(open_invoices: list[OpenInvoice], allocations: list[Allocation],
                                            message: str) -> None:
    with pytest.raises(PaymentError, match=message):
        apply_payment(pay("700.00"), open_invoices, ledger_currency="GBP", allocations=allocations)


def test_invoices_of_another_customer_or_currency_are_refused(open_invoices: list[OpenInvoice]) -> None:
    with pytest.raises(PaymentError, match="belongs to CUS-2"):
        apply_payment(pay("1.00"), [invoice("INV-5", "1.00", date(2026, 4, 1), customer_id="CUS-2")],
                      ledger_currency="GBP")
    with pytest.raises(PaymentError, match="INV-6 is in EUR, not GBP"):
        apply_payment(pay("1.00"), [invoice("INV-6", "1.00", date(2026, 4, 1), currency="EUR")],
                      ledger_currency="GBP")
    with pytest.raises(PaymentError, match="amount must be positive"):
        apply_payment(pay("0.00"), open_invoices, ledger_currency="GBP")


def test_foreign_payment_is_converted_at_the_latest_rate_on_or_before_its_date(
        open_invoices: list[OpenInvoice], rates: FxTable) -> None:
    result = apply_payment(pay("1000.00", "EUR", date(2026, 4, 10)), open_invoices, ledger_currency="GBP",
                           fx_table=rates)

    # the 8 April rate 0.85, not the 1 April 0.86: EUR 1,000 = GBP 850.00
    assert (result.rate, result.converted_amount, result.applied_amount) == (D("0.85"), D("850.00"), D("850.00"))
    assert applied(result)[-1] == ("INV-3", D("350.00"), D("150.00"))


def test_reverse_rate_is_inverted_when_the_direct_pair_is_missing(rates: FxTable) -> None:
    assert rates.convert(D("100.00"), "USD", "GBP", date(2026, 4, 2)) == D("80.00")
    assert rates.rate("GBP", "GBP", date(1990, 1, 1)) == D(1)


def test_payment_before_any_rate_is_refused_with_a_clear_error(open_invoices: list[OpenInvoice],
                                                               rates: FxTable) -> None:
    with pytest.raises(MissingFxRateError, match="no EUR->GBP FX rate on or before 2026-03-31"):
        apply_payment(pay("10.00", "EUR", date(2026, 3, 31)), open_invoices, ledger_currency="GBP", fx_table=rates)
    with pytest.raises(MissingFxRateError, match="no FX table was given"):
        apply_payment(pay("10.00", "EUR"), open_invoices, ledger_currency="GBP")


def test_small_fx_shortfall_within_tolerance_closes_the_invoice_as_an_fx_loss(rates: FxTable) -> None:
    # EUR 352.93 x 0.85 = 299.9905 -> GBP 299.99, a penny short of the 300.00 invoice
    result = apply_payment(pay("352.93", "EUR"), [invoice("INV-2", "300.00", date(2026, 3, 31))],
                           ledger_currency="GBP", fx_table=rates, fx_tolerance=D("0.05"))

    assert applied(result) == [("INV-2", D("300.00"), ZERO)]
    assert (result.converted_amount, result.fx_difference, result.unapplied_amount) == (
        D("299.99"), D("-0.01"), ZERO)


def test_small_fx_excess_within_tolerance_is_an_fx_gain_not_unapplied_cash(rates: FxTable) -> None:
    # EUR 352.96 x 0.85 = 300.016 -> GBP 300.02
    result = apply_payment(pay("352.96", "EUR"), [invoice("INV-2", "300.00", date(2026, 3, 31))],
                           ledger_currency="GBP", fx_table=rates, fx_tolerance=D("0.05"))

    assert (result.applied_amount, result.fx_difference, result.unapplied_amount) == (D("300.00"), D("0.02"), ZERO)


def test_fx_residual_beyond_tolerance_stays_open(rates: FxTable) -> None:
    result = apply_payment(pay("350.00", "EUR"), [invoice("INV-2", "300.00", date(2026, 3, 31))],
                           ledger_currency="GBP", fx_table=rates, fx_tolerance=D("0.05"))

    assert applied(result) == [("INV-2", D("297.50"), D("2.50"))]
    assert result.fx_difference == ZERO


open_amounts = st.lists(st.integers(min_value=-5_000, max_value=5_000_000), max_size=8)


@settings(max_examples=200, deadline=None)
@given(open_amounts, st.integers(min_value=1, max_value=10_000_000), st.booleans())
def test_payments_never_exceed_open_amounts_and_the_excess_is_unapplied_cash(
        amounts: list[int], payment_cents: int, in_euros: bool) -> None:
    invoices = [invoice(f"INV-{n}", f"{Decimal(cents).scaleb(-2)}", date(2026, 1, 1) + timedelta(days=n % 40))
                for n, cents in enumerate(amounts)]
    rates = FxTable((FxRate("EUR", "GBP", date(2026, 1, 1), D("0.8537")),))
    payment = Payment("PAY-1", "CUS-1", "EUR" if in_euros else "GBP", Decimal(payment_cents).scaleb(-2),
                      date(2026, 2, 1))

    result = apply_payment(payment, invoices, ledger_currency="GBP", fx_table=rates)

    open_by_id = {i.invoice_id: i.open_amount for i in invoices}
    payable = sum((amount for amount in open_by_id.values() if amount > 0), ZERO)
    for application in result.applications:
        assert ZERO < application.applied <= open_by_id[application.invoice_id]
        assert application.remaining == open_by_id[application.invoice_id] - application.applied
    assert result.applied_amount == min(result.converted_amount, payable)
    assert result.unapplied_amount == max(ZERO, result.converted_amount - payable)
    assert result.applied_amount + result.unapplied_amount == result.converted_amount
