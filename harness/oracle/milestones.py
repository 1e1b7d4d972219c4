"""Fixed-fee milestones billed exactly once, at their amount, net of credits.

A milestone completed in PSA (and accepted, where the contract requires acceptance) must reach the
billing plan of the deal's ERP contract (or of the separate contract of the change order that added
it, DOMAIN R5 branch 1) at its amount, and be invoiced once net of credit memos: never more,
never a part. It must be invoiced by now when a billing run of its legal entity was started after it
became billable (and after any dispute on the contract, which credits and re-bills) with a period end
on or after the date it became billable (a run less than truth_view.SETTLE after it may not have seen it
yet; the next one must). A cancellation with unbilled_rule BILL makes completed but
unaccepted milestones billable; with WRITE_OFF, what was not yet billed is never billed.
"""

from __future__ import annotations

from decimal import Decimal

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record
from harness.oracle.truth_facts import Deal, MilestoneFact
from harness.oracle.values import ZERO, decimal, money_text, same_money

REACHED = ("COMPLETED", "ACCEPTED", "BILLED")


def plan_milestone(contract: Record, milestone: MilestoneFact) -> Record | None:
    """Return the contract's billing-plan milestone for a PSA milestone: by its source id, else by name."""
    plan = [m for m in (contract.get("billing_plan") or {}).get("milestones") or [] if isinstance(m, dict)]
    by_source = [m for m in plan if m.get("source_id") == milestone.milestone_id]
    if by_source:
        return by_source[0]
    by_name = [m for m in plan if m.get("name") == milestone.name and not m.get("source_id")]
    return by_name[0] if len(by_name) == 1 else None


def net_invoiced(evidence: Evidence, contract_id: str, plan_id: str) -> Decimal:
    """Return what is invoiced for a plan milestone net of credit memos (net of tax)."""
    erp = evidence.systems.erp

    def lines(collection: str) -> Decimal:
        return sum((decimal(line.get("net_amount", "0")) for document in erp.where(collection, contract_id=contract_id)
                    for line in document.get("lines") or [] if isinstance(line, dict)
                    and line.get("kind") == "MILESTONE" and line.get("milestone_id") == plan_id), ZERO)

    return lines("invoices") - lines("credit_memos")


def _billable(evidence: Evidence, deal: Deal, milestone: MilestoneFact) -> tuple[int | None, str | None]:
    """Return (sequence, date) when the milestone became billable, or (None, None) while it is not."""
    if milestone.billable_on is not None:
        return milestone.billable_sequence, milestone.billable_on.isoformat()
    cancellation = evidence.truth.cancellations.get(deal.opportunity_id)
    if cancellation is not None and cancellation.unbilled_rule == "BILL":
        return cancellation.sequence, milestone.completed_on.isoformat()
    return None, None


def _due(evidence: Evidence, deal: Deal, contract_id: str, milestone: MilestoneFact) -> str | None:
    """Return the billing run that should have invoiced the milestone, if any."""
    sequence, billable_on = _billable(evidence, deal, milestone)
    if sequence is None or billable_on is None:
        return None
    cancellation = evidence.truth.cancellations.get(deal.opportunity_id)
    if cancellation is not None and cancellation.unbilled_rule == "WRITE_OFF" and cancellation.sequence < sequence:
        return None
    disputes = [d.sequence for d in evidence.truth.disputes if d.contract_id == contract_id]
    after = max([sequence, *disputes])
    for run in evidence.truth.billing_runs:
        if (run.legal_entity == deal.legal_entity and run.sequence > after
                and evidence.truth.settled(after, run.sequence) and run.period_end.isoformat() >= billable_on):
            return run.billing_run_id
    return None


def _check_one(result: InvariantResult, evidence: Evidence, deal: Deal, contracts: list[Record],
               milestone: MilestoneFact) -> tuple[str, str] | None:
    found = [(contract, plan) for contract in contracts if (plan := plan_milestone(contract, milestone)) is not None]
    if not found:
        result.violate("erp", milestone.milestone_id, f"a milestone of {', '.join(_ids(contracts))}", None,
                       f"completed milestone {milestone.name!r} ({deal.opportunity_id}) is not in the billing plan")
        return None
    contract, plan = found[0]
    contract_id = str(contract.get("id"))
    label = f"{contract_id}/{plan.get('id')}"
    if not same_money(plan.get("amount"), milestone.amount):
        result.violate("erp", label, money_text(milestone.amount), plan.get("amount"),
                       f"billing-plan amount of milestone {milestone.milestone_id}")
    if plan.get("status") not in REACHED and plan.get("status") != "CANCELLED":
        result.violate("erp", label, "COMPLETED", plan.get("status"),
                       f"completion of milestone {milestone.milestone_id} never reached the ERP")
    elif milestone.accepted_on is not None and plan.get("status") == "COMPLETED":
        result.violate("erp", label, "ACCEPTED", plan.get("status"),
                       f"acceptance of milestone {milestone.milestone_id} never reached the ERP")
    net = net_invoiced(evidence, contract_id, str(plan.get("id")))
    if net not in (ZERO, milestone.amount) or net > milestone.amount:
        result.violate("erp", label, f"{money_text(milestone.amount)} invoiced once", money_text(net),
                       f"milestone {milestone.milestone_id} is invoiced {money_text(net)} net of credits")
    elif net == 0:
        run = _due(evidence, deal, contract_id, milestone)
        if run is not None:
            result.violate("erp", label, money_text(milestone.amount), "0.00",
                           f"milestone {milestone.milestone_id} was billable before billing run {run} and is "
                           "not invoiced")
    return contract_id, str(plan.get("id"))


def _ids(contracts: list[Record]) -> list[str]:
    return [str(contract.get("id")) for contract in contracts]


def milestones_billed_exactly_once(evidence: Evidence) -> InvariantResult:
    """Every completed (and accepted where required) fixed-fee milestone is invoiced once; nothing else is."""
    result = InvariantResult("milestones-billed-exactly-once")
    completed: dict[str, list[MilestoneFact]] = {}
    for milestone in evidence.truth.milestones.values():
        completed.setdefault(milestone.opportunity_id, []).append(milestone)
    for deal in evidence.truth.delivered_deals():
        if deal.billing_model != "FIXED_FEE":
            continue
        contract = evidence.contract_of(deal)
        if contract is None:
            continue
        contracts = [contract, *evidence.separate_contracts_of(deal)]
        matched: set[tuple[str, str]] = set()
        for milestone in completed.get(deal.opportunity_id, []):
            result.checked += 1
            reference = _check_one(result, evidence, deal, contracts, milestone)
            if reference is not None:
                matched.add(reference)
        for contract in contracts:
            for plan in (contract.get("billing_plan") or {}).get("milestones") or []:
                if not isinstance(plan, dict) or (str(contract.get("id")), str(plan.get("id"))) in matched:
                    continue
                result.checked += 1
                net = net_invoiced(evidence, str(contract.get("id")), str(plan.get("id")))
                if net != 0:
                    result.violate("erp", f"{contract.get('id')}/{plan.get('id')}", "0.00", money_text(net),
                                   f"milestone {plan.get('name')!r} is invoiced but truth never completed it")
    return result
