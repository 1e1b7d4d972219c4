"""The oracle's own ASC 606 / IFRS 15 calculator (DOMAIN.md §2, R2-R6), written from the rules, not the ERP.

Every function returns the cumulative revenue of one contract on a date; period revenue is the
difference of two cumulative figures, so periods always add up.

- Right to invoice (R3, T&M and capped T&M): the approved billable value dated up to the date,
  capped for capped T&M at the cap plus every change order effective by then except a separate
  contract (R5 branch 1), which has a cap of its own and leaves this one untouched.
- Cost to cost (R2, fixed fee over time): transaction price x cumulative cost / estimate at
  completion in force on the date, progress kept within [0, 1]. Change orders (R5): a cumulative
  catch-up adds its price to the contract, so the next measure carries the catch-up; a prospective
  one closes the contract the day before it takes effect (what was recognized stays) and earns the
  unrecognized price plus the added price over the remaining cost (cost since / estimate left); a
  separate contract leaves this one untouched.
- Straight line (R4, retainers): the monthly fee for each month of service, a partial month pro rata
  by days. A change order's price is spread evenly over service months: over the whole service with
  the elapsed share caught up (catch-up), or over the service left from its effective date.
- Point in time (R1): a milestone's amount when control transfers (acceptance where required,
  otherwise completion).

Rounding: half up to the cent once per measure (`cents`), per month for retainer fees and per
change order for retainer catch-ups; inputs (cost or value lines) come already rounded per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from harness.oracle.values import ONE_DAY, ZERO, cents, days_in_month, month_starts


class CalculationGap(ValueError):
    """The inputs do not determine the revenue (e.g. no estimate at completion yet); the message says why."""


class Policy(StrEnum):
    """How a contract's revenue is measured."""

    RIGHT_TO_INVOICE = "RIGHT_TO_INVOICE"
    COST_TO_COST = "COST_TO_COST"
    POINT_IN_TIME = "POINT_IN_TIME"
    STRAIGHT_LINE = "STRAIGHT_LINE"


POLICY_OF_MODEL = {
    "TIME_AND_MATERIALS": Policy.RIGHT_TO_INVOICE,
    "CAPPED_TM": Policy.RIGHT_TO_INVOICE,
    "FIXED_FEE": Policy.COST_TO_COST,
    "RETAINER": Policy.STRAIGHT_LINE,
}


class ModificationKind(StrEnum):
    """The branches of a contract modification (606-10-25-10..13)."""

    CUMULATIVE_CATCH_UP = "CUMULATIVE_CATCH_UP"
    PROSPECTIVE = "PROSPECTIVE"
    SEPARATE_CONTRACT = "SEPARATE_CONTRACT"


def modification_kind(distinct: bool, priced_at_standalone: bool) -> ModificationKind:
    """Return the R5 branch of a change order: not distinct, distinct at SSP, or distinct below SSP."""
    if not distinct:
        return ModificationKind.CUMULATIVE_CATCH_UP
    return ModificationKind.SEPARATE_CONTRACT if priced_at_standalone else ModificationKind.PROSPECTIVE


@dataclass(frozen=True, slots=True)
class Dated:
    """An amount on a date: a cost line, an approved value, an estimate at completion in force from then."""

    on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Modification:
    """An approved change order: its reference, effective date, branch and added price."""

    reference: str
    effective: date
    kind: ModificationKind
    added_price: Decimal


@dataclass(frozen=True, slots=True)
class Retainer:
    """A monthly fee over a service period (`end` inclusive)."""

    start: date
    end: date | None
    monthly_fee: Decimal


@dataclass(frozen=True, slots=True)
class Deliverable:
    """A point-in-time milestone: its amount and the date control transferred (None: not yet)."""

    milestone_id: str
    amount: Decimal
    recognized_on: date | None


@dataclass(frozen=True, slots=True)
class Position:
    """A contract's net position (R6): at most one of the three is not zero."""

    contract_asset: Decimal
    contract_liability: Decimal
    unbilled_receivable: Decimal


def _in_force(modifications: Iterable[Modification], as_of: date) -> list[Modification]:
    return sorted((m for m in modifications if m.effective <= as_of), key=lambda m: (m.effective, m.reference))


def total_to(lines: Iterable[Dated], as_of: date) -> Decimal:
    """Return the sum of the amounts dated on or before `as_of`."""
    return sum((line.amount for line in lines if line.on <= as_of), ZERO)


def estimate_on(estimates: Sequence[Dated], as_of: date) -> Decimal:
    """Return the estimate at completion in force on a date: the latest on or before it (the last given wins a tie)."""
    in_force = [estimate for estimate in estimates if estimate.on <= as_of]
    if not in_force:
        raise CalculationGap(f"no estimate at completion in force on {as_of.isoformat()}")
    latest = max(estimate.on for estimate in in_force)
    return [estimate for estimate in in_force if estimate.on == latest][-1].amount


def right_to_invoice(values: Sequence[Dated], as_of: date, cap: Decimal | None = None,
                     modifications: Sequence[Modification] = ()) -> Decimal:
    """Return approved value to date; with a cap, no more than the cap plus the change orders in force
    (a separate contract's price is its own cap, not this contract's)."""
    value = total_to(values, as_of)
    if cap is not None:
        raised = sum((m.added_price for m in _in_force(modifications, as_of)
                      if m.kind is not ModificationKind.SEPARATE_CONTRACT), ZERO)
        value = min(value, cap + raised)
    return cents(value)


def _progress_revenue(anchor_revenue: Decimal, anchor_cost: Decimal, pool: Decimal, cost: Decimal,
                      estimate: Decimal) -> Decimal:
    remaining = estimate - anchor_cost
    if remaining <= 0:
        progress = Decimal(1) if cost > anchor_cost else Decimal(0)
    else:
        progress = min(max((cost - anchor_cost) / remaining, Decimal(0)), Decimal(1))
    return cents(anchor_revenue + pool * progress)


def cost_to_cost(price: Decimal, costs: Sequence[Dated], estimates: Sequence[Dated], as_of: date,
                 modifications: Sequence[Modification] = ()) -> Decimal:
    """Return cumulative revenue by cost-to-cost progress on `as_of`."""
    anchor_revenue, anchor_cost, pool = ZERO, ZERO, price
    for modification in _in_force(modifications, as_of):
        if modification.kind is ModificationKind.CUMULATIVE_CATCH_UP:
            pool += modification.added_price
        elif modification.kind is ModificationKind.PROSPECTIVE:
            eve = modification.effective - ONE_DAY
            cost_at_eve = total_to(costs, eve)
            recognized = anchor_revenue
            if cost_at_eve > anchor_cost:
                recognized = _progress_revenue(anchor_revenue, anchor_cost, pool, cost_at_eve,
                                               estimate_on(estimates, eve))
            pool = anchor_revenue + pool - recognized + modification.added_price
            anchor_revenue, anchor_cost = recognized, cost_at_eve
    cost = total_to(costs, as_of)
    if cost <= anchor_cost:  # no progress since the last anchor: nothing to measure, no estimate needed
        return cents(anchor_revenue)
    return _progress_revenue(anchor_revenue, anchor_cost, pool, cost, estimate_on(estimates, as_of))


def _month_units(start: date, end: date) -> Decimal:
    """Return how many service months lie in [start, end]: whole months count 1, partial ones days / days in month."""
    if end < start:
        return Decimal(0)
    units = Decimal(0)
    for first in month_starts(start, end):
        length = days_in_month(first)
        last = first.replace(day=length)
        served = (min(last, end) - max(first, start)).days + 1
        units += Decimal(served) / Decimal(length)
    return units


def straight_line(retainer: Retainer, as_of: date, modifications: Sequence[Modification] = ()) -> Decimal:
    """Return the retainer revenue earned by `as_of`."""
    through = as_of if retainer.end is None else min(as_of, retainer.end)
    revenue = ZERO
    if through >= retainer.start:
        for first in month_starts(retainer.start, through):
            length = days_in_month(first)
            served = (min(first.replace(day=length), through) - max(first, retainer.start)).days + 1
            revenue += cents(retainer.monthly_fee * served / length)
    for modification in _in_force(modifications, as_of):
        if modification.kind is ModificationKind.SEPARATE_CONTRACT:
            continue  # a contract of its own: this one is untouched
        if retainer.end is None:
            raise CalculationGap(f"change order {modification.reference} on an open-ended retainer has no term "
                                 "to spread over")
        start = retainer.start if modification.kind is ModificationKind.CUMULATIVE_CATCH_UP else modification.effective
        whole = _month_units(start, retainer.end)
        share = Decimal(1) if whole == 0 else _month_units(start, through) / whole
        revenue += cents(modification.added_price * share)
    return cents(revenue)


def point_in_time(deliverables: Sequence[Deliverable], as_of: date) -> Decimal:
    """Return the amounts of the milestones whose control transferred by `as_of`."""
    return cents(sum((d.amount for d in deliverables if d.recognized_on is not None and d.recognized_on <= as_of),
                     ZERO))


def position(policy: Policy, cumulative_revenue: Decimal, cumulative_billed: Decimal) -> Position:
    """Net a contract to one balance (R6): revenue ahead of billing is an unbilled receivable under the
    right-to-invoice expedient (only time must pass) and a contract asset otherwise; billing ahead is a
    contract liability."""
    net = cents(cumulative_revenue - cumulative_billed)
    ahead = max(net, ZERO)
    behind = max(-net, ZERO)
    if policy is Policy.RIGHT_TO_INVOICE:
        return Position(ZERO, behind, ahead)
    return Position(ahead, behind, ZERO)
