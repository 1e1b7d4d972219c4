"""Inputs of revenue recognition (ASC 606 / IFRS 15, DOMAIN.md R1-R6) as frozen values, and their checks.

Import these names from `simulators.erp.revenue`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from simulators.erp.ledger import UnknownCurrencyError, is_quantized, minor_unit
from simulators.erp.money import ZERO


class RevenueInputError(ValueError):
    """Contract data revenue recognition cannot work with; the message names the field and the value."""


class RevenuePolicy(StrEnum):
    """How a contract's revenue is measured."""

    RIGHT_TO_INVOICE = "RIGHT_TO_INVOICE"  # T&M and capped T&M, 606-10-55-18 (R3)
    COST_TO_COST = "COST_TO_COST"  # fixed fee over time, input method (R2)
    POINT_IN_TIME = "POINT_IN_TIME"  # milestone deliverables, on acceptance or completion (R1)
    STRAIGHT_LINE = "STRAIGHT_LINE"  # retainer, stand-ready obligation (R4)


class ModificationKind(StrEnum):
    """The three branches of a contract modification (606-10-25-10..13, R5)."""

    CUMULATIVE_CATCH_UP = "CUMULATIVE_CATCH_UP"  # added scope not distinct
    SEPARATE_CONTRACT = "SEPARATE_CONTRACT"  # distinct and priced at standalone selling price
    PROSPECTIVE = "PROSPECTIVE"  # distinct, not at standalone selling price


@dataclass(frozen=True, slots=True)
class EstimateRevision:
    """The estimate at completion (total eligible cost) in force from `effective_date` on."""

    effective_date: date
    estimate_at_completion: Decimal


@dataclass(frozen=True, slots=True)
class CostActual:
    """Cost incurred on a date; ineligible cost (waste, mobilisation, PwC RR 6.4.2) is not progress."""

    incurred_on: date
    amount: Decimal
    eligible: bool = True
    reference: str = ""


@dataclass(frozen=True, slots=True)
class BillableValue:
    """Approved billable value (time or expense at its bill rate) of work done on `work_date`.

    A reversal is a negative value (or the entry is simply left out of the next run).
    """

    work_date: date
    amount: Decimal
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Milestone:
    """A point-in-time deliverable and the part of the price allocated to it.

    Recognized on `accepted_on` when `acceptance_required`, else on `completed_on`.
    `standalone_price` weights a prospective reallocation (defaults to `amount`).
    """

    milestone_id: str
    amount: Decimal
    completed_on: date | None = None
    accepted_on: date | None = None
    acceptance_required: bool = True
    standalone_price: Decimal | None = None

    @property
    def recognized_on(self) -> date | None:
        """Return the date control transfers, or None while it has not."""
        return self.accepted_on if self.acceptance_required else self.completed_on


@dataclass(frozen=True, slots=True)
class RetainerTerm:
    """A monthly retainer fee over a service period (`end` inclusive; None for evergreen)."""

    start: date
    end: date | None
    monthly_fee: Decimal


@dataclass(frozen=True, slots=True)
class Billing:
    """An amount billed to the contract (net of tax) on a date; a credit memo is negative."""

    billed_on: date
    amount: Decimal
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ContractModification:
    """An approved change order, effective from `effective_date`.

    - CUMULATIVE_CATCH_UP: `added_price` joins the transaction price (cost-to-cost), the cap (capped
      T&M), the named milestone `milestone_id` (point in time) or the retainer's whole service
      period (straight line); the effect on work done so far is a catch-up on the effective date.
      A new estimate at completion is an EstimateRevision effective the same day.
    - PROSPECTIVE: unrecognized consideration + `added_price` is spread over the remaining work
      (point in time: reallocated to the unrecognized and `added_milestones` by standalone price).
    - SEPARATE_CONTRACT: `separate_contract` is recognized on its own; the original is untouched.
    """

    reference: str
    effective_date: date
    kind: ModificationKind
    added_price: Decimal = ZERO
    milestone_id: str | None = None
    added_milestones: tuple[Milestone, ...] = ()
    separate_contract: RevenueContract | None = None


@dataclass(frozen=True, slots=True)
class RevenueContract:
    """Everything revenue recognition needs to know about one contract (one performance obligation).

    `transaction_price`: the fixed fee (COST_TO_COST, required), the cap (RIGHT_TO_INVOICE; None is
    uncapped T&M), the total of the milestones (POINT_IN_TIME; optional, checked); unused for
    STRAIGHT_LINE. Change orders go to `modifications`, never into these base figures.
    """

    contract_id: str
    currency: str
    policy: RevenuePolicy
    transaction_price: Decimal | None = None
    estimates: tuple[EstimateRevision, ...] = ()
    costs: tuple[CostActual, ...] = ()
    billable_values: tuple[BillableValue, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    retainer_terms: tuple[RetainerTerm, ...] = ()
    billings: tuple[Billing, ...] = ()
    modifications: tuple[ContractModification, ...] = ()

    def __post_init__(self) -> None:
        validate_contract(self)


@dataclass(frozen=True, slots=True)
class Measurement:
    """Cumulative figures of one contract on one date, before billing and balance sheet (internal)."""

    cumulative_revenue: Decimal
    transaction_price: Decimal | None
    catch_ups: tuple[tuple[str, Decimal], ...]  # (modification reference, catch-up) for each one in force
    progress: Decimal | None = None
    cumulative_cost: Decimal | None = None
    estimate_at_completion: Decimal | None = None
    excess_over_cap: Decimal = ZERO


def applied_modifications(contract: RevenueContract, as_of: date) -> list[ContractModification]:
    """Return the modifications in force on `as_of`, in order of effective date, then reference."""
    return sorted((m for m in contract.modifications if m.effective_date <= as_of),
                  key=lambda m: (m.effective_date, m.reference))


def _fail(contract: RevenueContract, message: str) -> RevenueInputError:
    return RevenueInputError(f"contract {contract.contract_id}: {message}")


def _check_amounts(contract: RevenueContract, field: str, amounts: Iterable[Decimal],
                   *, non_negative: bool = True) -> None:
    for amount in amounts:
        if not is_quantized(amount, contract.currency):
            raise _fail(contract, f"{field} {amount} is not an amount in {contract.currency} minor units")
        if non_negative and amount < 0:
            raise _fail(contract, f"{field} {amount} must not be negative")


def validate_contract(contract: RevenueContract) -> None:
    """Raise RevenueInputError naming the first problem with the contract's data."""
    try:
        minor_unit(contract.currency)
    except UnknownCurrencyError as error:
        raise _fail(contract, str(error)) from None
    if contract.transaction_price is not None:
        _check_amounts(contract, "transaction_price", [contract.transaction_price])
    _check_amounts(contract, "estimate_at_completion", [e.estimate_at_completion for e in contract.estimates])
    _check_amounts(contract, "cost amount", [c.amount for c in contract.costs], non_negative=False)
    _check_amounts(contract, "billable value", [v.amount for v in contract.billable_values], non_negative=False)
    _check_amounts(contract, "billing amount", [b.amount for b in contract.billings], non_negative=False)
    _check_amounts(contract, "monthly_fee", [t.monthly_fee for t in contract.retainer_terms])
    _check_policy_inputs(contract)
    _check_modifications(contract)


def _check_policy_inputs(contract: RevenueContract) -> None:
    if contract.policy is RevenuePolicy.COST_TO_COST:
        if contract.transaction_price is None:
            raise _fail(contract, "COST_TO_COST needs a transaction_price")
        dates = [e.effective_date for e in contract.estimates]
        if any(e.estimate_at_completion <= 0 for e in contract.estimates):
            raise _fail(contract, "every estimate_at_completion must be positive")
        if len(set(dates)) != len(dates):
            raise _fail(contract, "two estimate revisions share an effective_date")
    if contract.policy is RevenuePolicy.POINT_IN_TIME:
        _check_milestones(contract, contract.milestones)
        total = sum((m.amount for m in contract.milestones), ZERO)
        if contract.transaction_price is not None and total != contract.transaction_price:
            raise _fail(contract, f"milestones total {total}, not the transaction_price {contract.transaction_price}")
    if contract.policy is RevenuePolicy.STRAIGHT_LINE:
        _check_retainer_terms(contract)


def _check_milestones(contract: RevenueContract, milestones: Iterable[Milestone]) -> None:
    for milestone in milestones:
        _check_amounts(contract, f"milestone {milestone.milestone_id} amount", [milestone.amount])
        if milestone.standalone_price is not None:
            _check_amounts(contract, f"milestone {milestone.milestone_id} standalone_price",
                           [milestone.standalone_price])


def _check_retainer_terms(contract: RevenueContract) -> None:
    if not contract.retainer_terms:
        raise _fail(contract, "STRAIGHT_LINE needs at least one retainer term")
    terms = sorted(contract.retainer_terms, key=lambda t: t.start)
    for index, term in enumerate(terms):
        if term.end is not None and term.end < term.start:
            raise _fail(contract, f"retainer term starting {term.start} ends before it starts ({term.end})")
        later = terms[index + 1] if index + 1 < len(terms) else None
        if later is not None and (term.end is None or term.end >= later.start):
            raise _fail(contract, f"retainer terms starting {term.start} and {later.start} overlap")


def _check_modifications(contract: RevenueContract) -> None:
    references = [m.reference for m in contract.modifications]
    if len(set(references)) != len(references):
        raise _fail(contract, "two modifications share a reference")
    milestone_ids = [m.milestone_id for m in contract.milestones]
    for mod in contract.modifications:
        _check_amounts(contract, f"modification {mod.reference} added_price", [mod.added_price], non_negative=False)
        separate = mod.kind is ModificationKind.SEPARATE_CONTRACT
        if separate != (mod.separate_contract is not None):
            raise _fail(contract, f"modification {mod.reference}: a separate_contract is given exactly when "
                                  "the kind is SEPARATE_CONTRACT")
        if mod.separate_contract is not None and mod.separate_contract.currency != contract.currency:
            raise _fail(contract, f"modification {mod.reference}: separate contract currency "
                                  f"{mod.separate_contract.currency} differs from {contract.currency}")
        if mod.added_milestones and not (contract.policy is RevenuePolicy.POINT_IN_TIME
                                         and mod.kind is ModificationKind.PROSPECTIVE):
            raise _fail(contract, f"modification {mod.reference}: added_milestones only go with a PROSPECTIVE "
                                  "modification of a POINT_IN_TIME contract")
        _check_milestones(contract, mod.added_milestones)
        milestone_ids.extend(m.milestone_id for m in mod.added_milestones)
        if (contract.policy is RevenuePolicy.POINT_IN_TIME and mod.kind is ModificationKind.CUMULATIVE_CATCH_UP
                and mod.milestone_id not in milestone_ids):
            raise _fail(contract, f"modification {mod.reference}: a catch-up on a POINT_IN_TIME contract must "
                                  f"name one of its milestones in milestone_id, got {mod.milestone_id!r}")
    if len(set(milestone_ids)) != len(milestone_ids):
        raise _fail(contract, "two milestones share a milestone_id")
