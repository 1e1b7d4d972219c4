"""The rules of the deal side: customer identity across CRM accounts, and the checks a won deal must
pass before anything is written anywhere. Pure (no I/O)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from syncengine.domain.deals import (
    SOW_APPROVED,
    Account,
    ContractTerms,
    Customer,
    Deal,
    LegalEntity,
    Project,
)
from syncengine.domain.errors import BusinessException


def normalise_tax_id(tax_id: str) -> str:
    """Return a tax id without spaces, dots or dashes, upper-cased (`de 811.569-869` -> `DE811569869`)."""
    return "".join(char for char in tax_id if char not in " .-\t").upper()


def normalise_name(name: str, legal_forms: Mapping[str, str]) -> str:
    """Return a company name casefolded, without punctuation, its trailing legal form spelled one way.

    `Northwind Logistics, G.m.b.H.` and `NORTHWIND LOGISTICS GmbH` both give `northwind logistics gmbh`;
    `Acme Incorporated` and `Acme, Inc.` give `acme inc`. The legal form stays: `Davis Inc` and
    `Davis PLC` are two companies. `legal_forms` maps each spelling of a legal form to its one
    spelling. Dots and apostrophes vanish (`S.A.` -> `sa`), `&` reads `and`; other punctuation
    separates words.
    """
    text = unicodedata.normalize("NFKC", name).casefold().replace("&", " and ")
    cleaned = []
    for char in text:
        if char in ".'’":
            continue
        cleaned.append(char if char.isalnum() or char.isspace() else " ")
    words = "".join(cleaned).split()
    forms = {spelling.casefold(): form.casefold() for spelling, form in legal_forms.items()}
    trailing: list[str] = []
    while len(words) > 1 and words[-1] in forms:
        trailing.insert(0, forms[words.pop()])
    return " ".join(words + trailing)


def customer_of(chain: Sequence[Account], legal_entity: str, *, legal_suffixes: Mapping[str, str],
                region_of: Callable[[str], str]) -> Customer:
    """Return the customer a deal's account stands for in an entity; `chain` is the account, then its ancestors.

    The account, or its nearest ancestor, holding a tax id makes the identity `tax:<id>` and is
    the customer billed; with no tax id anywhere up the chain the identity is
    `name:<normalised name>|<country>` of the account itself.
    """
    if not chain:
        raise ValueError("customer_of needs at least the deal's account")
    holder = next((account for account in chain if account.tax_id), None)
    if holder is not None and holder.tax_id is not None:
        identity = f"tax:{normalise_tax_id(holder.tax_id)}"
    else:
        holder = chain[0]
        identity = f"name:{normalise_name(holder.name, legal_suffixes)}|{holder.country}"
    return Customer(identity=identity, legal_entity=legal_entity, name=holder.name, country=holder.country,
                    us_state=holder.us_state, tax_registration=holder.tax_id, currency=holder.currency,
                    region=region_of(holder.country), account_id=holder.account_id, account_version=holder.version)


def project_of(deal: Deal, terms: ContractTerms, customer: Customer, *, legal_entity: str, practice: str,
               project_type: str, service_line: str, cost_center: str, erp_contract_id: str,
               erp_customer_number: str) -> Project:
    """Return the project a won deal (checked by `check_deal`) is delivered in."""
    if terms.service_start is None or terms.service_end is None or deal.billing_model is None:
        raise ValueError(f"{deal.opportunity_id}: check_deal first (service period and billing model needed)")
    return Project(
        opportunity_id=deal.opportunity_id, name=deal.name, practice=practice, project_type=project_type,
        customer_name=customer.name, billing_model=deal.billing_model, currency=deal.currency,
        legal_entity=legal_entity, start_date=terms.service_start, end_date=terms.service_end,
        contract_version=terms.version, budget_hours=terms.estimated_hours or Decimal(0),
        budget_amount=terms.total_price, rates=terms.rate_card,
        rates_from=min(terms.service_start, deal.close_date), erp_contract_id=erp_contract_id,
        erp_customer_number=erp_customer_number, service_line=service_line, cost_center=cost_center)


# -- rules a deal must pass before anything is written -------------------------------------------

def needs_tax_registration(entity: LegalEntity, customer_country: str, vat_area: frozenset[str]) -> bool:
    """Tell whether the entity's invoices to a customer need the customer's tax registration.

    A VAT entity reverse-charges services to a business in another VAT-area country, which needs
    the customer's VAT number.
    """
    return entity.tax_regime == "VAT" and customer_country != entity.country and customer_country in vat_area


def terms_problem(deal: Deal) -> str | None:
    """Return why a won deal's terms cannot make a contract, or None when they can."""
    terms = deal.terms
    if terms is None:
        return f"{deal.opportunity_id} has no contract version (it is not closed won)"
    if terms.service_start is None or terms.service_end is None:
        return f"{deal.opportunity_id} lacks its service start or end"
    if terms.service_end < terms.service_start:
        return f"{deal.opportunity_id} ends its service ({terms.service_end}) before it starts ({terms.service_start})"
    if deal.billing_model == "FIXED_FEE":
        scheduled = sum((milestone.amount for milestone in terms.milestones), Decimal(0))
        if not terms.milestones or scheduled != terms.total_price:
            return (f"{deal.opportunity_id}: fixed-fee milestones add up to {scheduled}, "
                    f"not the contract amount {terms.total_price}")
    if deal.billing_model == "RETAINER" and terms.monthly_fee is None:
        return f"{deal.opportunity_id}: a retainer needs its monthly fee"
    if deal.billing_model == "CAPPED_TM" and terms.cap_amount is None:
        return f"{deal.opportunity_id}: capped T&M needs its cap"
    return None


def check_deal(deal: Deal, entity: LegalEntity, customer: Customer, vat_area: frozenset[str]) -> None:
    """Refuse a deal that cannot be contracted, with the slug of its first problem (one exception per deal)."""
    problems: list[tuple[str, str]] = []
    if deal.sow_status != SOW_APPROVED:
        problems.append(("sow-not-approved", f"{deal.opportunity_id} has SOW status {deal.sow_status}"))
    if deal.currency != entity.currency:
        problems.append(("currency-not-allowed", f"{deal.opportunity_id} is in {deal.currency}; legal entity "
                                                 f"{entity.code} contracts only in {entity.currency}"))
    if needs_tax_registration(entity, customer.country, vat_area) and not customer.tax_registration:
        problems.append(("missing-tax-registration",
                         f"account {customer.account_id} ({customer.name}, {customer.country}) has no tax id; "
                         f"{entity.code} needs the customer's VAT registration to reverse-charge"))
    terms = terms_problem(deal)
    if terms is not None:
        problems.append(("incomplete-deal-terms", terms))
    if problems:
        raise BusinessException(problems[0][0], "; ".join(detail for _, detail in problems))


def term_months(start: date, end: date) -> int:
    """Return the calendar months a service period touches (2026-05-04 .. 2026-10-30 -> 6)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1
