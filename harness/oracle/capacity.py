"""Capacity a capped T&M customer bought with a change order that is a separate contract, and whether it is billed.

A change order on a capped T&M deal that adds distinct services at their standalone price (DOMAIN
R5 branch 1) is a contract of its own whose cap is its price, in force from its effective date:
the customer bought that much more capacity. Truth does not say which hour belongs to which
contract, so the rule the oracle holds the integration to is one of capacity: an approved billable
posting of the deal may be on the deal's own contract or on any of its separate capped contracts
in force on the posting's date (`allowed_contracts`), and approved value is not left held over the
own contract's cap while a separate contract in force on its date has room for it
(`check_capacity`).

Order-free form of the second rule, from the final state: the own contract's live value over its
cap (its cap from truth: the deal's cap plus every approved change order that is not a separate
contract), the part of it dated on or after a separate contract's effective date, and that
contract's room (its price minus its live value) must not all exceed the largest live posting on the
own contract. One posting's worth is allowed: the posting that fills a contract is billed in part
and the rest held (the ERP bills a straddling transaction up to the cap), wherever it goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record
from harness.oracle.truth_facts import Amendment, Deal
from harness.oracle.values import ZERO, decimal, money_text

CAPPED = "CAPPED_TM"


@dataclass(frozen=True, slots=True)
class Separate:
    """A separate capped contract of a deal, as truth prices it: from when, and how much capacity."""

    contract_id: str
    effective: date
    cap: Decimal


def _is_separate(amendment: Amendment) -> bool:
    return amendment.distinct and amendment.priced_at_standalone


def separate_capped(evidence: Evidence, deal: Deal) -> list[Separate]:
    """Return the ERP contracts booked from a capped deal's separate change orders, with truth's date and price."""
    if deal.billing_model != CAPPED:
        return []
    return [Separate(str(contract.get("id")), amendment.effective, amendment.amount_change)
            for amendment in evidence.truth.amendments_of(deal.opportunity_id) if _is_separate(amendment)
            for contract in evidence.systems.change_contracts_of(amendment.amendment_id)]


def allowed_contracts(evidence: Evidence, deal: Deal, on: date) -> tuple[str, ...]:
    """Return the separate capped contracts (besides the deal's own) a posting dated `on` may be on."""
    found: dict[str, list[Separate]] = evidence.memo("separate_capped", _all_separate_capped)
    return tuple(separate.contract_id for separate in found.get(deal.opportunity_id, []) if separate.effective <= on)


def _all_separate_capped(evidence: Evidence) -> dict[str, list[Separate]]:
    return {deal.opportunity_id: found for deal in evidence.truth.delivered_deals()
            if (found := separate_capped(evidence, deal))}


def own_cap(evidence: Evidence, deal: Deal) -> Decimal:
    """Return the cap of a capped deal's own contract: the deal's, raised by every change order not separate."""
    return (deal.cap_amount or ZERO) + sum((a.amount_change for a in evidence.truth.amendments_of(deal.opportunity_id)
                                            if not _is_separate(a)), ZERO)


def _live(transactions: dict[object, list[Record]], contract_id: str) -> list[Record]:
    return [t for t in transactions.get(contract_id, []) if t.get("status") != "REVERSED"]


def check_capacity(result: InvariantResult, evidence: Evidence) -> None:
    """Report capacity a separate capped contract left unused while value in its term is held over the own cap."""
    transactions = evidence.systems.erp.group("billable_transactions", "contract_id")
    found: dict[str, list[Separate]] = evidence.memo("separate_capped", _all_separate_capped)
    for opportunity_id, separates in sorted(found.items()):
        deal = evidence.truth.deals[opportunity_id]
        own_id = evidence.contract_id_of(deal)
        if own_id is None:
            continue  # opportunity-to-project reports it
        own = _live(transactions, own_id)
        if not own:
            continue
        largest = max(decimal(t.get("amount", "0")) for t in own)
        over = sum((decimal(t.get("amount", "0")) for t in own), ZERO) - own_cap(evidence, deal)
        for separate in separates:
            result.checked += 1
            late = sum((decimal(t.get("amount", "0")) for t in own
                        if str(t.get("date", "")) >= separate.effective.isoformat()), ZERO)
            room = separate.cap - sum((decimal(t.get("amount", "0"))
                                       for t in _live(transactions, separate.contract_id)), ZERO)
            unused = min(over, late, room)
            if unused > largest:
                result.violate("erp", separate.contract_id, f"at most {money_text(largest)} unused",
                               money_text(unused),
                               f"{deal.opportunity_id}: {money_text(over)} posted over the own contract {own_id}'s "
                               f"cap, {money_text(late)} of it dated from {separate.effective.isoformat()}, while "
                               f"separate capped contract {separate.contract_id} has {money_text(room)} of its "
                               f"{money_text(separate.cap)} unused")
