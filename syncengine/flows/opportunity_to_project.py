"""Opportunity to project: a closed-won deal becomes one ERP customer and contract and one PSA project.

Event `crm.opportunity.closed_won`, ordering key `deal:<opportunity id>`. The handler first checks
everything without writing (billing model, legal entity and practice known to the mapping tables,
the practice's PSA template, the ERP legal entity and its currency, the customer's tax
registration where the ERP needs one, complete terms); a problem raises BusinessException with its
slug (unknown-practice, currency-not-allowed, missing-tax-registration ...), so a bad deal makes
exactly one exception and writes nothing. Then, each step looking before it creates:

1. the ERP customer of the company in the deal's legal entity, deduplicated across CRM accounts
   (`deal_customers`);
2. the ERP contract with its billing plan (milestones, retainer fee, cap, EAC), at version 1;
3. the PSA project from the practice's template, with the ERP dimensions, the budget of contract
   version 1 and the deal's rate card;
4. the PSA milestones of the deal's billing milestones, linked to the ERP plan's;
5. write-backs: the account's ERP customer number, the opportunity's ERP contract and PSA project.

Every POST carries an Idempotency-Key derived from the message and its body, so a retried attempt
(lost response, outage) is replayed, never applied twice.

Re-drive. A deal refused for its account's data (missing-tax-registration) is re-driven when the
data is fixed: on `crm.account.updated` (ordering key `account:<account id>`) the parked deals of
that account, or of an account below it, run again from their closed-won event, and a deal that
now goes through has its exception resolved. An operator may re-drive any exception with
`engine.redrive` as well. Either way the steps above find what exists, so the deal flows once, and
a re-driven deal catches up with the contract version the CRM reached while it waited.
"""

from __future__ import annotations

from syncengine.domain.deal_rules import project_of
from syncengine.domain.deals import (
    WON,
    ContractTerms,
    Deal,
    Project,
    company_of,
    deal_key,
)
from syncengine.domain.errors import BusinessException, PoisonMessage
from syncengine.domain.messages import SourceEvent
from syncengine.domain.ordering import by_field
from syncengine.flows import change_orders
from syncengine.flows.billing_cash import show_hold_on_new_project
from syncengine.flows.deal_customers import CheckedDeal, account_chain, check_won_deal, ensure_customer
from syncengine.flows.deal_support import (
    DEAL_FLOW,
    ERP,
    PSA,
    deal_exception,
    deal_ordering_key,
    ensure_psa_milestones,
    first_item,
    link_erp_milestones,
    post_keyed,
    record_contract_version,
    refusals_as_exceptions,
)
from syncengine.ledger.records import ExceptionStatus
from syncengine.mapping import crm, erp_deals, psa_deals
from syncengine.mapping.fields import Fields
from syncengine.mapping.tables import MappingTables, default_tables
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow

ACCOUNT_FIXABLE = ("missing-tax-registration",)
"""Exception reasons a change to the deal's account (or an ancestor) can fix."""


def handle_closed_won(message: SourceEvent, ports: Ports) -> None:
    """Create (or find) the customer, contract and project of a closed-won deal and write back their ids."""
    deal = crm.deal_from_opportunity(message.data)
    if deal.status != WON or deal.terms is None:
        raise PoisonMessage("unexpected-status", f"{message.message_id}: a closed-won event of {deal.opportunity_id} "
                                                 f"with status {deal.status} and no contract version")
    redriven = deal_exception(ports, deal.opportunity_id, ExceptionStatus.REDRIVEN) is not None
    with refusals_as_exceptions():
        sync_won_deal(deal, deal.terms, message, ports, catch_up=redriven)


def handle_account_updated(message: SourceEvent, ports: Ports) -> None:
    """Re-drive the deals parked on this account's master data (a tax id added, a parent that has one)."""
    account_id = Fields(message.data, f"{message.message_id} data").text("id")
    for item in ports.ledger.exceptions(ExceptionStatus.OPEN, DEAL_FLOW):
        if item.reason not in ACCOUNT_FIXABLE or item.payload.get("handler") != CLOSED_WON_HANDLER:
            continue
        try:
            event = SourceEvent.from_cloudevent(str(item.payload.get("system")), item.payload.get("event"))
            deal = crm.deal_from_opportunity(event.data)
        except PoisonMessage:
            continue
        if deal.terms is None or account_id not in (
                account.account_id for account in account_chain(deal.account_id, event.system, ports)):
            continue
        try:
            with refusals_as_exceptions():
                sync_won_deal(deal, deal.terms, event, ports, catch_up=True)
        except BusinessException:
            continue  # still refused: the deal stays parked, its exception open
        ports.ledger.resolve_exception(item.id, ports.now())


def sync_won_deal(deal: Deal, terms: ContractTerms, message: SourceEvent, ports: Ports, *, catch_up: bool) -> None:
    """Check the deal, then bring the ERP, the PSA and the CRM write-backs to it, step by step.

    `catch_up` (a re-drive): the deal waited in the exception queue and its contract may have
    changed since; after creating it at the closed-won version, apply the CRM's current one.
    """
    tables = default_tables()
    checked = check_won_deal(deal, terms, message, ports, tables)
    customer_id = ensure_customer(checked, message, ports, tables)
    contract_id = ensure_contract(checked, customer_id, message, ports, tables)
    project = project_of(deal, checked.terms, checked.customer, legal_entity=checked.entity.code,
                         practice=checked.practice.psa_practice, project_type=checked.practice.project_type,
                         service_line=checked.practice.service_line, cost_center=checked.practice.cost_center,
                         erp_contract_id=contract_id, erp_customer_number=customer_id)
    project_id, fresh = ensure_project(project, message, ports)
    ensure_psa_milestones(ports, message, deal.opportunity_id, deal.currency, checked.terms, project_id,
                          fresh_project=fresh)
    write_back(checked, customer_id, contract_id, project_id, message, ports)
    ports.ledger.link("opportunity", message.system, deal.opportunity_id, deal.key)
    if fresh:
        show_hold_on_new_project(ports, customer_id, deal.key)
    record_contract_version(ports, deal.opportunity_id, checked.terms.version)
    if catch_up:
        change_orders.catch_up(deal.opportunity_id, message, ports)


# -- the contract ----------------------------------------------------------------------------------

def ensure_contract(checked: CheckedDeal, customer_id: str, message: SourceEvent, ports: Ports,
                    tables: MappingTables) -> str:
    """Return the deal's ERP contract, creating it with its billing plan at version 1 if it has none."""
    deal = checked.deal
    ledger = ports.ledger
    contract_id = ledger.external_id("contract", ERP, deal.key)
    if contract_id is None:
        erp = ports.client(ERP)
        # The deal's own contract, not one booked from a change order of it (a separate contract).
        record = next((dict(item) for item in erp.pages("/contracts", {"crm_opportunity_id": deal.opportunity_id})
                       if item.get("source_id") in (None, deal.opportunity_id)), None)
        if record is None:
            body = erp_deals.contract_body(deal, checked.terms, customer_id=customer_id,
                                           legal_entity=checked.entity.code, billing=checked.billing, tables=tables)
            # The key follows the customer's tax registration too: the ERP keeps a refusal
            # (missing-tax-registration) under its key, and the fix changes the customer, not the body.
            purpose = f"erp-contract:{checked.customer.tax_registration or '-'}"
            record = post_keyed(erp, "/contracts", body, message, ports, purpose).body
        contract_id = str(record["id"])
        ledger.link("contract", ERP, contract_id, deal.key)
    link_erp_milestones(ports, deal.opportunity_id, contract_id, checked.terms)
    return contract_id


# -- the project -----------------------------------------------------------------------------------

def ensure_project(project: Project, message: SourceEvent, ports: Ports) -> tuple[str, bool]:
    """Return the deal's PSA project (and whether it was created now), with the ERP's dimensions."""
    ledger = ports.ledger
    key = deal_key(project.opportunity_id)
    project_id = ledger.external_id("project", PSA, key)
    if project_id is not None:
        return project_id, False
    psa = ports.client(PSA)
    record = first_item(psa, "/projects", {"crm_opportunity_id": project.opportunity_id})
    fresh = record is None
    if record is None:
        record = post_keyed(psa, "/projects", psa_deals.project_body(project), message, ports, "psa-project").body
    else:
        dimensions = psa_deals.dimensions_body(project)
        if any(record.get(name) != value for name, value in dimensions.items()):
            psa.put(f"/projects/{record['id']}/dimensions", dimensions)
        if record.get("contract_version") is None:
            psa.put(f"/projects/{record['id']}/budget", psa_deals.budget_body_of(project))
    project_id = str(record["id"])
    ledger.link("project", PSA, project_id, key)
    return project_id, fresh


# -- write-backs -----------------------------------------------------------------------------------

def write_back(checked: CheckedDeal, customer_id: str, contract_id: str, project_id: str, message: SourceEvent,
               ports: Ports) -> None:
    """Write the ERP customer number to the account and the contract and project to the opportunity."""
    client = ports.client(message.system)
    account = checked.accounts[0]
    linked = account.erp_customer_number
    linked_key = None if linked is None else ports.ledger.canonical_key("customer", ERP, linked)
    # An account holds one ERP customer number: the company's customer in any one entity will do.
    if linked_key is None or company_of(linked_key) != checked.customer.identity:
        client.put(f"/accounts/{account.account_id}/erp-link", crm.erp_link_body(customer_id))
    data = message.data
    if data.get("erp_contract_id") != contract_id or data.get("psa_project_id") != project_id:
        client.put(f"/opportunities/{checked.deal.opportunity_id}/delivery-link",
                   crm.delivery_link_body(contract_id, project_id))


def ordering_key(event: SourceEvent) -> str:
    """Key a closed-won deal by the deal (`deal:<opportunity id>`), an account change by the account."""
    if event.type.startswith("crm.account."):
        return account_ordering_key(event)
    return deal_ordering_key(event)


account_ordering_key = by_field("id", prefix="account")
HANDLERS = {
    "crm.opportunity.closed_won": [handle_closed_won],
    "crm.account.updated": [handle_account_updated],
}
FLOW = Flow(DEAL_FLOW, HANDLERS, ordering_key=ordering_key)
CLOSED_WON_HANDLER = f"{DEAL_FLOW}.{handle_closed_won.__name__}"
