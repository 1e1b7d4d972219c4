"""The canonical deal model <-> ERP shapes: legal entities, customers, contracts and their versions."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from syncengine.domain.deal_rules import normalise_name, normalise_tax_id, term_months
from syncengine.domain.deals import ChangeOrder, ContractTerms, Customer, Deal, LegalEntity
from syncengine.domain.money import quantize
from syncengine.mapping.fields import Fields, amount_text
from syncengine.mapping.tables import BillingMapping, MappingTables

DESCRIPTION_MAX = 500
NAME_MAX = 200


def legal_entity_from_record(record: Mapping[str, Any]) -> LegalEntity:
    """Read an ERP LegalEntityRecord."""
    fields = Fields(record, f"erp legal entity {record.get('id', '?')}")
    return LegalEntity(code=fields.text("id"), country=fields.text("country"), currency=fields.text("currency"),
                       tax_regime=fields.text("tax_regime"))


def customer_body(customer: Customer, payment_terms_days: int) -> dict[str, Any]:
    """Return the body of `createCustomer`: the company as its legal entity bills it."""
    body: dict[str, Any] = {
        "name": customer.name[:NAME_MAX], "legal_entity": customer.legal_entity, "country": customer.country,
        "currency": customer.currency, "payment_terms_days": payment_terms_days,
        "crm_account_id": customer.account_id, "source_system": "crm", "source_id": customer.account_id,
        "source_version": customer.account_version,
    }
    if customer.us_state is not None and customer.country == "US":
        body["us_state"] = customer.us_state
    if customer.tax_registration is not None:
        body["tax_registration"] = customer.tax_registration
    return body


def customer_matches(record: Mapping[str, Any], customer: Customer, legal_suffixes: Mapping[str, str], *,
                     by_name: bool = False) -> bool:
    """Tell whether an ERP customer is the company `customer` stands for.

    Only a customer of the same legal entity can match. Two tax registrations decide alone.
    Otherwise a customer found by its CRM account matches, and one found by name matches when its
    normalised name and country are the customer's.
    """
    if record.get("legal_entity") != customer.legal_entity:
        return False
    registration = record.get("tax_registration")
    if isinstance(registration, str) and registration and customer.tax_registration:
        return normalise_tax_id(registration) == normalise_tax_id(customer.tax_registration)
    if not by_name:
        return True
    name, country = record.get("name"), record.get("country")
    return (isinstance(name, str) and country == customer.country
            and normalise_name(name, legal_suffixes) == normalise_name(customer.name, legal_suffixes))


def estimate_at_completion(terms: ContractTerms, currency: str, tables: MappingTables) -> Decimal:
    """Return the planning estimate at completion of a fixed fee: hours x standard cost, else a share of price."""
    hourly = tables.standard_hourly_cost.get(currency)
    if terms.estimated_hours and hourly is not None:
        return quantize(terms.estimated_hours * hourly, currency)
    return quantize(terms.total_price * tables.fallback_cost_ratio, currency)


def billing_plan(deal: Deal, terms: ContractTerms, billing: BillingMapping, tables: MappingTables) -> dict[str, Any]:
    """Return the ERP billing plan of the deal's terms at one contract version."""
    currency = deal.currency
    plan: dict[str, Any] = {}
    if billing.billing_method == "FIXED_FEE":
        plan["milestones"] = [
            {"id": milestone.code, "name": milestone.name[:NAME_MAX], "amount": amount_text(milestone.amount, currency),
             "requires_acceptance": milestone.requires_acceptance, "due_date": milestone.due_date.isoformat()}
            for milestone in terms.milestones]
    if billing.billing_method == "RETAINER" and terms.monthly_fee is not None \
            and terms.service_start is not None and terms.service_end is not None:
        plan["retainer"] = {"monthly_fee": amount_text(terms.monthly_fee, currency),
                            "term_months": min(120, term_months(terms.service_start, terms.service_end)),
                            "start_date": terms.service_start.isoformat()}
    if billing.billing_method == "CAPPED_TM" and terms.cap_amount is not None:
        plan["cap_amount"] = amount_text(terms.cap_amount, currency)
    if billing.revenue_policy == "COST_TO_COST":
        plan["eac"] = amount_text(estimate_at_completion(terms, currency, tables), currency)
    return plan


def contract_body(deal: Deal, terms: ContractTerms, *, customer_id: str, legal_entity: str,
                  billing: BillingMapping, tables: MappingTables) -> dict[str, Any]:
    """Return the body of `createContract` for a won deal at its first contract version."""
    body: dict[str, Any] = {
        "name": deal.name[:NAME_MAX], "customer_id": customer_id, "legal_entity": legal_entity,
        "currency": deal.currency, "billing_model": billing.billing_method, "revenue_policy": billing.revenue_policy,
        "crm_opportunity_id": deal.opportunity_id, "source_system": "crm", "source_id": deal.opportunity_id,
        "source_version": terms.version, "total_price": amount_text(terms.total_price, deal.currency),
        "billing_plan": billing_plan(deal, terms, billing, tables),
    }
    if deal.practice is not None:
        body["practice"] = deal.practice[:40]
    if terms.service_start is not None:
        body["start_date"] = terms.service_start.isoformat()
    if terms.service_end is not None:
        body["end_date"] = terms.service_end.isoformat()
    return body


def contract_version_body(deal: Deal, terms: ContractTerms, change: ChangeOrder, *, billing: BillingMapping,
                          tables: MappingTables) -> dict[str, Any]:
    """Return the body of `addContractVersion` for the deal's terms at the change order's version."""
    body: dict[str, Any] = {
        "source_system": "crm", "source_id": change.amendment_id, "source_version": terms.version,
        "effective_date": change.effective_date.isoformat(),
        "total_price": amount_text(terms.total_price, deal.currency),
        "billing_plan": billing_plan(deal, terms, billing, tables),
        "distinct": change.distinct, "priced_at_standalone": change.priced_at_standalone,
        "description": change.description[:DESCRIPTION_MAX],
    }
    if terms.service_end is not None:
        body["end_date"] = terms.service_end.isoformat()
    return body


def terminate_body(deal: Deal) -> dict[str, Any]:
    """Return the body of `terminateContract` for a cancelled deal."""
    if deal.cancellation is None:
        raise ValueError(f"{deal.opportunity_id} carries no cancellation")
    body: dict[str, Any] = {"effective_date": deal.cancellation.effective_date.isoformat(),
                            "unbilled_rule": deal.cancellation.unbilled_rule, "source_system": "crm",
                            "source_id": deal.opportunity_id, "source_version": deal.record_version}
    if deal.cancellation.reason:
        body["reason"] = deal.cancellation.reason[:DESCRIPTION_MAX]
    return body
