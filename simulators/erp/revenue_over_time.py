"""Cumulative revenue of the progress-measured policies: cost-to-cost and right-to-invoice.

Both follow one pattern. A contract is a "segment": revenue recognized before it (`anchor_revenue`),
the cost or approved value already consumed before it (`anchor_measure`) and the consideration left
to earn (`pool`). At first the anchor is zero and the pool is the transaction price (or the cap).
- A cumulative catch-up adds its price to the pool; progress is remeasured with the new figures, so
  the effect on work done so far lands on the modification date (the catch-up).
- A prospective modification closes the segment: what was recognized up to the day before becomes
  the anchor, and the pool is unrecognized consideration + the added price, earned over the
  remaining work only.

Cost-to-cost: revenue = anchor + pool x (cost - anchor cost) / (EAC - anchor cost), progress capped
to [0, 1]. Right-to-invoice: revenue = approved value (capped T&M: anchor + min(value - anchor
value, pool)). Cumulative revenue is rounded half up to the cent each time it is measured; period
revenue is the difference of two rounded cumulative figures, so periods always add up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from simulators.erp.ledger import quantize
from simulators.erp.money import ZERO
from simulators.erp.revenue_model import (
    Measurement,
    ModificationKind,
    RevenueContract,
    RevenueInputError,
    RevenuePolicy,
    applied_modifications,
)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Segment:
    anchor_revenue: Decimal
    anchor_measure: Decimal
    pool: Decimal

    @property
    def total_price(self) -> Decimal:
        return self.anchor_revenue + self.pool


# revenue of a segment: (segment, measure date, estimate date) -> cumulative revenue, rounded
RevenueOf = Callable[[_Segment, date, date], Decimal]


def _walk(contract: RevenueContract, as_of: date, initial_pool: Decimal, revenue_of: RevenueOf,
          measure: Callable[[date], Decimal]) -> tuple[_Segment, tuple[tuple[str, Decimal], ...]]:
    segment = _Segment(ZERO, ZERO, initial_pool)
    catch_ups: list[tuple[str, Decimal]] = []
    last_measured: tuple[date, Decimal] | None = None
    for mod in applied_modifications(contract, as_of):
        eve = mod.effective_date - ONE_DAY
        if mod.kind is ModificationKind.SEPARATE_CONTRACT:
            catch_ups.append((mod.reference, ZERO))
            continue
        if last_measured is not None and last_measured[0] == mod.effective_date:
            before = last_measured[1]
        else:
            before = revenue_of(segment, eve, eve)
        if mod.kind is ModificationKind.CUMULATIVE_CATCH_UP:
            segment = replace(segment, pool=segment.pool + mod.added_price)
        else:
            segment = _Segment(before, measure(eve), segment.total_price - before + mod.added_price)
        if segment.pool < 0:
            raise RevenueInputError(f"contract {contract.contract_id}: modification {mod.reference} leaves "
                                    f"{segment.pool} to earn: the price would fall below revenue recognized")
        after = revenue_of(segment, eve, mod.effective_date)
        catch_ups.append((mod.reference, after - before))
        last_measured = (mod.effective_date, after)
    return segment, tuple(catch_ups)


def _cumulative_cost(contract: RevenueContract, on: date) -> Decimal:
    return sum((c.amount for c in contract.costs if c.eligible and c.incurred_on <= on), ZERO)


def _estimate(contract: RevenueContract, on: date) -> Decimal | None:
    in_force = [e for e in contract.estimates if e.effective_date <= on]
    return max(in_force, key=lambda e: e.effective_date).estimate_at_completion if in_force else None


def _progress(segment: _Segment, cost: Decimal, estimate: Decimal) -> tuple[Decimal, Decimal]:
    """Return the progress of the segment in [0, 1] and the cost done in it."""
    remaining_estimate = estimate - segment.anchor_measure
    done = cost - segment.anchor_measure
    if remaining_estimate <= 0 or done >= remaining_estimate:
        return Decimal(1), remaining_estimate
    if done <= 0:
        return Decimal(0), ZERO
    return done / remaining_estimate, done


def measure_cost_to_cost(contract: RevenueContract, as_of: date) -> Measurement:
    """Measure a fixed-fee contract over time by cost-to-cost (R2)."""
    if contract.transaction_price is None:
        raise RevenueInputError(f"contract {contract.contract_id}: COST_TO_COST needs a transaction_price")

    def revenue_of(segment: _Segment, measured_on: date, estimated_on: date) -> Decimal:
        estimate = _estimate(contract, estimated_on)
        if estimate is None:
            return segment.anchor_revenue
        progress, done = _progress(segment, _cumulative_cost(contract, measured_on), estimate)
        if progress == 1:
            return quantize(segment.total_price, contract.currency)
        earned = segment.pool * done / (estimate - segment.anchor_measure)
        return quantize(segment.anchor_revenue + earned, contract.currency)

    segment, catch_ups = _walk(contract, as_of, contract.transaction_price, revenue_of,
                               lambda on: _cumulative_cost(contract, on))
    cost = _cumulative_cost(contract, as_of)
    estimate = _estimate(contract, as_of)
    if estimate is None and cost != 0:
        raise RevenueInputError(f"contract {contract.contract_id}: cost is posted by {as_of.isoformat()} "
                                "but no estimate at completion is in force")
    revenue = revenue_of(segment, as_of, as_of)
    overall = None if estimate is None else min(Decimal(1), max(ZERO, cost / estimate))
    return Measurement(
        cumulative_revenue=revenue,
        transaction_price=segment.total_price,
        catch_ups=catch_ups,
        progress=None if overall is None else overall.quantize(Decimal("0.000001")),
        cumulative_cost=cost,
        estimate_at_completion=estimate,
    )


def _approved_value(contract: RevenueContract, on: date) -> Decimal:
    return sum((v.amount for v in contract.billable_values if v.work_date <= on), ZERO)


def measure_right_to_invoice(contract: RevenueContract, as_of: date) -> Measurement:
    """Measure a T&M contract by the right-to-invoice expedient (R3), capped when it has a cap."""
    value = _approved_value(contract, as_of)
    if contract.transaction_price is None:
        catch_ups = tuple((m.reference, ZERO) for m in applied_modifications(contract, as_of))
        return Measurement(cumulative_revenue=value, transaction_price=None, catch_ups=catch_ups)

    def revenue_of(segment: _Segment, measured_on: date, _estimated_on: date) -> Decimal:
        within = min(_approved_value(contract, measured_on) - segment.anchor_measure, segment.pool)
        return segment.anchor_revenue + within

    segment, catch_ups = _walk(contract, as_of, contract.transaction_price, revenue_of,
                               lambda on: _approved_value(contract, on))
    revenue = revenue_of(segment, as_of, as_of)
    return Measurement(
        cumulative_revenue=revenue,
        transaction_price=segment.total_price,
        catch_ups=catch_ups,
        excess_over_cap=value - revenue,
    )


def is_over_time(policy: RevenuePolicy) -> bool:
    """Tell whether a policy is measured by this module."""
    return policy in (RevenuePolicy.COST_TO_COST, RevenuePolicy.RIGHT_TO_INVOICE)
