"""Change orders that are separate contracts: distinct services added at their standalone selling price.

ASC 606-10-25-12 (DOMAIN R5, branch 1): such a change is a contract of its own and the original
stays untouched. The ERP refuses it as a version of the deal's contract (422
`separate-contract-required`) and asks for `createContract`, so the engine books it as a second
ERP contract of the same customer, entity, currency and billing model, named after the amendment
(`source_id` = amendment id, `source_version` = the contract version it made, `crm_opportunity_id`
= the deal, so it is found from either side):

- price: the amendment's `amount_change`; fixed fee: the billing milestones the amendment added
  (recognized when each is done: a distinct deliverable sold on its own, whose cost the project's
  cost actuals cannot tell apart); retainer: the months it added, from the first month after the
  original contract's term, at the monthly fee; capped T&M: a cap of its price, which approved
  time beyond the deal's own cap fills (`capacity`: the ledger marks the deal's contract);
- the deal's own contract keeps what the separate changes did not add: a later ordinary change
  order versions it with the CRM's terms net of every separate change (price, cap, milestones);
- the PSA project delivers both, so its budget follows the CRM's contract version as for any change.

Each step looks before it creates (ledger link `change:<amendment id>`, then the ERP by
opportunity and source id), so a retried or re-driven message never books a contract twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from syncengine.domain.deal_rules import term_months
from syncengine.domain.deals import ChangeOrder, ContractTerms, Deal, milestone_key
from syncengine.domain.errors import BusinessException
from syncengine.domain.messages import SourceEvent
from syncengine.flows.capacity import mark_key
from syncengine.flows.deal_support import ERP, post_keyed
from syncengine.mapping import crm
from syncengine.mapping.erp_deals import NAME_MAX
from syncengine.mapping.fields import amount_text
from syncengine.mapping.tables import default_tables
from syncengine.ports import Ports

APPROVED = "APPROVED"
MILESTONE_POLICY = "POINT_IN_TIME"
"""A separate fixed-fee change is recognized per milestone: its cost is not told apart on the project."""


def separate_key(amendment_id: str) -> str:
    """Return the canonical key of a change order booked as a separate contract."""
    return f"change:{amendment_id}"


def approved_changes(ports: Ports, message: SourceEvent, opportunity_id: str, up_to: int) -> list[ChangeOrder]:
    """Return the deal's approved change orders up to a contract version, oldest first."""
    params = {"opportunity_id": opportunity_id, "status": APPROVED}
    changes = [crm.change_order_from_amendment(item) for item in ports.client(message.system).pages("/amendments",
                                                                                                    params)]
    return sorted((c for c in changes if c.contract_version is not None and c.contract_version <= up_to),
                  key=lambda c: c.contract_version or 0)


def _added_indices(terms: ContractTerms, changes: list[ChangeOrder]) -> dict[str, range]:
    """Return the billing-milestone indices each change added (changes append to the deal's list in order)."""
    offset = len(terms.milestones) - sum(change.milestones_added for change in changes)
    added = {}
    for change in changes:
        added[change.amendment_id] = range(offset, offset + change.milestones_added)
        offset += change.milestones_added
    return added


def main_terms(deal: Deal, terms: ContractTerms, changes: list[ChangeOrder]) -> ContractTerms:
    """Return the terms of the deal's own ERP contract: the CRM's, net of every separate change."""
    separate = [change for change in changes if change.separate_contract]
    if not separate:
        return terms
    if deal.billing_model == "RETAINER":
        raise BusinessException("retainer-change-after-separate-contract",
                                f"{deal.opportunity_id}: a change order after one booked as a separate retainer "
                                f"contract needs a person to split the service period between the two contracts")
    added = _added_indices(terms, changes)
    dropped = {index for change in separate for index in added[change.amendment_id]}
    price = sum((change.amount_change for change in separate), Decimal(0))
    return replace(terms, total_price=terms.total_price - price,
                   cap_amount=None if terms.cap_amount is None else terms.cap_amount - price,
                   milestones=tuple(m for m in terms.milestones if m.index not in dropped))


def ensure_separate_contracts(deal: Deal, terms: ContractTerms, changes: list[ChangeOrder], contract_id: str,
                              project_id: str, message: SourceEvent, ports: Ports) -> None:
    """Book each separate change order up to the terms' version as its own ERP contract, once."""
    added = _added_indices(terms, changes)
    main: dict[str, Any] | None = None
    for change in changes:
        if not change.separate_contract:
            continue
        key = separate_key(change.amendment_id)
        separate_id = ports.ledger.external_id("contract", ERP, key)
        if separate_id is None:
            erp = ports.client(ERP)
            main = main or dict(erp.get(f"/contracts/{contract_id}").body)
            separate_id = _existing(ports, deal.opportunity_id, change.amendment_id)
            if separate_id is None:
                body = separate_contract_body(deal, terms, change, main, project_id, added[change.amendment_id])
                separate_id = str(post_keyed(erp, "/contracts", body, message, ports,
                                             f"erp-separate-contract:{change.amendment_id}").body["id"])
            ports.ledger.link("contract", ERP, separate_id, key)
        if deal.billing_model == "CAPPED_TM":
            ports.ledger.set_applied_version(mark_key(contract_id), 1)  # time may go to it now (`capacity`)
        for milestone in terms.milestones:
            if milestone.index in added[change.amendment_id]:
                ports.ledger.link("milestone", ERP, f"{separate_id}/{milestone.code}",
                                  milestone_key(deal.opportunity_id, milestone.index))


def _existing(ports: Ports, opportunity_id: str, amendment_id: str) -> str | None:
    for item in ports.client(ERP).pages("/contracts", {"crm_opportunity_id": opportunity_id}):
        if item.get("source_id") == amendment_id:
            return str(item["id"])
    return None


def separate_contract_body(deal: Deal, terms: ContractTerms, change: ChangeOrder, main: dict[str, Any],
                           project_id: str, milestone_indices: range) -> dict[str, Any]:
    """Return the `createContract` body of a change order that is a separate contract."""
    currency = deal.currency
    model = str(main["billing_model"])
    start = change.effective_date
    plan: dict[str, Any] = {}
    policy = default_tables().billing(deal.billing_model).revenue_policy
    if model == "FIXED_FEE":
        policy = MILESTONE_POLICY
        plan["milestones"] = [
            {"id": m.code, "name": m.name[:NAME_MAX], "amount": amount_text(m.amount, currency),
             "requires_acceptance": m.requires_acceptance, "due_date": m.due_date.isoformat()}
            for m in terms.milestones if m.index in milestone_indices]
    elif model == "RETAINER" and terms.monthly_fee is not None and terms.service_end is not None:
        start = max(start, _after_term(main))
        plan["retainer"] = {"monthly_fee": amount_text(terms.monthly_fee, currency),
                            "term_months": max(1, min(120, term_months(start, terms.service_end))),
                            "start_date": start.isoformat()}
    elif model == "CAPPED_TM":
        plan["cap_amount"] = amount_text(change.amount_change, currency)
    body: dict[str, Any] = {
        "name": f"{deal.name} - change order {change.amendment_id}"[:NAME_MAX],
        "customer_id": main["customer_id"], "legal_entity": main["legal_entity"], "currency": main["currency"],
        "billing_model": model, "revenue_policy": policy, "crm_opportunity_id": deal.opportunity_id,
        "psa_project_id": project_id, "source_system": "crm", "source_id": change.amendment_id,
        "source_version": change.contract_version, "start_date": start.isoformat(),
        "total_price": amount_text(change.amount_change, currency), "billing_plan": plan,
    }
    if main.get("practice"):
        body["practice"] = main["practice"]
    if terms.service_end is not None and terms.service_end >= start:
        body["end_date"] = terms.service_end.isoformat()
    return body


def _after_term(main: dict[str, Any]) -> date:
    """Return the first day after the original retainer's last billed month (its months are its own)."""
    retainer = (main.get("billing_plan") or {}).get("retainer") or {}
    first = date.fromisoformat(str(retainer.get("start_date") or main["start_date"])).replace(day=1)
    months = first.month - 1 + int(retainer.get("term_months") or 0)
    return date(first.year + months // 12, months % 12 + 1, 1)
