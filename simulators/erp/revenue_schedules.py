"""Cumulative revenue of the schedule-like policies: point in time (milestones) and straight line (retainers).

Point in time: a milestone's allocated amount is revenue when control transfers (acceptance, or
completion when no acceptance is required). A catch-up raises one milestone's amount; if that
milestone was already recognized, the increase is revenue on the modification date. A prospective
modification reallocates the unrecognized amounts + the added price over the milestones not yet
recognized and the added ones, by relative standalone price (the last one takes the rounding rest).

Straight line: the monthly fee for each full calendar month of service; a partial month earns
fee x days of service in the month / days in that month, rounded half up to the cent. A lump-sum
modification is spread evenly by day: over the remaining service (prospective) or over the whole
service with the elapsed share caught up on the effective date (cumulative catch-up).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from simulators.erp.ledger import quantize
from simulators.erp.money import ZERO
from simulators.erp.revenue_model import (
    ContractModification,
    Measurement,
    Milestone,
    ModificationKind,
    RetainerTerm,
    RevenueContract,
    RevenueInputError,
    applied_modifications,
)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Tranche:
    milestone_id: str
    amount: Decimal
    not_before: date | None


def _recognized_before(milestone: Milestone, day: date) -> bool:
    recognized = milestone.recognized_on
    return recognized is not None and recognized < day


def _allocate(contract: RevenueContract, mod: ContractModification, pool: Decimal,
              milestones: Sequence[Milestone]) -> list[_Tranche]:
    weights = [m.amount if m.standalone_price is None else m.standalone_price for m in milestones]
    total_weight = sum(weights, ZERO)
    if total_weight <= 0:
        if pool == 0:
            return [_Tranche(m.milestone_id, ZERO, None) for m in milestones]
        raise RevenueInputError(f"contract {contract.contract_id}: modification {mod.reference} leaves {pool} "
                                "to allocate but no unrecognized milestone with a standalone price")
    tranches: list[_Tranche] = []
    allocated = ZERO
    for index, (milestone, weight) in enumerate(zip(milestones, weights, strict=True)):
        last = index == len(milestones) - 1
        amount = pool - allocated if last else quantize(pool * weight / total_weight, contract.currency)
        allocated += amount
        tranches.append(_Tranche(milestone.milestone_id, amount, None))
    return tranches


def measure_point_in_time(contract: RevenueContract, as_of: date) -> Measurement:
    """Measure a milestone contract recognized at points in time (R1)."""
    milestones = {m.milestone_id: m for m in contract.milestones}
    order = [m.milestone_id for m in contract.milestones]
    tranches = [_Tranche(m.milestone_id, m.amount, None) for m in contract.milestones]
    catch_ups: list[tuple[str, Decimal]] = []
    for mod in applied_modifications(contract, as_of):
        day = mod.effective_date
        if mod.kind is ModificationKind.CUMULATIVE_CATCH_UP:
            target = milestones.get(mod.milestone_id or "")
            if target is None:
                raise RevenueInputError(f"contract {contract.contract_id}: modification {mod.reference} names "
                                        f"milestone {mod.milestone_id!r}, unknown on {day.isoformat()}")
            tranches.append(_Tranche(target.milestone_id, mod.added_price, day))
            catch_ups.append((mod.reference, mod.added_price if _recognized_before(target, day) else ZERO))
        elif mod.kind is ModificationKind.PROSPECTIVE:
            for added in mod.added_milestones:
                milestones[added.milestone_id] = added
                order.append(added.milestone_id)
            remaining = [milestones[mid] for mid in order if not _recognized_before(milestones[mid], day)]
            remaining_ids = {m.milestone_id for m in remaining}
            pool = sum((t.amount for t in tranches if t.milestone_id in remaining_ids), ZERO) + mod.added_price
            kept = [t for t in tranches if t.milestone_id not in remaining_ids]
            tranches = kept + _allocate(contract, mod, pool, remaining)
            catch_ups.append((mod.reference, ZERO))
        else:
            catch_ups.append((mod.reference, ZERO))
    revenue = ZERO
    for tranche in tranches:
        recognized = milestones[tranche.milestone_id].recognized_on
        if recognized is not None and recognized <= as_of and (tranche.not_before or recognized) <= as_of:
            revenue += tranche.amount
    return Measurement(revenue, sum((t.amount for t in tranches), ZERO), tuple(catch_ups))


def _month_pieces(first: date, last: date) -> Iterator[tuple[date, date]]:
    start = first
    while start <= last:
        month_end = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
        end = min(month_end, last)
        yield start, end
        start = end + ONE_DAY


def _term_revenue(term: RetainerTerm, currency: str, as_of: date) -> Decimal:
    last = as_of if term.end is None else min(term.end, as_of)
    revenue = ZERO
    for start, end in _month_pieces(term.start, last):
        days_in_month = calendar.monthrange(start.year, start.month)[1]
        served = (end - start).days + 1
        if served == days_in_month:
            revenue += term.monthly_fee
        else:
            revenue += quantize(term.monthly_fee * served / days_in_month, currency)
    return revenue


def _spread(contract: RevenueContract, mod: ContractModification, as_of: date) -> tuple[Decimal, Decimal]:
    """Return (revenue by `as_of`, catch-up on the effective date) of a lump-sum retainer modification."""
    ends = [term.end for term in contract.retainer_terms]
    service_end = None if None in ends else max(end for end in ends if end is not None)
    if service_end is None:
        raise RevenueInputError(f"contract {contract.contract_id}: modification {mod.reference} spreads a price "
                                "over the service period, but the retainer has no end date")
    if mod.kind is ModificationKind.PROSPECTIVE:
        spread_start = mod.effective_date
    else:
        spread_start = min(term.start for term in contract.retainer_terms)
    total_days = (service_end - spread_start).days + 1
    if total_days <= 0 or mod.effective_date > service_end:
        raise RevenueInputError(f"contract {contract.contract_id}: modification {mod.reference} is effective "
                                f"{mod.effective_date.isoformat()}, after the service ended {service_end.isoformat()}")

    def earned(on: date) -> Decimal:
        elapsed = max(0, (min(on, service_end) - spread_start).days + 1)
        return quantize(mod.added_price * elapsed / total_days, contract.currency)

    return earned(as_of), earned(mod.effective_date - ONE_DAY)


def measure_straight_line(contract: RevenueContract, as_of: date) -> Measurement:
    """Measure a retainer straight-line over time elapsed (R4)."""
    revenue = sum((_term_revenue(term, contract.currency, as_of) for term in contract.retainer_terms), ZERO)
    price: Decimal | None = None
    if all(term.end is not None for term in contract.retainer_terms):
        price = sum((_term_revenue(term, contract.currency, term.end or term.start)
                     for term in contract.retainer_terms), ZERO)
    catch_ups: list[tuple[str, Decimal]] = []
    for mod in applied_modifications(contract, as_of):
        if mod.kind is ModificationKind.SEPARATE_CONTRACT:
            catch_ups.append((mod.reference, ZERO))
            continue
        earned, catch_up = _spread(contract, mod, as_of)
        revenue += earned
        price = None if price is None else price + mod.added_price
        catch_ups.append((mod.reference, catch_up))
    return Measurement(revenue, price, tuple(catch_ups))
