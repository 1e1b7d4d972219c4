"""Which contract of a capped T&M deal an approval is posted to, once change orders bought more capacity.

A change order that is a separate contract (DOMAIN R5 branch 1) on a capped T&M deal is booked as a
second capped contract of the same deal (`separate_contracts`): the customer bought that much more
capacity from its effective date. Nothing in PSA says which contract an hour belongs to, so the
rule is one of capacity, in posting order: an approved revision goes to the deal's own contract
while the value live on it (posted and not reversed) is below its cap; once that is full, to the
first of the deal's separate capped contracts in force on the entry's date (start date on or
before it; oldest start first, then id) whose live value is below its cap; when every one in force
is full, to the deal's own contract again, where the ERP holds it over the cap. The posting that
fills a contract is billed in part by the ERP (up to the cap) and the rest held, as on any capped
contract. A reversal goes to the transaction the revision was posted as, so to the same contract.

The ERP does not choose: it bills and holds what each contract is given. Only deals with a separate
capped contract pay for the reads (the ledger's `separate-capped:<contract>` mark, set when one is
booked): the deal's contracts by opportunity, and the transactions of each, once per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from syncengine.flows.contract_lookup import ERP
from syncengine.ports import Ports

CAPPED = "CAPPED_TM"
LIVE_OUT = ("REVERSED",)


def mark_key(contract_id: str) -> str:
    """Return the ledger's applied-version name that says a deal's own contract has separate capped contracts."""
    return f"separate-capped:{contract_id}"


@dataclass(slots=True)
class Capacity:
    """A capped contract of a deal: from when it is in force, and the value it can still take below its cap."""

    contract_id: str
    start: date
    room: Decimal


def choose(capacities: Sequence[Capacity], on: date, amount: Decimal) -> str:
    """Return the contract a posting dated `on` goes to, and count its amount against that contract's room.

    `capacities[0]` is the deal's own contract; the rest its separate capped contracts, in order.
    """
    own = capacities[0]
    chosen = own
    if own.room <= 0:
        chosen = next((c for c in capacities[1:] if c.start <= on and c.room > 0), own)
    chosen.room -= amount
    return chosen.contract_id


def capacities(ports: Ports, contract_id: str) -> list[Capacity] | None:
    """Return the deal's own capped contract and its separate capped contracts with their room, or None when the
    deal has no separate capped contract (everything goes to its own contract)."""
    if not ports.ledger.applied_version(mark_key(contract_id)):
        return None
    erp = ports.client(ERP)
    own = erp.get(f"/contracts/{contract_id}").body
    if own.get("billing_model") != CAPPED or not own.get("crm_opportunity_id"):
        return None
    separate = sorted((c for c in erp.pages("/contracts", {"crm_opportunity_id": own["crm_opportunity_id"]})
                       if c.get("id") != contract_id and c.get("billing_model") == CAPPED
                       and c.get("status") != "TERMINATED"),
                      key=lambda c: (str(c.get("start_date")), str(c.get("id"))))
    return [_capacity(ports, contract) for contract in (own, *separate)]


def _capacity(ports: Ports, contract: dict[str, Any]) -> Capacity:
    contract_id = str(contract["id"])
    live = sum((Decimal(str(t["amount"])) for t in ports.client(ERP).pages("/billable-transactions",
                                                                             {"contract_id": contract_id})
                if t.get("status") not in LIVE_OUT), Decimal(0))
    cap = Decimal(str((contract.get("billing_plan") or {}).get("cap_amount") or 0))
    return Capacity(contract_id, date.fromisoformat(str(contract["start_date"])), cap - live)
