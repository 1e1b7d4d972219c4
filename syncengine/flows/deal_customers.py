"""Checking a won deal before anything is written, and finding or creating its ERP customer.

Part of the opportunity-to-project flow (no FLOW of its own). The customer is the company as one
legal entity bills it, deduplicated across CRM accounts: the tax id of the deal's account or its
nearest ancestor, else the account's normalised name and country (`domain.deal_rules.customer_of`).
It is found through the ledger, the account's ERP link, or an ERP search (tax registration, CRM
account, name) before one is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncengine.domain.deal_rules import check_deal, customer_of, needs_tax_registration
from syncengine.domain.deals import MAX_HIERARCHY_DEPTH, Account, ContractTerms, Customer, Deal, LegalEntity
from syncengine.domain.errors import BusinessException, PermanentFailure
from syncengine.domain.messages import SourceEvent
from syncengine.flows.deal_support import ERP, PSA, failure_status, first_item
from syncengine.ledger.keys import idempotency_key
from syncengine.mapping import crm, erp_deals
from syncengine.mapping.fields import digest
from syncengine.mapping.tables import BillingMapping, MappingTables, PracticeMapping
from syncengine.ports import Ports


@dataclass(frozen=True, slots=True)
class CheckedDeal:
    """A won deal that passed every check, with what the checks looked up."""

    deal: Deal
    terms: ContractTerms
    billing: BillingMapping
    practice: PracticeMapping
    entity: LegalEntity
    accounts: tuple[Account, ...]
    customer: Customer


# -- checks, before anything is written ------------------------------------------------------------

def check_won_deal(deal: Deal, terms: ContractTerms, message: SourceEvent, ports: Ports,
                   tables: MappingTables) -> CheckedDeal:
    """Look up and check everything the deal needs; raise BusinessException on its first problem."""
    billing = tables.billing(deal.billing_model)
    entity_code = tables.erp_entity(deal.legal_entity)
    practice = tables.practice(deal.practice)
    templates = ports.client(PSA).pages("/project-templates")
    if not any(template.get("practice") == practice.psa_practice for template in templates):
        raise BusinessException("unknown-practice", f"the PSA has no project template for practice "
                                                    f"{practice.psa_practice} (deal practice {deal.practice})")
    entity = legal_entity(entity_code, ports)
    accounts = account_chain(deal.account_id, message.system, ports)
    customer = customer_of(accounts, entity.code, legal_suffixes=tables.legal_suffixes, region_of=tables.region)
    check_deal(deal, entity, customer, tables.vat_area)
    return CheckedDeal(deal, terms, billing, practice, entity, accounts, customer)


def legal_entity(code: str, ports: Ports) -> LegalEntity:
    """Read the ERP's legal entity; one the ERP does not know is a business problem."""
    try:
        record = ports.client(ERP).get(f"/legal-entities/{code}").body
    except PermanentFailure as error:
        if failure_status(error) in (400, 404):
            raise BusinessException("unknown-legal-entity", f"the ERP has no legal entity {code}") from error
        raise
    return erp_deals.legal_entity_from_record(record)


def account_chain(account_id: str, system: str, ports: Ports) -> tuple[Account, ...]:
    """Return the deal's account and its ancestors, nearest first."""
    client = ports.client(system)
    chain: list[Account] = []
    next_id: str | None = account_id
    while next_id is not None and len(chain) < MAX_HIERARCHY_DEPTH:
        if any(account.account_id == next_id for account in chain):
            break
        account = crm.account_from_record(client.get(f"/accounts/{next_id}").body)
        chain.append(account)
        next_id = account.parent_account_id
    return tuple(chain)


# -- the customer ----------------------------------------------------------------------------------

def ensure_customer(checked: CheckedDeal, message: SourceEvent, ports: Ports, tables: MappingTables) -> str:
    """Return the ERP customer of the deal's company in its legal entity, creating it only when none exists."""
    ledger = ports.ledger
    erp = ports.client(ERP)
    customer = checked.customer
    customer_id = ledger.external_id("customer", ERP, customer.key)
    record = None
    if customer_id is None:
        record = find_customer(checked, ports, tables)
        if record is None:
            body = erp_deals.customer_body(customer, tables.payment_terms_days)
            # Keyed by the company's account record, not by the deal: two deals of one company handled at
            # once (by two workers) both look, find nothing, and POST; the ERP then makes one customer.
            creation_key = idempotency_key(message.system, customer.account_id, customer.account_version,
                                           f"erp-customer:{digest(body)}")
            record = erp.post("/customers", body, idempotency_key=creation_key).body
        customer_id = str(record["id"])
    if customer.tax_registration and needs_tax_registration(checked.entity, customer.country, tables.vat_area):
        record = record or erp.get(f"/customers/{customer_id}").body
        if not record.get("tax_registration"):
            # The CRM account got its tax id after the ERP customer was made: the ERP needs it now.
            erp.patch(f"/customers/{customer_id}", {"tax_registration": customer.tax_registration})
    key = ledger.canonical_key("customer", ERP, customer_id)
    if key is None:
        key = customer.key
        if ledger.external_id("customer", ERP, key) is None:
            ledger.link("customer", ERP, customer_id, key)
    # The ledger keeps one id per system and kind under a key: the first account linked stands for
    # the customer; the others find it again by identity (and the CRM holds every account's link).
    for account_id in dict.fromkeys((customer.account_id, checked.accounts[0].account_id)):
        if ledger.canonical_key("account", message.system, account_id) is None \
                and ledger.external_id("account", message.system, key) is None:
            ledger.link("account", message.system, account_id, key)
    return customer_id


def find_customer(checked: CheckedDeal, ports: Ports, tables: MappingTables) -> dict[str, object] | None:
    """Find the ERP customer of the deal's company in its entity: by the account's ERP link, tax id,
    CRM account or name."""
    erp = ports.client(ERP)
    customer = checked.customer
    entity = customer.legal_entity
    linked = checked.accounts[0].erp_customer_number
    if linked is not None:
        try:
            record = dict(erp.get(f"/customers/{linked}").body)
        except PermanentFailure as error:
            if failure_status(error) not in (400, 404):
                raise
        else:
            if erp_deals.customer_matches(record, customer, tables.legal_suffixes):
                return record
    if customer.tax_registration:
        registration = customer.identity.removeprefix("tax:")[:30]
        found = first_item(erp, "/customers", {"tax_registration": registration, "legal_entity": entity})
        if found is not None:
            return found
    for account_id in dict.fromkeys((checked.accounts[0].account_id, customer.account_id)):
        found = first_item(erp, "/customers", {"crm_account_id": account_id, "legal_entity": entity})
        if found is not None and erp_deals.customer_matches(found, customer, tables.legal_suffixes):
            return found
    for item in erp.pages("/customers", {"name": _search_word(customer.name), "legal_entity": entity}):
        if erp_deals.customer_matches(item, customer, tables.legal_suffixes, by_name=True):
            return dict(item)
    return None


def _search_word(name: str) -> str:
    """Return the first alphanumeric run of a name: a broad ERP name search, narrowed by matching."""
    word = ""
    for char in name:
        if char.isalnum():
            word += char
        elif word:
            break
    return (word or name.strip() or "?")[:200]
