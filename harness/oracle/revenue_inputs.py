"""Revenue inputs from truth as a revenue run saw them, and revenue figures as the ERP states them.

Truth side: a run takes what was known when it started (facts before it): approved and not reopened
time and expenses, cost rates (the latest correction for a start date wins), estimates at completion
and approved change orders.

ERP side: the figures of each contract at each run, read from the ERP export's `revenue_results`
(or `revenue_records`) collection, one record per contract and run, and from `revenue_runs` records
that carry them in a list (`results`, `lines` or `contracts`); a figure met twice (same id) counts
once. Each figure has `contract_id`, `period` (YYYY-MM) or `period_end`, `cumulative_revenue`, and
optionally `revenue_run_id`, `contract_asset`, `contract_liability`, `unbilled_receivable` (decimal
strings) and `stream`: the contract's own stream (`CONTRACT` or none) and, on fixed-fee and retainer
contracts, the reimbursable expenses passed through outside the fee (`PASS_THROUGH_EXPENSES`) are
compared; any other stream is not read. A change order booked as a separate contract is a contract
of its own, with the same streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from harness.oracle.asc606 import CalculationGap, Dated, Modification, Retainer, estimate_on, modification_kind
from harness.oracle.systems import Record, SystemState
from harness.oracle.truth_facts import Deal
from harness.oracle.truth_view import TruthView
from harness.oracle.values import add_months, cents, decimal, month_end, optional_decimal, period_end

FLAT = ("revenue_results", "revenue_records")
NESTED = ("results", "lines", "contracts")
POSITION_FIELDS = ("contract_asset", "contract_liability", "unbilled_receivable")
CONTRACT = "CONTRACT"
PASS_THROUGH = "PASS_THROUGH_EXPENSES"
STREAMS = {None: CONTRACT, CONTRACT: CONTRACT, PASS_THROUGH: PASS_THROUGH}


@dataclass(frozen=True, slots=True)
class Figure:
    """A contract's revenue figures as the ERP states them at one run."""

    record_id: str
    contract_id: str
    stream: str
    period_end: date
    run_id: str | None
    cumulative_revenue: Decimal
    position: dict[str, Decimal | None]
    measure: dict[str, Any]
    """What the ERP says it measured (cumulative_cost, estimate_at_completion), shown when it differs."""


def _figure(record: Record, run: Record | None, record_id: str) -> Figure:
    period = record.get("period_end") or record.get("period") or (run or {}).get("period_end") or (run or {}).get(
        "period")
    run_id = record.get("revenue_run_id") or (None if run is None else run.get("id"))
    return Figure(record_id, str(record.get("contract_id")), STREAMS[record.get("stream")], period_end(period),
                  None if run_id is None else str(run_id),
                  decimal(record.get("cumulative_revenue"), f"{record_id}/cumulative_revenue"),
                  {name: optional_decimal(record.get(name), f"{record_id}/{name}") for name in POSITION_FIELDS},
                  {name: record.get(name) for name in ("cumulative_cost", "estimate_at_completion")})


def erp_figures(erp: SystemState) -> Iterator[Figure]:
    """Yield every revenue figure of a contract's own or pass-through stream the ERP export holds, once each."""
    seen: set[str] = set()
    found: list[tuple[Record, Record | None, str]] = []
    for collection in FLAT:
        found += [(record, None, str(record.get("id"))) for record in erp.all(collection)]
    for run_record in erp.all("revenue_runs"):
        run: Record | None = run_record
        for name in NESTED:
            found += [(item, run, str(item.get("id") or f"{run_record.get('id')}/{name}/{index}"))
                      for index, item in enumerate(run_record.get(name) or []) if isinstance(item, dict)]
    for record, run, record_id in found:
        if record_id not in seen and record.get("stream") in STREAMS:
            seen.add(record_id)
            yield _figure(record, run, record_id)


def modifications(truth: TruthView, deal: Deal, before: int) -> list[Modification]:
    """Return the deal's approved change orders known before a sequence, as ASC 606 modifications."""
    return [Modification(a.amendment_id, a.effective, modification_kind(a.distinct, a.priced_at_standalone),
                         a.amount_change) for a in truth.amendments_of(deal.opportunity_id, before)]


def retainer_terms(truth: TruthView, deal: Deal, before: int) -> tuple[Retainer, list[Modification]]:
    """Return a retainer's service period after its change orders, and the change orders that are lump sums.

    A change order that extends the service at the monthly fee (its new service end, or else an amount
    that is a whole number of monthly fees: so many more months) moves the end of the service: each
    month still earns the fee, whatever its R5 branch, since every branch spreads the same price per
    month. Any other amount is a lump sum spread by `asc606.straight_line`. A change order that is a
    separate contract (distinct, at standalone price) is booked as a contract of its own and leaves
    the deal's contract untouched.
    """
    if deal.monthly_fee is None:
        raise CalculationGap("retainer without a monthly fee in truth")
    end = deal.service_end
    lump_sums = []
    for amendment in truth.amendments_of(deal.opportunity_id, before):
        if amendment.distinct and amendment.priced_at_standalone:
            continue
        months = amendment.amount_change / deal.monthly_fee if deal.monthly_fee else Decimal(0)
        if amendment.new_service_end is not None and months > 0 and months == months.to_integral_value():
            end = amendment.new_service_end
        elif end is not None and months > 0 and months == months.to_integral_value():
            end = month_end(add_months(end, int(months)))
        else:
            lump_sums.append(Modification(amendment.amendment_id, amendment.effective, modification_kind(
                amendment.distinct, amendment.priced_at_standalone), amendment.amount_change))
    return Retainer(deal.service_start, end, deal.monthly_fee), lump_sums


def approved_values(truth: TruthView, deal: Deal, before: int) -> list[Dated]:
    """Return the approved billable value of a deal: time at its agreed rates, billable expenses at cost."""
    values: list[Dated] = []
    for line in truth.time_revisions(before).by_opportunity.get(deal.opportunity_id, []):
        if not line.billable:
            continue
        rate = deal.rate_card.get(line.role, line.bill_rate)
        if rate is None:
            raise CalculationGap(f"no agreed rate for {line.role} (time entry {line.entry_id})")
        values.append(Dated(line.on, cents(line.hours * rate)))
    return values + expense_values(truth, deal, before)


def expense_values(truth: TruthView, deal: Deal, before: int) -> list[Dated]:
    """Return the approved billable expenses of a deal, at cost (reimbursable: the customer owes them once approved)."""
    values: list[Dated] = []
    for expense in truth.expense_revisions(before).by_opportunity.get(deal.opportunity_id, []):
        if not expense.billable:
            continue
        if expense.currency != deal.currency:
            raise CalculationGap(f"expense {expense.entry_id} is in {expense.currency} and truth has no FX rate")
        values.append(Dated(expense.on, expense.amount))
    return values


def expense_ids(truth: TruthView, deal: Deal) -> frozenset[str]:
    """Return the ids of every expense truth records on a deal (any revision): what an invoice line bills them by."""
    return truth.expense_ids_of(deal.opportunity_id)


def labour_costs(truth: TruthView, deal: Deal, before: int) -> list[Dated]:
    """Return a deal's labour cost lines: hours x the worker's cost rate on the day, rounded per line.

    Every approved hour counts, billable or not; reimbursable expenses are not progress (R2: they do
    not depict the transfer of control of the consulting service).
    """
    costs: list[Dated] = []
    for line in truth.time_revisions(before).by_opportunity.get(deal.opportunity_id, []):
        rate = truth.cost_rate(line.resource_id, line.on, before)
        if rate is None:
            raise CalculationGap(f"worker {line.resource_id} has no cost rate in truth on {line.on.isoformat()} "
                                 f"(time entry {line.entry_id})")
        if rate.currency != deal.currency:
            raise CalculationGap(f"worker {line.resource_id} costs in {rate.currency} on a {deal.currency} contract "
                                 "and truth has no FX rate")
        costs.append(Dated(line.on, cents(line.hours * rate.hourly_cost)))
    return costs


def estimates(truth: TruthView, deal: Deal, before: int) -> list[Dated]:
    """Return a deal's estimates at completion known before a sequence, in recording order."""
    return [Dated(estimate.as_of, estimate.eac) for estimate in truth.estimates_of(deal.opportunity_id, before)]


def cost_to_cost_measure(truth: TruthView, deal: Deal, before: int, as_of: date) -> str:
    """Describe truth's cost-to-cost measure on a date: cost to date / estimate at completion."""
    cost = sum((line.amount for line in labour_costs(truth, deal, before) if line.on <= as_of), Decimal(0))
    try:
        eac = f"{estimate_on(estimates(truth, deal, before), as_of):f}"
    except CalculationGap:
        eac = "none"
    return f"truth: labour cost {cents(cost):f} / EAC {eac}"


def position_fields(figure: Figure) -> dict[str, Any]:
    """Return the position fields the ERP stated (those it did not state are not checked)."""
    return {name: value for name, value in figure.position.items() if value is not None}
