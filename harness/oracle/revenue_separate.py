"""Revenue of a change order's separate contract (DOMAIN R5 branch 1), recomputed from truth.

A change order that adds distinct services at their standalone selling price is a contract of its
own: the oracle measures it like any contract, by its billing model, with its own price and term,
and the deal's own contract is measured without it (`asc606`: its cap, its service and its price
are not raised by it). Per billing model:

- Capped T&M: right to invoice (R3) on the approved billable time (hours x the deal's agreed rate)
  and expenses posted to it, dated from the change order's effective date up to the period end,
  capped at the change order's price. Truth does not say which hour belongs to which contract (the
  capacity rule places value in posting order: the deal's own contract while it is below its cap,
  then the first separate one in force with room), so the oracle takes the contract each approved
  revision was posted to from the ERP's billable transactions (any status: a reversal follows its
  transaction), and values and dates it from truth.
  Exact: each revision's value and date, the separate contract's cap and start, and the deal's own
  contract, whose figure is min(every approved value of the deal, its own cap) whatever the
  placement (so value moved to a separate contract while the own one had room shows there).
  Within a bound: which revisions the separate contract holds. That placement is held by
  time-billed-exactly-once (`capacity`): each posting on the own contract or a separate one in
  force on its date, and no more than one posting's worth of value held over the own cap while a
  separate contract in force had room. A revision approved before the run and never posted counts
  on no separate contract.
- T&M: right to invoice on what was posted to it, uncapped (nothing may be: time-billed-exactly-once
  holds postings of an uncapped deal on its own contract), so normally zero.
- Retainer: straight line (R4) at the deal's monthly fee for the change order's price / fee months,
  from the day after the deal's own service (as its ordinary change orders left it) or the change
  order's effective date if later. A price that is not a whole number of monthly fees, or a change
  order after the separate one (its split of the service needs a person), is not checked.
- Fixed fee: the milestones the change order added, recognized at a point in time (R1) when control
  transfers (on acceptance where required, else on completion): truth does not tell the added
  work's cost apart from the project's, so cost to cost cannot measure it. Which completed
  milestone belongs to it is read from its billing plan (milestones-billed-exactly-once holds that
  every completed milestone is on a plan at its amount); their total must not exceed its price.
  A separate fixed-fee contract the ERP measures by cost to cost is noted, not checked.
- Reimbursable expenses of a fixed-fee or retainer deal stay on the deal's own contract: a separate
  contract's pass-through stream, where stated, must be zero.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from harness.oracle import asc606
from harness.oracle.asc606 import CalculationGap, Dated, Deliverable, Policy, Retainer
from harness.oracle.evidence import Evidence
from harness.oracle.milestones import plan_milestone
from harness.oracle.revenue_inputs import PASS_THROUGH, retainer_terms
from harness.oracle.systems import Record
from harness.oracle.truth_facts import Amendment, Deal, RevenueRun
from harness.oracle.truth_view import EVERYTHING
from harness.oracle.values import ONE_DAY, ZERO, add_months, cents, month_end, period_end

SEPARATE_POLICY = {
    "TIME_AND_MATERIALS": Policy.RIGHT_TO_INVOICE,
    "CAPPED_TM": Policy.RIGHT_TO_INVOICE,
    "RETAINER": Policy.STRAIGHT_LINE,
    "FIXED_FEE": Policy.POINT_IN_TIME,
}
Placement = dict[tuple[str, str, int], str]


def separate_contracts(evidence: Evidence, deal: Deal) -> list[tuple[Amendment, Record]]:
    """Return the deal's change orders that are separate contracts, each with an ERP contract booked from it."""
    return [(amendment, contract) for amendment in evidence.truth.amendments_of(deal.opportunity_id)
            if amendment.distinct and amendment.priced_at_standalone
            for contract in evidence.systems.change_contracts_of(amendment.amendment_id)]


def _placements(evidence: Evidence) -> Placement:
    """Return the contract each posted revision (kind, entry id, revision) went to, reversed or not."""
    placed: Placement = {}
    for transaction in evidence.systems.erp.all("billable_transactions"):
        version = transaction.get("source_version")
        if isinstance(version, int) and not isinstance(version, bool):
            key = (str(transaction.get("kind")), str(transaction.get("source_id")), version)
            placed.setdefault(key, str(transaction.get("contract_id")))
    return placed


def placed_values(evidence: Evidence, deal: Deal, contract_id: str, before: int, since: date) -> list[Dated]:
    """Return the approved billable value (from truth) of the revisions posted to a contract and dated from
    `since` (its effective date: work before it is no part of it)."""
    placed: Placement = evidence.memo("revenue_placements", _placements)
    truth = evidence.truth
    values: list[Dated] = []
    for line in truth.time_revisions(before).by_opportunity.get(deal.opportunity_id, []):
        if not line.billable or line.on < since or placed.get(("TIME", line.entry_id, line.revision)) != contract_id:
            continue
        rate = deal.rate_card.get(line.role, line.bill_rate)
        if rate is None:
            raise CalculationGap(f"no agreed rate for {line.role} (time entry {line.entry_id})")
        values.append(Dated(line.on, cents(line.hours * rate)))
    for expense in truth.expense_revisions(before).by_opportunity.get(deal.opportunity_id, []):
        if (not expense.billable or expense.on < since
                or placed.get(("EXPENSE", expense.entry_id, expense.revision)) != contract_id):
            continue
        if expense.currency != deal.currency:
            raise CalculationGap(f"expense {expense.entry_id} is in {expense.currency} and truth has no FX rate")
        values.append(Dated(expense.on, expense.amount))
    return values


def separate_retainer(evidence: Evidence, deal: Deal, amendment: Amendment, before: int) -> Retainer:
    """Return a separate retainer contract's service: price / fee months after the deal's own service."""
    fee = deal.monthly_fee
    if fee is None or fee <= 0:
        raise CalculationGap("retainer without a monthly fee in truth")
    months = amendment.amount_change / fee
    if months <= 0 or months != months.to_integral_value():
        raise CalculationGap(f"its price {amendment.amount_change:f} is not a whole number of monthly fees")
    later = [a for a in evidence.truth.amendments_of(deal.opportunity_id, before) if a.version > amendment.version]
    if later:
        raise CalculationGap(f"change order {later[0].amendment_id} came after it: splitting the service between "
                             "the contracts needs a person")
    own, _ = retainer_terms(evidence.truth, deal, before)
    if own.end is None:
        raise CalculationGap("the deal's own retainer has no end for the separate one to follow")
    start = max(amendment.effective, own.end + ONE_DAY)
    return Retainer(start, month_end(add_months(start, int(months) - 1)), fee)


def placed_milestones(evidence: Evidence, deal: Deal, contract: Record, before: int) -> list[Deliverable]:
    """Return the completed milestones of the deal on a contract's billing plan, as known before a sequence."""
    found = []
    for milestone in evidence.truth.milestones.values():
        if milestone.opportunity_id != deal.opportunity_id or plan_milestone(contract, milestone) is None:
            continue
        sequence, on = milestone.billable_sequence, milestone.billable_on
        known = sequence is not None and on is not None and sequence < before
        found.append(Deliverable(milestone.milestone_id, milestone.amount, on if known else None))
    return found


def expected_separate(evidence: Evidence, deal: Deal, amendment: Amendment, contract: Record, run: RevenueRun,
                      before: int, stream: str) -> Decimal:
    """Return a separate contract's cumulative revenue of a stream to the run's period end, from the facts before
    `before` (raise CalculationGap when truth cannot determine it)."""
    as_of = period_end(run.period)
    cancellation = evidence.truth.cancellations.get(deal.opportunity_id)
    if cancellation is not None and cancellation.sequence < run.sequence and cancellation.effective <= as_of:
        raise CalculationGap(f"cancelled effective {cancellation.effective.isoformat()}; revenue on termination "
                             "is not modelled")
    if amendment.sequence >= before or stream == PASS_THROUGH:
        return ZERO  # not yet approved; expenses stay on the deal's own contract
    policy = SEPARATE_POLICY[deal.billing_model]
    if policy is Policy.RIGHT_TO_INVOICE:
        cap = amendment.amount_change if deal.billing_model == "CAPPED_TM" else None
        return asc606.right_to_invoice(placed_values(evidence, deal, str(contract.get("id")), before,
                                                       amendment.effective), as_of, cap)
    if policy is Policy.STRAIGHT_LINE:
        return asc606.straight_line(separate_retainer(evidence, deal, amendment, before), as_of)
    return asc606.point_in_time(placed_milestones(evidence, deal, contract, before), as_of)


def over_price(evidence: Evidence, deal: Deal, amendment: Amendment, contract: Record) -> Decimal:
    """Return by how much the completed milestones on a separate fixed-fee contract exceed its price (0 if not)."""
    if deal.billing_model != "FIXED_FEE":
        return ZERO
    total = sum((m.amount for m in placed_milestones(evidence, deal, contract, EVERYTHING)), ZERO)
    return max(total - amendment.amount_change, ZERO)

