"""What the money flows share: a PSA project's ERP contract and the contract's billing terms and facts.

A project's deal and the deal's contract are linked once and for good (the ledger refuses to link
them otherwise), and a contract's billing model, revenue policy and currency are fixed when it is
created, so once read (from the ledger, the currency from the ERP) they are kept in memory per
ledger, and each message of a project no longer reads them again (a ledger round trip each on
PostgreSQL; a cost-to-cost project's complete read of its cost read the contract for its currency).
A value is kept only after the unit of work that read it has committed (`after_commit`), so a link
made in a unit of work that rolled back is never remembered; until then the unit of work itself
keeps it (`unit_memo`), so the other messages of its batch (a bulk approval's hundred, each a
message of two flows) do not read it again. Other flows keep their own never-changing lookups the
same way (`kept`, `keep`).
"""

from __future__ import annotations

import functools
import weakref

from syncengine.domain import BusinessException
from syncengine.domain.work import BillingTerms
from syncengine.ledger.port import AbstractLedger
from syncengine.mapping import erp_billing
from syncengine.ports import Ports

ERP = "erp"
_KNOWN: weakref.WeakKeyDictionary[AbstractLedger, dict[str, str | int]] = weakref.WeakKeyDictionary()
"""Per ledger: lookups that never change once they are in it."""


def contract_of_project(ports: Ports, system: str, project_id: str) -> str | None:
    """Return the ERP contract of the deal a PSA project delivers (None when it is linked to none)."""
    name = f"contract-of:{system}:{project_id}"
    known = kept(ports.ledger, name)
    if known is not None:
        return str(known)
    deal = ports.ledger.canonical_key("project", system, project_id)
    contract_id = None if deal is None else ports.ledger.external_id("contract", ERP, deal)
    if contract_id is not None:
        keep(ports.ledger, name, contract_id)
    return contract_id


def require_contract(ports: Ports, system: str, project_id: str) -> str:
    """Return the ERP contract of a PSA project; a project linked to none is a business exception."""
    contract_id = contract_of_project(ports, system, project_id)
    if contract_id is None:
        raise BusinessException("unknown-contract", f"{system} project {project_id} is linked to no ERP contract "
                                                    f"(no deal xref holds it)")
    return contract_id


def billing_terms(ports: Ports, contract_id: str) -> BillingTerms:
    """Read an ERP contract's billing terms."""
    return erp_billing.billing_terms(ports.client(ERP).get(f"/contracts/{contract_id}").body)


def contract_currency(ports: Ports, contract_id: str) -> str:
    """Return an ERP contract's currency, read once and kept (a contract's currency never changes)."""
    name = f"contract-currency:{contract_id}"
    known = kept(ports.ledger, name)
    if known is None:
        known = billing_terms(ports, contract_id).currency
        keep(ports.ledger, name, known)
    return str(known)


def contract_fact(ports: Ports, contract_id: str, fact: str) -> bool:
    """Tell a fact of a contract that never changes (`bills-transactions`, `cost-to-cost`), read once and kept.

    The billing model and revenue policy are fixed when the contract is created (a change order
    cannot change them), so the answers are kept in the ledger's applied versions (1 yes, 0 no).
    """
    name = f"contract-{fact}:{contract_id}"
    known = kept(ports.ledger, name)
    if known is None:
        known = ports.ledger.applied_version(name)
        if known is None:
            terms = billing_terms(ports, contract_id)
            facts = {"bills-transactions": terms.bills_transactions, "cost-to-cost": terms.measures_cost}
            for fact_name, value in facts.items():
                ports.ledger.set_applied_version(f"contract-{fact_name}:{contract_id}", int(value))
            known = int(facts[fact])
        keep(ports.ledger, name, known)
    return known == 1


def kept(ledger: AbstractLedger, name: str) -> str | int | None:
    """Return a lookup that never changes kept for this ledger (committed, or of the open unit of work)."""
    value = _KNOWN.get(ledger, {}).get(name)
    return ledger.unit_memo().get(name) if value is None else value


def keep(ledger: AbstractLedger, name: str, value: str | int) -> None:
    """Keep a lookup that never changes: for the open unit of work now, for the ledger once it commits."""
    ledger.unit_memo()[name] = value
    ledger.after_commit(functools.partial(_remember, ledger, name, value))


def forget(ledger: AbstractLedger) -> None:
    """Forget every lookup kept for a ledger, as an engine restarted on it would have none."""
    _KNOWN.pop(ledger, None)


def _remember(ledger: AbstractLedger, name: str, value: str | int) -> None:
    _KNOWN.setdefault(ledger, {})[name] = value
