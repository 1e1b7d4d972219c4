"""Lookups shared by the ERP's resource modules, with the business errors the sync engine routes."""

from __future__ import annotations

from typing import Any

from simulators.common.errors import ApiProblem, business_error
from simulators.common.store import Record, Store
from simulators.erp import tax


def contract_of(store: Store, contract_id: str, field: str = "body/contract_id") -> Record:
    """Return a contract referenced from a request body, or 422 `unknown-contract`."""
    contract = store.find("contracts", contract_id)
    if contract is None:
        raise business_error("unknown-contract", "Unknown contract", f"No contract with id {contract_id!r}",
                             field=field)
    return contract


def customer_of(store: Store, customer_id: str) -> Record:
    """Return a customer referenced from a request body, or 422 `unknown-customer`."""
    customer = store.find("customers", customer_id)
    if customer is None:
        raise business_error("unknown-customer", "Unknown customer", f"No customer with id {customer_id!r}",
                             field="body/customer_id")
    return customer


def tax_treatment(store: Store, legal_entity: str, customer: Record) -> tax.TaxTreatment:
    """Return the tax treatment of a customer's invoices, or 422 `missing-tax-registration`."""
    entity = store.get("legal_entities", legal_entity)
    try:
        return tax.treatment(entity, customer)
    except tax.MissingTaxRegistration as error:
        raise missing_registration(customer, str(error)) from error


def missing_registration(customer: Record, detail: str) -> ApiProblem:
    """Return the business exception for a customer lacking a needed tax registration."""
    return business_error("missing-tax-registration", "Missing tax registration", detail,
                          customer_id=customer["id"], field="tax_registration")


def stale_version(kind: str, record_id: str, current: int, offered: int) -> ApiProblem:
    """Refuse a change carrying a source version not newer than the one applied."""
    return ApiProblem(409, "stale-version", "Stale version",
                      f"{kind} {record_id} is at source version {current}; version {offered} is not newer",
                      current_source_version=current, offered_source_version=offered)


def milestone_record(contract: Record, milestone: dict[str, Any]) -> dict[str, Any]:
    """Return a milestone with the contract it belongs to (the milestone events' data)."""
    return {**milestone, "contract_id": contract["id"], "currency": contract["currency"]}


def source_ref(body: dict[str, Any]) -> dict[str, Any]:
    """Return the source reference fields of a request body (None where absent)."""
    return {name: body.get(name) for name in ("source_system", "source_id", "source_version")}
