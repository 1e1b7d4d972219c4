"""Customer payments: FX conversion at the ERP's rate table and application to open invoices.

Aging, DSO and the credit-hold rule live in `receivables_aging`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from simulators.erp.ledger import is_quantized, quantize
from simulators.erp.money import ZERO


class MissingFxRateError(LookupError):
    """The FX table has no rate for a currency pair on or before a date."""


class PaymentError(ValueError):
    """A payment that cannot be applied as asked (wrong customer, currency, allocation...)."""


@dataclass(frozen=True, slots=True)
class FxRate:
    """One unit of `from_currency` is worth `rate` units of `to_currency` from `effective_date` on."""

    from_currency: str
    to_currency: str
    effective_date: date
    rate: Decimal


@dataclass(frozen=True, slots=True)
class FxTable:
    """The ERP's FX rate table; a lookup takes the latest rate on or before the date asked.

    The direct pair is preferred; failing that, the inverse of the reverse pair's rate is used.
    """

    rates: tuple[FxRate, ...] = ()

    def __post_init__(self) -> None:
        for fx in self.rates:
            if not fx.rate.is_finite() or fx.rate <= 0:
                raise ValueError(f"FX rate {fx.from_currency}->{fx.to_currency} on {fx.effective_date} must be > 0")

    def _latest(self, from_currency: str, to_currency: str, on: date) -> FxRate | None:
        candidates = [fx for fx in self.rates
                      if fx.from_currency == from_currency and fx.to_currency == to_currency
                      and fx.effective_date <= on]
        return max(candidates, key=lambda fx: fx.effective_date, default=None)

    def rate(self, from_currency: str, to_currency: str, on: date) -> Decimal:
        """Return the rate from one currency to another on `on`, or raise MissingFxRateError."""
        if from_currency == to_currency:
            return Decimal(1)
        direct = self._latest(from_currency, to_currency, on)
        if direct is not None:
            return direct.rate
        reverse = self._latest(to_currency, from_currency, on)
        if reverse is not None:
            return Decimal(1) / reverse.rate
        raise MissingFxRateError(f"no {from_currency}->{to_currency} FX rate on or before {on.isoformat()}")

    def convert(self, amount: Decimal, from_currency: str, to_currency: str, on: date) -> Decimal:
        """Convert `amount` at the rate of `on`, rounded half up to `to_currency`'s minor unit."""
        return quantize(amount * self.rate(from_currency, to_currency, on), to_currency)


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice's open (unpaid) amount in the ledger currency.

    For aging, an open credit memo can be passed as an item with a negative `open_amount`;
    payments are never applied to such items.
    """

    invoice_id: str
    customer_id: str
    currency: str
    invoice_date: date
    due_date: date
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    """Cash received from a customer, in the currency it was paid in."""

    payment_id: str
    customer_id: str
    currency: str
    amount: Decimal
    received_on: date


@dataclass(frozen=True, slots=True)
class Allocation:
    """The customer's instruction: pay `amount` (ledger currency) of invoice `invoice_id`."""

    invoice_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceApplication:
    """The part of a payment applied to one invoice, and what stays open on it."""

    invoice_id: str
    applied: Decimal
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class PaymentApplication:
    """How a payment was applied, all amounts in the ledger currency.

    converted_amount = applied_amount + unapplied_amount + fx_difference; `fx_difference` is a gain
    (positive) or loss (negative) within the FX tolerance, zero otherwise.
    """

    payment_id: str
    customer_id: str
    currency: str
    rate: Decimal
    converted_amount: Decimal
    applications: tuple[InvoiceApplication, ...]
    unapplied_amount: Decimal
    fx_difference: Decimal

    @property
    def applied_amount(self) -> Decimal:
        """Return the total applied to invoices."""
        return sum((item.applied for item in self.applications), ZERO)


def _check_invoices(payment: Payment, invoices: Sequence[OpenInvoice], ledger_currency: str) -> None:
    seen: set[str] = set()
    for invoice in invoices:
        if invoice.customer_id != payment.customer_id:
            raise PaymentError(f"invoice {invoice.invoice_id} belongs to {invoice.customer_id}, "
                               f"not to the paying customer {payment.customer_id}")
        if invoice.currency != ledger_currency:
            raise PaymentError(f"invoice {invoice.invoice_id} is in {invoice.currency}, not {ledger_currency}")
        if invoice.invoice_id in seen:
            raise PaymentError(f"invoice {invoice.invoice_id} is listed twice")
        seen.add(invoice.invoice_id)


def _allocated(invoices: Sequence[OpenInvoice], allocations: Sequence[Allocation], available: Decimal,
               currency: str) -> list[tuple[OpenInvoice, Decimal]]:
    by_id = {invoice.invoice_id: invoice for invoice in invoices}
    plan: list[tuple[OpenInvoice, Decimal]] = []
    seen: set[str] = set()
    for allocation in allocations:
        invoice = by_id.get(allocation.invoice_id)
        if invoice is None or invoice.open_amount <= 0:
            raise PaymentError(f"allocation names {allocation.invoice_id!r}, which is not an open invoice "
                               "of this customer")
        if allocation.invoice_id in seen:
            raise PaymentError(f"invoice {allocation.invoice_id} is allocated twice")
        seen.add(allocation.invoice_id)
        if allocation.amount <= 0 or not is_quantized(allocation.amount, currency):
            raise PaymentError(f"allocation to {allocation.invoice_id} must be a positive {currency} amount "
                               f"in minor units, got {allocation.amount}")
        if allocation.amount > invoice.open_amount:
            raise PaymentError(f"allocation of {allocation.amount} to {allocation.invoice_id} exceeds its open "
                               f"amount {invoice.open_amount}")
        plan.append((invoice, allocation.amount))
    total = sum((amount for _, amount in plan), ZERO)
    if total > available:
        raise PaymentError(f"allocations total {total} but the payment is worth only {available} {currency}")
    return plan


def _oldest_first(invoices: Sequence[OpenInvoice], available: Decimal) -> list[tuple[OpenInvoice, Decimal]]:
    plan: list[tuple[OpenInvoice, Decimal]] = []
    left = available
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.invoice_date, i.invoice_id)):
        if left <= 0:
            break
        if invoice.open_amount <= 0:
            continue
        amount = min(left, invoice.open_amount)
        plan.append((invoice, amount))
        left -= amount
    return plan


def apply_payment(payment: Payment, open_invoices: Sequence[OpenInvoice], *, ledger_currency: str,
                  fx_table: FxTable | None = None, allocations: Sequence[Allocation] | None = None,
                  fx_tolerance: Decimal = ZERO) -> PaymentApplication:
    """Apply a payment to the customer's open invoices.

    The payment is converted to the ledger currency at the FX table's rate for the payment date.
    With `allocations`, exactly those amounts are applied; without, the oldest invoices (by due date,
    then invoice date, then id) are paid first. What is left is unapplied cash. For a payment in a
    foreign currency and no allocations, a residual up to `fx_tolerance` is cleared as an FX
    difference: a small excess is a gain rather than unapplied cash, a small shortfall on the last
    invoice paid is a loss rather than an open balance (as ERPs' write-off tolerances do).
    """
    if not payment.amount.is_finite() or payment.amount <= 0:
        raise PaymentError(f"payment {payment.payment_id} amount must be positive, got {payment.amount}")
    _check_invoices(payment, open_invoices, ledger_currency)
    if payment.currency == ledger_currency:
        rate = Decimal(1)
    elif fx_table is None:
        raise MissingFxRateError(f"payment {payment.payment_id} is in {payment.currency}, the ledger in "
                                 f"{ledger_currency}, and no FX table was given")
    else:
        rate = fx_table.rate(payment.currency, ledger_currency, payment.received_on)
    converted = quantize(payment.amount * rate, ledger_currency)
    if allocations is not None:
        plan = _allocated(open_invoices, allocations, converted, ledger_currency)
    else:
        plan = _oldest_first(open_invoices, converted)
    applications = [InvoiceApplication(inv.invoice_id, amount, inv.open_amount - amount) for inv, amount in plan]
    unapplied = converted - sum((amount for _, amount in plan), ZERO)
    fx_difference = ZERO
    if payment.currency != ledger_currency and allocations is None and fx_tolerance > 0:
        if 0 < unapplied <= fx_tolerance:
            fx_difference, unapplied = unapplied, ZERO
        elif applications and 0 < applications[-1].remaining <= fx_tolerance:
            last = applications[-1]
            fx_difference = -last.remaining
            applications[-1] = InvoiceApplication(last.invoice_id, last.applied + last.remaining, ZERO)
    return PaymentApplication(
        payment_id=payment.payment_id,
        customer_id=payment.customer_id,
        currency=ledger_currency,
        rate=rate,
        converted_amount=converted,
        applications=tuple(applications),
        unapplied_amount=unapplied,
        fx_difference=fx_difference,
    )
