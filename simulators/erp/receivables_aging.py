"""AR aging, days sales outstanding and the credit-hold rule.

Aging buckets by days past due (as-of date minus due date): CURRENT (not yet due, or due today),
1-30, 31-60, 61-90, 90+ (91 days and more).

Credit-hold rule: a customer is on hold when any invoice is more than 60 days past due (61 days or
more) or when its AR balance in the credit limit's currency (open items minus unapplied cash) is
above its credit limit; it is released when neither holds. `credit_hold_changes` returns only the
customers whose status changes, so the API emits one event per change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from simulators.erp.money import ZERO
from simulators.erp.receivables import OpenInvoice

OVERDUE_HOLD_DAYS = 60


class AgingBucket(StrEnum):
    """Aging buckets of an AR aging report."""

    CURRENT = "CURRENT"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    DAYS_OVER_90 = "90+"


def days_past_due(due_date: date, as_of: date) -> int:
    """Return how many days `as_of` is after `due_date` (zero or negative when not yet overdue)."""
    return (as_of - due_date).days


def aging_bucket(due_date: date, as_of: date) -> AgingBucket:
    """Return the aging bucket of an item due on `due_date`, seen on `as_of`."""
    days = days_past_due(due_date, as_of)
    if days <= 0:
        return AgingBucket.CURRENT
    if days <= 30:
        return AgingBucket.DAYS_1_30
    if days <= 60:
        return AgingBucket.DAYS_31_60
    if days <= 90:
        return AgingBucket.DAYS_61_90
    return AgingBucket.DAYS_OVER_90


@dataclass(frozen=True, slots=True)
class AgingReport:
    """One customer's AR in one currency on `as_of`: open amounts per bucket and unapplied cash.

    `buckets` holds every bucket in AgingBucket order, zero when empty.
    """

    customer_id: str
    currency: str
    as_of: date
    buckets: tuple[tuple[AgingBucket, Decimal], ...]
    unapplied_cash: Decimal

    @property
    def total_open(self) -> Decimal:
        """Return the open amount of all items."""
        return sum((amount for _, amount in self.buckets), ZERO)

    @property
    def balance(self) -> Decimal:
        """Return the customer's AR balance: open items minus unapplied cash."""
        return self.total_open - self.unapplied_cash

    def amount_in(self, bucket: AgingBucket) -> Decimal:
        """Return the open amount in `bucket`."""
        return dict(self.buckets)[bucket]


def aging_report(customer_id: str, currency: str, open_items: Sequence[OpenInvoice], as_of: date,
                 unapplied_cash: Decimal = ZERO) -> AgingReport:
    """Age one customer's open items in one currency (items of others are ignored)."""
    totals = dict.fromkeys(AgingBucket, ZERO)
    for item in open_items:
        if item.customer_id == customer_id and item.currency == currency:
            totals[aging_bucket(item.due_date, as_of)] += item.open_amount
    return AgingReport(customer_id, currency, as_of, tuple((b, totals[b]) for b in AgingBucket), unapplied_cash)


def aging_by_customer(open_items: Sequence[OpenInvoice], as_of: date,
                      unapplied_cash: Mapping[tuple[str, str], Decimal] | None = None) -> tuple[AgingReport, ...]:
    """Age every customer and currency that has open items or unapplied cash, sorted by customer, currency.

    `unapplied_cash` maps (customer_id, currency) to the customer's unapplied cash.
    """
    cash = unapplied_cash or {}
    by_key: dict[tuple[str, str], list[OpenInvoice]] = {}
    for item in open_items:  # one pass, not one per customer: the report was quadratic in customers
        by_key.setdefault((item.customer_id, item.currency), []).append(item)
    keys = sorted(set(by_key) | set(cash))
    return tuple(aging_report(customer, currency, by_key.get((customer, currency), []), as_of,
                              cash.get((customer, currency), ZERO))
                 for customer, currency in keys)


def days_sales_outstanding(receivables: Decimal, credit_sales: Decimal, days_in_period: int) -> Decimal | None:
    """Return DSO = AR at period end / credit sales of the period x days in the period, to 0.1 day.

    None when the period had no sales (DSO is undefined).
    """
    if days_in_period <= 0:
        raise ValueError(f"days_in_period must be positive, got {days_in_period}")
    if credit_sales == 0:
        return None
    return (receivables / credit_sales * days_in_period).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class HoldReason(StrEnum):
    """Why a customer is on credit hold."""

    OVERDUE = "overdue-over-60-days"
    OVER_CREDIT_LIMIT = "over-credit-limit"


@dataclass(frozen=True, slots=True)
class CreditProfile:
    """A customer's credit limit (None: no limit) in its currency and its current hold status."""

    customer_id: str
    currency: str
    credit_limit: Decimal | None
    on_hold: bool


@dataclass(frozen=True, slots=True)
class CreditDecision:
    """What the credit-hold rule says about one customer on `as_of`, with the figures behind it."""

    customer_id: str
    as_of: date
    on_hold: bool
    reasons: tuple[HoldReason, ...]
    balance: Decimal
    credit_limit: Decimal | None
    max_days_past_due: int


@dataclass(frozen=True, slots=True)
class CreditHoldChange:
    """A change of hold status: `on_hold` is the new status (True: set, False: released)."""

    decision: CreditDecision
    previous_on_hold: bool

    @property
    def customer_id(self) -> str:
        """Return the customer whose status changes."""
        return self.decision.customer_id

    @property
    def on_hold(self) -> bool:
        """Return the new hold status."""
        return self.decision.on_hold


def credit_decision(profile: CreditProfile, open_items: Sequence[OpenInvoice], as_of: date,
                    unapplied_cash: Decimal = ZERO) -> CreditDecision:
    """Apply the credit-hold rule to one customer."""
    own = [item for item in open_items if item.customer_id == profile.customer_id]
    overdue_days = [days_past_due(item.due_date, as_of) for item in own if item.open_amount > 0]
    max_days = max([0, *overdue_days])
    balance = sum((item.open_amount for item in own if item.currency == profile.currency), ZERO) - unapplied_cash
    reasons: list[HoldReason] = []
    if max_days > OVERDUE_HOLD_DAYS:
        reasons.append(HoldReason.OVERDUE)
    if profile.credit_limit is not None and balance > profile.credit_limit:
        reasons.append(HoldReason.OVER_CREDIT_LIMIT)
    return CreditDecision(profile.customer_id, as_of, bool(reasons), tuple(reasons), balance,
                          profile.credit_limit, max_days)


def credit_hold_changes(profiles: Sequence[CreditProfile], open_items: Sequence[OpenInvoice], as_of: date,
                        unapplied_cash: Mapping[str, Decimal] | None = None) -> tuple[CreditHoldChange, ...]:
    """Return the hold changes (set or released) the rule calls for, sorted by customer id.

    `unapplied_cash` maps customer_id to unapplied cash in the profile's currency.
    """
    cash = unapplied_cash or {}
    changes = []
    for profile in sorted(profiles, key=lambda p: p.customer_id):
        decision = credit_decision(profile, open_items, as_of, cash.get(profile.customer_id, ZERO))
        if decision.on_hold != profile.on_hold:
            changes.append(CreditHoldChange(decision, profile.on_hold))
    return tuple(changes)
