"""Customers as billed: created and corrected by the sync engine, searched before creating."""

from __future__ import annotations

import re

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.store import Record
from simulators.erp.money import money_str
from simulators.erp.records import stale_version

operations = Operations()

_SEPARATORS = re.compile(r"[\s.\-]")


def normalize_registration(value: str) -> str:
    """Return a tax registration without spaces, dots or dashes, upper-cased (for matching)."""
    return _SEPARATORS.sub("", value).upper()


@operations("listCustomers")
def list_customers(request: Request) -> Reply:
    """List customers, filtered by registration, name, CRM account or entity."""
    query = request.query
    registration = normalize_registration(query["tax_registration"]) if "tax_registration" in query else None
    name = query["name"].casefold() if "name" in query else None

    def wanted(customer: Record) -> bool:
        if registration is not None and (customer["tax_registration"] is None
                                         or normalize_registration(customer["tax_registration"]) != registration):
            return False
        if name is not None and name not in customer["name"].casefold():
            return False
        if "crm_account_id" in query and customer["crm_account_id"] != query["crm_account_id"]:
            return False
        return "legal_entity" not in query or customer["legal_entity"] == query["legal_entity"]

    return request.page([customer for customer in _candidates(request, registration) if wanted(customer)])


def _registration_key(customer: Record) -> str | None:
    registration = customer.get("tax_registration")
    return normalize_registration(registration) if isinstance(registration, str) else None


def _candidates(request: Request, registration: str | None) -> list[Record]:
    """Return the customers an exact filter allows, through the store's index (the engine searches
    before creating, once per won deal): by CRM account, else by normalized tax registration, else by
    entity, else all."""
    query = request.query
    store = request.store
    if "crm_account_id" in query:
        return store.where_equal("customers", "crm_account_id", query["crm_account_id"])
    if registration is not None:
        return store.where_equal("customers", _registration_key, registration)
    if "legal_entity" in query:
        return store.where_equal("customers", "legal_entity", query["legal_entity"])
    return store.all("customers")


@operations("createCustomer")
def create_customer(request: Request) -> Reply:
    """Create a customer from a CRM account."""
    body = request.body
    customer = request.store.insert("customers", {
        "name": body["name"],
        "legal_entity": body["legal_entity"],
        "country": body["country"],
        "us_state": body.get("us_state"),
        "tax_registration": body.get("tax_registration"),
        "currency": body["currency"],
        "payment_terms_days": body.get("payment_terms_days", 30),
        "credit_limit": money_str(body["credit_limit"]) if "credit_limit" in body else None,
        "credit_hold": False,
        "credit_hold_reasons": [],
        "crm_account_id": body.get("crm_account_id"),
        "source_system": body.get("source_system"),
        "source_id": body.get("source_id"),
        "source_version": body.get("source_version"),
    })
    request.emit("erp.customer.created", customer)
    return created(customer, f"/customers/{customer['id']}")


@operations("getCustomer")
def get_customer(request: Request) -> Reply:
    """Read a customer."""
    return ok(request.store.get("customers", request.path["customer_id"]))


@operations("updateCustomer")
def update_customer(request: Request) -> Reply:
    """Correct a customer's billing data."""
    customer = request.store.get("customers", request.path["customer_id"])
    request.check_if_match(customer)
    body = request.body
    if "source_version" in body and (customer["source_version"] or 0) > body["source_version"]:
        raise stale_version("customer", customer["id"], customer["source_version"], body["source_version"])
    changes = {name: value for name, value in body.items() if name != "credit_limit"}
    if "credit_limit" in body:
        changes["credit_limit"] = None if body["credit_limit"] is None else money_str(body["credit_limit"])
    customer = request.store.update("customers", customer["id"], changes)
    request.emit("erp.customer.updated", customer)
    return ok(customer)
