"""Truth facts as typed records: one reader per fact kind of scenarios/engine/facts.py.

A fact that cannot be read raises BadValue naming its sequence number and kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from harness.oracle.values import BadValue, day, decimal, optional_day, optional_decimal
from scenarios.engine.truth import Fact


@dataclass(frozen=True, slots=True)
class Deal:
    """A closed-won deal as sold (contract version 1)."""

    sequence: int
    opportunity_id: str
    account_id: str
    customer_key: str
    legal_entity: str
    currency: str
    billing_model: str
    practice: str
    amount: Decimal
    service_start: date
    service_end: date | None
    rate_card: dict[str, Decimal]
    milestones: tuple[dict[str, Any], ...]
    monthly_fee: Decimal | None
    cap_amount: Decimal | None
    expected_exception: str | None


@dataclass(frozen=True, slots=True)
class AccountFact:
    """A CRM account and the real-world company it stands for."""

    account_id: str
    customer_key: str
    name: str


@dataclass(frozen=True, slots=True)
class Amendment:
    """An approved change order: the contract's next version."""

    sequence: int
    opportunity_id: str
    amendment_id: str
    version: int
    contract_amount: Decimal
    amount_change: Decimal
    effective: date
    distinct: bool
    priced_at_standalone: bool
    new_service_end: date | None = None
    """Read when truth carries it (facts.py does not yet); see revenue.py for how retainers do without."""


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A won deal the customer cancelled."""

    sequence: int
    opportunity_id: str
    effective: date
    unbilled_rule: str


@dataclass(frozen=True, slots=True)
class TimeLine:
    """One approved revision of a time entry."""

    sequence: int
    entry_id: str
    revision: int
    project_id: str
    opportunity_id: str
    resource_id: str
    role: str
    on: date
    hours: Decimal
    billable: bool
    bill_rate: Decimal | None
    currency: str


@dataclass(frozen=True, slots=True)
class ExpenseLine:
    """One approved revision of an expense."""

    sequence: int
    entry_id: str
    revision: int
    project_id: str
    opportunity_id: str
    resource_id: str
    on: date
    amount: Decimal
    currency: str
    billable: bool


@dataclass(frozen=True, slots=True)
class MilestoneFact:
    """A completed billing milestone, and its acceptance once given."""

    milestone_id: str
    project_id: str
    opportunity_id: str
    name: str
    amount: Decimal
    requires_acceptance: bool
    completed_on: date
    completed_sequence: int
    accepted_on: date | None = None
    accepted_sequence: int | None = None

    def accepted(self, on: date, sequence: int) -> MilestoneFact:
        """Return the milestone with its acceptance."""
        return replace(self, accepted_on=on, accepted_sequence=sequence)

    @property
    def billable_on(self) -> date | None:
        """Return the date it became billable: acceptance where required, else completion."""
        return self.accepted_on if self.requires_acceptance else self.completed_on

    @property
    def billable_sequence(self) -> int | None:
        """Return the fact that made it billable."""
        return self.accepted_sequence if self.requires_acceptance else self.completed_sequence


@dataclass(frozen=True, slots=True)
class Worker:
    """A hired worker."""

    worker_id: str
    legal_entity: str
    role: str


@dataclass(frozen=True, slots=True)
class CostRate:
    """An HCM cost rate as set (a correction for the same start date replaces the earlier one)."""

    sequence: int
    worker_id: str
    cost_rate_id: str
    effective_from: date
    hourly_cost: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Estimate:
    """An estimate at completion (cost) in force from `as_of`."""

    sequence: int
    opportunity_id: str
    eac: Decimal
    as_of: date


@dataclass(frozen=True, slots=True)
class BillingRun:
    """A billing run finance started, and the invoices it produced."""

    sequence: int
    billing_run_id: str
    legal_entity: str
    period_end: date
    invoice_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RevenueRun:
    """A revenue-recognition run finance started for a period."""

    sequence: int
    revenue_run_id: str
    legal_entity: str
    period: str


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """Cash a customer paid against an invoice."""

    sequence: int
    payment_id: str
    customer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    received_on: date


@dataclass(frozen=True, slots=True)
class CreditApplied:
    """Customer credit left open on a credit memo that finance applied to another open invoice."""

    sequence: int
    credit_memo_id: str
    customer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    applied_on: date


@dataclass(frozen=True, slots=True)
class CreditRefunded:
    """Customer credit left open on a credit memo that finance paid back."""

    sequence: int
    credit_memo_id: str
    customer_id: str
    amount: Decimal
    currency: str
    refunded_on: date


@dataclass(frozen=True, slots=True)
class WriteOff:
    """What was open on an invoice when finance wrote it off as bad debt."""

    sequence: int
    invoice_id: str
    customer_id: str
    amount: Decimal
    currency: str
    written_off_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class Dispute:
    """An invoice the customer disputed (finance reverses it; credit and rebill)."""

    sequence: int
    invoice_id: str
    customer_id: str
    contract_id: str


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"{what}: expected true or false, got {value!r}")
    return value


def rate_card(value: Any) -> dict[str, Decimal]:
    """Read a rate card: a list of {role, hourly_rate} (CRM shape) or a mapping role -> rate."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(role): decimal(rate, f"rate_card/{role}") for role, rate in value.items()}
    if not isinstance(value, list):
        raise BadValue(f"rate_card: expected a list of {{role, hourly_rate}}, got {value!r}")
    card: dict[str, Decimal] = {}
    for index, line in enumerate(value):
        rate = line.get("hourly_rate", line.get("bill_rate", line.get("rate"))) if isinstance(line, dict) else None
        if not isinstance(line, dict) or "role" not in line or rate is None:
            raise BadValue(f"rate_card/{index}: expected {{role, hourly_rate}}, got {line!r}")
        card[str(line["role"])] = decimal(rate, f"rate_card/{index}/hourly_rate")
    return card


def _deal(s: int, d: dict[str, Any]) -> Deal:
    milestones = d["milestones"] or []
    if not isinstance(milestones, list) or not all(isinstance(m, dict) for m in milestones):
        raise BadValue(f"milestones: expected a list of milestones, got {milestones!r}")
    return Deal(s, d["opportunity_id"], d["account_id"], d["customer_key"], d["legal_entity"], d["currency"],
                d["billing_model"], d["practice"], decimal(d["amount"]), day(d["service_start"]),
                optional_day(d["service_end"]), rate_card(d["rate_card"]), tuple(milestones),
                optional_decimal(d["monthly_fee"]), optional_decimal(d["cap_amount"]), d["expected_exception"] or None)


def _amendment(s: int, d: dict[str, Any]) -> Amendment:
    return Amendment(s, d["opportunity_id"], d["amendment_id"], int(d["contract_version"]),
                     decimal(d["contract_amount"]), decimal(d["amount_change"]), day(d["effective_date"]),
                     _flag(d["distinct"], "distinct"), _flag(d["priced_at_standalone"], "priced_at_standalone"),
                     optional_day(d.get("new_service_end")))


def _time(s: int, d: dict[str, Any]) -> TimeLine:
    return TimeLine(s, d["time_entry_id"], int(d["revision"]), d["project_id"], d["opportunity_id"],
                    d["resource_id"], d["role"], day(d["date"]), decimal(d["hours"], "hours"),
                    _flag(d["billable"], "billable"), optional_decimal(d["bill_rate"], "bill_rate"), d["currency"])


def _expense(s: int, d: dict[str, Any]) -> ExpenseLine:
    return ExpenseLine(s, d["expense_id"], int(d["revision"]), d["project_id"], d["opportunity_id"],
                       d["resource_id"], day(d["date"]), decimal(d["amount"]), d["currency"],
                       _flag(d["billable"], "billable"))


def _milestone(s: int, d: dict[str, Any]) -> MilestoneFact:
    return MilestoneFact(d["milestone_id"], d["project_id"], d["opportunity_id"], d["name"], decimal(d["amount"]),
                         _flag(d["requires_acceptance"], "requires_acceptance"), day(d["completed_on"]), s)


READERS: dict[str, Callable[[int, dict[str, Any]], Any]] = {
    "deal_won": _deal,
    "deal_lost": lambda s, d: d["opportunity_id"],
    "master_data_fixed": lambda s, d: d["opportunity_id"],
    "account_created": lambda s, d: AccountFact(d["account_id"], d["customer_key"], d["name"]),
    "contract_amended": _amendment,
    "deal_cancelled": lambda s, d: Cancellation(s, d["opportunity_id"], day(d["effective_date"]), d["unbilled_rule"]),
    "time_approved": _time,
    "time_reopened": lambda s, d: d["time_entry_id"],
    "expense_approved": _expense,
    "expense_reopened": lambda s, d: d["expense_id"],
    "milestone_completed": _milestone,
    "milestone_accepted": lambda s, d: (d["milestone_id"], day(d["accepted_on"])),
    "worker_hired": lambda s, d: Worker(d["worker_id"], d["legal_entity"], d["role"]),
    "cost_rate_set": lambda s, d: CostRate(s, d["worker_id"], d["cost_rate_id"], day(d["effective_from"]),
                                           decimal(d["hourly_cost"]), d["currency"]),
    "estimate_set": lambda s, d: Estimate(s, d["opportunity_id"], decimal(d["eac_cost"]), day(d["as_of"])),
    "billing_run": lambda s, d: BillingRun(s, d["billing_run_id"], d["legal_entity"], day(d["period_end"]),
                                           tuple(d["invoice_ids"] or ())),
    "revenue_run": lambda s, d: RevenueRun(s, d["revenue_run_id"], d["legal_entity"], d["period"]),
    "payment_made": lambda s, d: PaymentFact(s, d["payment_id"], d["customer_id"], d["invoice_id"],
                                             decimal(d["amount"]), d["currency"], day(d["received_on"])),
    "credit_applied": lambda s, d: CreditApplied(s, d["credit_memo_id"], d["customer_id"], d["invoice_id"],
                                                 decimal(d["amount"]), d["currency"], day(d["applied_on"])),
    "credit_refunded": lambda s, d: CreditRefunded(s, d["credit_memo_id"], d["customer_id"], decimal(d["amount"]),
                                                   d["currency"], day(d["refunded_on"])),
    "invoice_written_off": lambda s, d: WriteOff(s, d["invoice_id"], d["customer_id"], decimal(d["amount"]),
                                                 d["currency"], day(d["written_off_on"]), d["reason"]),
    "invoice_disputed": lambda s, d: Dispute(s, d["invoice_id"], d["customer_id"], d["contract_id"]),
}


def read_fact(fact: Fact) -> Any:
    """Return the typed record of a fact (None for kinds the oracle does not use)."""
    reader = READERS.get(fact.kind)
    if reader is None:
        return None
    try:
        return reader(fact.sequence, fact.data)
    except (KeyError, TypeError, ValueError) as error:
        raise BadValue(f"truth fact #{fact.sequence} ({fact.kind}): {error}") from error
