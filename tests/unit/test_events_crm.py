"""The CRM's emitted events conform to contracts/events: drive every lifecycle, check every event on the feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from contracts.events import event_types
from tests.unit.crm.builders import ACCOUNT, FIXED_FEE_DEAL, TM_DEAL
from tests.unit.event_drive import Driver, checked_app, schema_violations


@pytest.fixture(scope="module")
def crm() -> Iterator[Flask]:
    """A CRM whose responses must all conform to its spec."""
    yield from checked_app("crm")


def _drive(crm: Driver) -> None:
    account = crm.call("POST", "/accounts", ACCOUNT)
    crm.call("PATCH", f"/accounts/{account['id']}", {"industry": "Logistics"})
    crm.call("PUT", f"/accounts/{account['id']}/erp-link", {"erp_customer_number": "CUS-000017"})
    crm.call("PUT", f"/accounts/{account['id']}/ar-status", {
        "ar_status": {"balance": "48250.00", "overdue_amount": "12000.00", "currency": "EUR",
                      "as_of": "2026-03-31T18:00:00Z"}, "credit_hold": False})
    contact = crm.call("POST", "/contacts", {"account_id": account["id"], "name": "Katrin Vogel",
                                             "email": "k.vogel@northwind-logistics.de", "role": "ECONOMIC_BUYER"})
    crm.call("PATCH", f"/contacts/{contact['id']}", {"role": "DECISION_MAKER"})

    deal = crm.call("POST", "/opportunities", {**FIXED_FEE_DEAL, "account_id": account["id"]})
    path = f"/opportunities/{deal['id']}"
    crm.call("PATCH", path, {"description": "Analytics platform for four warehouses"})
    crm.call("POST", f"{path}/advance", {"stage": "NEGOTIATION"})
    crm.call("POST", f"{path}/submit-sow")
    crm.call("POST", f"{path}/reject-sow", {"reason": "Customer legal asked for a liability cap"})
    crm.call("POST", f"{path}/submit-sow")
    crm.call("POST", f"{path}/approve-sow")
    crm.call("POST", f"{path}/close-won")
    crm.call("PUT", f"{path}/delivery-link", {"erp_contract_id": "CON-000042", "psa_project_id": "PRJ-000042"})
    crm.call("PUT", f"{path}/billing-status", {"billing_status": {
        "invoiced_amount": "60000.00", "credited_amount": "0.00", "paid_amount": "60000.00", "currency": "EUR",
        "as_of": "2026-06-30T18:00:00Z"}})
    change: dict[str, Any] = {"opportunity_id": deal["id"], "description": "Add a second warehouse site",
                              "amount_change": "40000.00", "hours_change": "240", "distinct": False,
                              "priced_at_standalone": False, "effective_date": "2026-07-01",
                              "billing_milestones": [{"name": "Second site live", "amount": "40000.00",
                                                      "due_date": "2026-10-16", "requires_acceptance": True}]}
    approved = crm.call("POST", "/amendments", change)
    crm.call("PATCH", f"/amendments/{approved['id']}", {"description": "Add a second and third warehouse site"})
    crm.call("POST", f"/amendments/{approved['id']}/submit")
    crm.call("POST", f"/amendments/{approved['id']}/approve")
    rejected = crm.call("POST", "/amendments", {**change, "description": "Add a fourth site"})
    crm.call("POST", f"/amendments/{rejected['id']}/submit")
    crm.call("POST", f"/amendments/{rejected['id']}/reject", {"reason": "No budget this fiscal year"})
    crm.call("POST", f"{path}/cancel", {"effective_date": "2026-08-31", "unbilled_rule": "BILL",
                                        "reason": "Customer budget freeze"})

    lost = crm.call("POST", "/opportunities", {**TM_DEAL, "account_id": account["id"], "currency": "EUR",
                                               "legal_entity": "DE01"})
    crm.call("POST", f"/opportunities/{lost['id']}/close-lost", {"reason": "COMPETITOR", "detail": "Matched on price"})


@pytest.fixture(scope="module")
def events(crm: Flask) -> list[dict[str, Any]]:
    """Every event the CRM emitted while an account, its deals and their change orders went through their lives."""
    driver = Driver(crm)
    _drive(driver)
    return driver.events()


def test_every_crm_event_conforms_to_its_event_schema(events: list[dict[str, Any]]) -> None:
    assert events
    assert schema_violations(events) == []


def test_the_crm_lifecycles_reach_every_crm_event_type_of_the_catalog(events: list[dict[str, Any]]) -> None:
    assert sorted({event["type"] for event in events}) == sorted(event_types("crm"))
