"""What a billing run bills for one contract, pure: transactions (with the cap), milestones, retainer months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from simulators.common.store import Record
from simulators.erp.documents import Charge
from simulators.erp.money import add_days, add_months, month_name, period_of, period_start

UNBILLED_STATUSES = ("UNBILLED", "HELD")


@dataclass(frozen=True, slots=True)
class TransactionBilling:
    """How much of a transaction a run bills now and how much it holds over the cap."""

    transaction: Record
    billed: Decimal
    held: Decimal


def available(transaction: Record) -> Decimal:
    """Return what of a live transaction is not billed nor written off (unbilled plus held)."""
    return (Decimal(transaction["amount"]) - Decimal(transaction["billed_amount"])
            - Decimal(transaction["written_off_amount"]))


def bill_transactions(contract: Record, transactions: list[Record], period_end: date) -> list[TransactionBilling]:
    """Return the run's billing of a contract's unbilled transactions dated up to `period_end`.

    Capped T&M bills in date order up to the cap (cap minus what is billed net of credits so far) and
    holds the rest; a transaction straddling the cap is billed in part.
    """
    cutoff = period_end.isoformat()
    eligible = sorted((t for t in transactions if t["status"] in UNBILLED_STATUSES and t["date"] <= cutoff),
                      key=lambda t: (t["date"], t["id"]))
    room: Decimal | None = None
    if contract["billing_model"] == "CAPPED_TM":
        billed_so_far = sum((Decimal(t["billed_amount"]) for t in transactions), Decimal(0))
        room = max(Decimal(contract["billing_plan"]["cap_amount"]) - billed_so_far, Decimal(0))
    billings = []
    for transaction in eligible:
        remaining = available(transaction)
        billed = remaining if room is None else min(remaining, room)
        if room is not None:
            room -= billed
        billings.append(TransactionBilling(transaction, billed, remaining - billed))
    return billings


def transaction_charge(billing: TransactionBilling) -> Charge:
    """Return the invoice charge of a transaction billing."""
    transaction = billing.transaction
    description = transaction["description"] or f"{transaction['kind'].title()} {transaction['date']}"
    if billing.held > 0:
        description += f" (billed up to the cap; {billing.held:f} held)"
    return Charge(kind=transaction["kind"], description=description, quantity=transaction["quantity"],
                  rate=transaction["rate"], net=billing.billed, source_system=transaction["source_system"],
                  source_id=transaction["source_id"], source_version=transaction["source_version"],
                  billable_transaction_id=transaction["id"])


def _bills_unaccepted(contract: Record) -> bool:
    termination = contract["termination"]
    return termination is not None and termination["unbilled_rule"] == "BILL"


def due_milestones(contract: Record, period_end: date) -> list[dict[str, Any]]:
    """Return the milestones ready to bill by `period_end`: completed, and accepted where required."""
    cutoff = period_end.isoformat()

    def ready(milestone: dict[str, Any]) -> bool:
        if milestone["status"] == "ACCEPTED":
            return bool(milestone["accepted_on"] <= cutoff)
        return (milestone["status"] == "COMPLETED" and milestone["completed_on"] <= cutoff
                and (not milestone["requires_acceptance"] or _bills_unaccepted(contract)))

    return [milestone for milestone in contract["billing_plan"]["milestones"] if ready(milestone)]


def milestone_charge(contract: Record, milestone: dict[str, Any]) -> Charge:
    """Return the invoice charge of a milestone."""
    from_psa = all(milestone[name] is not None for name in ("source_system", "source_id", "source_version"))
    return Charge(kind="MILESTONE", description=f"Milestone {milestone['id']}: {milestone['name']}",
                  quantity="1", rate=milestone["amount"], net=Decimal(milestone["amount"]),
                  source_system=milestone["source_system"] if from_psa else contract["source_system"],
                  source_id=milestone["source_id"] if from_psa else contract["source_id"],
                  source_version=milestone["source_version"] if from_psa else contract["source_version"],
                  milestone_id=milestone["id"])


def due_retainer_months(contract: Record, period_end: date) -> list[str]:
    """Return the retainer months to bill in advance: unbilled months starting by the day after `period_end`."""
    retainer = contract["billing_plan"]["retainer"]
    if retainer is None:
        return []
    horizon = period_of(add_days(period_end, 1))
    billed = {billing["service_period"] for billing in retainer["billed_periods"]}
    termination = contract["termination"]
    first = period_of(date.fromisoformat(retainer["start_date"]))
    months = []
    for offset in range(retainer["term_months"]):
        month = add_months(first, offset)
        if month is None or month > horizon:
            break
        if termination is not None and period_start(month).isoformat() > termination["effective_date"]:
            break
        if month not in billed:
            months.append(month)
    return months


def retainer_charge(contract: Record, month: str) -> Charge:
    """Return the invoice charge of one retainer month."""
    fee = contract["billing_plan"]["retainer"]["monthly_fee"]
    return Charge(kind="RETAINER_FEE", description=f"Retainer fee {month_name(month)} (billed in advance)",
                  quantity="1", rate=fee, net=Decimal(fee), source_system=contract["source_system"],
                  source_id=contract["source_id"], source_version=contract["source_version"], service_period=month)
