"""Revenue recognition per contract and period (ASC 606 / IFRS 15, DOMAIN.md R1-R6).

`recognize(contract, period_end, prior)` measures cumulative revenue on the period end by the
contract's policy, takes the period's revenue as cumulative now minus cumulative already recognized
(`prior`), and nets the contract's position (cumulative revenue - cumulative billed) to one balance
(TRG Q61): an unbilled receivable for right-to-invoice (T&M) work, where only time must pass before
payment is due; a contract asset for the other policies; a contract liability when billing is ahead.
Catch-ups from contract modifications are reported on their effective dates (`adjustments`), and a
modification accounted for as a separate contract is recognized on its own (`separate_contracts`).

Pure domain code: no Flask, no store, no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from simulators.erp.ledger import quantize
from simulators.erp.money import ZERO
from simulators.erp.revenue_model import (
    BillableValue,
    Billing,
    ContractModification,
    CostActual,
    EstimateRevision,
    Measurement,
    Milestone,
    ModificationKind,
    RetainerTerm,
    RevenueContract,
    RevenueInputError,
    RevenuePolicy,
    applied_modifications,
    validate_contract,
)
from simulators.erp.revenue_over_time import measure_cost_to_cost, measure_right_to_invoice
from simulators.erp.revenue_schedules import measure_point_in_time, measure_straight_line

__all__ = [
    "BillableValue",
    "Billing",
    "ContractModification",
    "CostActual",
    "EstimateRevision",
    "Milestone",
    "ModificationKind",
    "RetainerTerm",
    "RevenueAdjustment",
    "RevenueContract",
    "RevenueInputError",
    "RevenuePolicy",
    "RevenueResult",
    "has_unconditional_right",
    "month_ends",
    "recognize",
    "revenue_schedule",
    "validate_contract",
]


@dataclass(frozen=True, slots=True)
class RevenueAdjustment:
    """The effect of one modification on revenue, booked on its effective date.

    `amount` is the cumulative catch-up (zero for prospective and separate-contract modifications).
    """

    modification_reference: str
    effective_date: date
    kind: ModificationKind
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RevenueResult:
    """A contract's revenue figures on a period end.

    `period_revenue` = `cumulative_revenue` - the prior result's; it includes the `adjustments`
    (catch-ups of modifications first taken into account in this run). Of `contract_asset`,
    `contract_liability` and `unbilled_receivable` at most one is non-zero. `progress`,
    `cumulative_cost` and `estimate_at_completion` are set for COST_TO_COST only; `excess_over_cap`
    is approved T&M value above the cap, held unbilled for a write-off decision; `expected_loss`
    (EAC above the transaction price, R7) is reported for a provision, not booked to revenue.
    """

    contract_id: str
    currency: str
    policy: RevenuePolicy
    period_end: date
    transaction_price: Decimal | None
    cumulative_revenue: Decimal
    period_revenue: Decimal
    cumulative_billed: Decimal
    contract_asset: Decimal
    contract_liability: Decimal
    unbilled_receivable: Decimal
    adjustments: tuple[RevenueAdjustment, ...] = ()
    applied_modifications: tuple[str, ...] = ()
    separate_contracts: tuple[RevenueResult, ...] = ()
    progress: Decimal | None = None
    cumulative_cost: Decimal | None = None
    estimate_at_completion: Decimal | None = None
    excess_over_cap: Decimal = ZERO
    expected_loss: Decimal = ZERO


def has_unconditional_right(policy: RevenuePolicy) -> bool:
    """Tell whether revenue ahead of billing is a receivable (right to invoice) rather than a contract asset."""
    return policy is RevenuePolicy.RIGHT_TO_INVOICE


def _measure(contract: RevenueContract, as_of: date) -> Measurement:
    if contract.policy is RevenuePolicy.COST_TO_COST:
        return measure_cost_to_cost(contract, as_of)
    if contract.policy is RevenuePolicy.RIGHT_TO_INVOICE:
        return measure_right_to_invoice(contract, as_of)
    if contract.policy is RevenuePolicy.POINT_IN_TIME:
        return measure_point_in_time(contract, as_of)
    return measure_straight_line(contract, as_of)


def _check_prior(contract: RevenueContract, period_end: date, prior: RevenueResult | None) -> None:
    if prior is None:
        return
    if prior.contract_id != contract.contract_id:
        raise RevenueInputError(f"prior result is for contract {prior.contract_id}, not {contract.contract_id}")
    if prior.period_end > period_end:
        raise RevenueInputError(f"contract {contract.contract_id}: prior result is for {prior.period_end.isoformat()}, "
                                f"after the period end {period_end.isoformat()}")


def recognize(contract: RevenueContract, period_end: date, prior: RevenueResult | None = None) -> RevenueResult:
    """Recognize a contract's revenue up to `period_end`, given the last result posted (None: first run)."""
    _check_prior(contract, period_end, prior)
    measurement = _measure(contract, period_end)
    revenue = measurement.cumulative_revenue
    billed = sum((b.amount for b in contract.billings if b.billed_on <= period_end), ZERO)
    position = revenue - billed
    unconditional = has_unconditional_right(contract.policy)
    already = set() if prior is None else set(prior.applied_modifications)
    modifications = {m.reference: m for m in contract.modifications}
    adjustments = tuple(
        RevenueAdjustment(reference, modifications[reference].effective_date, modifications[reference].kind, amount)
        for reference, amount in measurement.catch_ups
        if reference not in already
    )
    prior_separate = {} if prior is None else {r.contract_id: r for r in prior.separate_contracts}
    separate = tuple(
        recognize(mod.separate_contract, period_end, prior_separate.get(mod.separate_contract.contract_id))
        for mod in applied_modifications(contract, period_end)
        if mod.separate_contract is not None
    )
    expected_loss = ZERO
    if measurement.estimate_at_completion is not None and measurement.transaction_price is not None:
        expected_loss = quantize(max(ZERO, measurement.estimate_at_completion - measurement.transaction_price),
                                 contract.currency)
    return RevenueResult(
        contract_id=contract.contract_id,
        currency=contract.currency,
        policy=contract.policy,
        period_end=period_end,
        transaction_price=measurement.transaction_price,
        cumulative_revenue=revenue,
        period_revenue=revenue - (ZERO if prior is None else prior.cumulative_revenue),
        cumulative_billed=billed,
        contract_asset=ZERO if unconditional else max(position, ZERO),
        contract_liability=max(-position, ZERO),
        unbilled_receivable=max(position, ZERO) if unconditional else ZERO,
        adjustments=adjustments,
        applied_modifications=tuple(reference for reference, _ in measurement.catch_ups),
        separate_contracts=separate,
        progress=measurement.progress,
        cumulative_cost=measurement.cumulative_cost,
        estimate_at_completion=measurement.estimate_at_completion,
        excess_over_cap=measurement.excess_over_cap,
        expected_loss=expected_loss,
    )


def revenue_schedule(contract: RevenueContract, period_ends: Sequence[date]) -> tuple[RevenueResult, ...]:
    """Recognize a contract period after period (each run's prior is the one before): a revenue schedule."""
    if any(later <= earlier for earlier, later in pairwise(period_ends)):
        raise RevenueInputError("period ends of a revenue schedule must be strictly increasing")
    results: list[RevenueResult] = []
    for period_end in period_ends:
        results.append(recognize(contract, period_end, results[-1] if results else None))
    return tuple(results)


def month_ends(first: date, last: date) -> tuple[date, ...]:
    """Return the last day of every month from the month of `first` to the month of `last`."""
    ends: list[date] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        ends.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(ends)
