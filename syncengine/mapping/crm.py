"""CRM shapes <-> the canonical deal model: opportunities, accounts, amendments, write-back bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncengine.domain.deals import (
    Account,
    BillingMilestone,
    Cancellation,
    ChangeOrder,
    ContractTerms,
    Deal,
    RateLine,
)
from syncengine.mapping.fields import Fields


def deal_from_opportunity(record: Mapping[str, Any]) -> Deal:
    """Read a CRM Opportunity (event data or `getOpportunity` body) as a Deal."""
    fields = Fields(record, f"crm opportunity {record.get('id', '?')}")
    currency = fields.text("currency")
    version = fields.optional_integer("contract_version")
    terms = None
    if version is not None:
        price_field = "contract_amount" if fields.has("contract_amount") else "amount"
        milestones = tuple(
            BillingMilestone(index=index, name=item.text("name"), amount=item.amount("amount", currency),
                             due_date=item.day("due_date"), requires_acceptance=item.boolean("requires_acceptance"))
            for index, item in enumerate(fields.items("billing_milestones")))
        rate_card = tuple(RateLine(role=item.text("role"), hourly_rate=item.amount("hourly_rate", currency))
                          for item in fields.items("rate_card"))
        terms = ContractTerms(
            version=version, total_price=fields.amount(price_field, currency),
            estimated_hours=fields.optional_decimal("estimated_hours"),
            service_start=fields.optional_day("service_start"), service_end=fields.optional_day("service_end"),
            milestones=milestones, monthly_fee=fields.optional_amount("monthly_fee", currency),
            cap_amount=fields.optional_amount("cap_amount", currency), rate_card=rate_card)
    cancellation = None
    cancelled = fields.optional_record("cancellation")
    if cancelled is not None:
        cancellation = Cancellation(effective_date=cancelled.day("effective_date"),
                                    unbilled_rule=cancelled.text("unbilled_rule"),
                                    reason=cancelled.optional_text("reason"))
    return Deal(
        opportunity_id=fields.text("id"), record_version=fields.integer("version"),
        account_id=fields.text("account_id"), name=fields.text("name"), status=fields.text("status"),
        sow_status=fields.text("sow_status"), currency=currency,
        billing_model=fields.optional_text("billing_model"), legal_entity=fields.optional_text("legal_entity"),
        practice=fields.optional_text("practice"), close_date=fields.day("close_date"), terms=terms,
        cancellation=cancellation)


def account_from_record(record: Mapping[str, Any]) -> Account:
    """Read a CRM Account."""
    fields = Fields(record, f"crm account {record.get('id', '?')}")
    return Account(account_id=fields.text("id"), version=fields.integer("version"), name=fields.text("name"),
                   parent_account_id=fields.optional_text("parent_account_id"), country=fields.text("country"),
                   us_state=fields.optional_text("us_state"), tax_id=fields.optional_text("tax_id"),
                   currency=fields.text("currency"), erp_customer_number=fields.optional_text("erp_customer_number"))


def change_order_from_amendment(record: Mapping[str, Any]) -> ChangeOrder:
    """Read a CRM Amendment (change order)."""
    fields = Fields(record, f"crm amendment {record.get('id', '?')}")
    return ChangeOrder(amendment_id=fields.text("id"), opportunity_id=fields.text("opportunity_id"),
                       status=fields.text("status"), contract_version=fields.optional_integer("contract_version"),
                       effective_date=fields.day("effective_date"), distinct=fields.boolean("distinct"),
                       priced_at_standalone=fields.boolean("priced_at_standalone"),
                       description=fields.optional_text("description") or "",
                       amount_change=fields.amount("amount_change", fields.text("currency")),
                       milestones_added=len(fields.items("billing_milestones")),
                       hours_change=fields.optional_decimal("hours_change"))


def erp_link_body(erp_customer_id: str) -> dict[str, Any]:
    """Return the body of `setAccountErpLink`."""
    return {"erp_customer_number": erp_customer_id}


def delivery_link_body(erp_contract_id: str, psa_project_id: str) -> dict[str, Any]:
    """Return the body of `setOpportunityDeliveryLink`."""
    return {"erp_contract_id": erp_contract_id, "psa_project_id": psa_project_id}
