"""The ERP's emitted events conform to contracts/events: drive every lifecycle, check every event on the feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from contracts.events import event_types
from tests.unit.erp.support import CUSTOMERS
from tests.unit.event_drive import Driver, checked_app, schema_violations

SOURCE = {"source_system": "crm", "source_version": 1}


@pytest.fixture(scope="module")
def erp() -> Iterator[Flask]:
    """An ERP whose responses must all conform to its spec."""
    yield from checked_app("erp")


def _contract(erp: Driver, customer: dict[str, Any], opportunity: str, model: str, **fields: Any) -> dict[str, Any]:
    return erp.call("POST", "/contracts", {
        "name": f"Albion {model.lower()}", "customer_id": customer["id"], "legal_entity": "UK01", "currency": "GBP",
        "billing_model": model, "crm_opportunity_id": opportunity, "source_id": opportunity, **SOURCE,
        "start_date": "2026-01-05", **fields})


def _time(contract: dict[str, Any], source_id: str) -> dict[str, Any]:
    return {"contract_id": contract["id"], "kind": "TIME", "source_system": "psa", "source_id": source_id,
            "source_version": 1, "date": "2026-03-10", "quantity": "7.5", "rate": "200.00", "amount": "1500.00",
            "currency": "GBP", "description": "Design workshop"}


def _drive(erp: Driver) -> None:
    customer = erp.call("POST", "/customers", {**CUSTOMERS["UK01"], "payment_terms_days": 30,
                                               "credit_limit": "100000.00"})
    erp.call("PATCH", f"/customers/{customer['id']}", {"credit_limit": "500.00"})

    hourly = _contract(erp, customer, "OPP-000001", "TIME_AND_MATERIALS")
    posted = [erp.call("POST", "/billable-transactions", _time(hourly, f"TIM-00000{n}")) for n in (1, 2)]
    erp.call("POST", f"/billable-transactions/{posted[1]['id']}/reverse", {"reason": "Entry reopened in PSA",
                                                                           "source_version": 2})
    capped = _contract(erp, customer, "OPP-000002", "CAPPED_TM", total_price="1000.00")
    over = erp.call("POST", "/billable-transactions", _time(capped, "TIM-000003"))
    erp.call("POST", f"/billable-transactions/{over['id']}/write-off", {"reason": "Over the not-to-exceed cap"})

    milestones = [{"id": "M1", "name": "Design complete", "amount": "120000.00", "requires_acceptance": False},
                  {"id": "ACCEPT", "name": "Final acceptance", "amount": "180000.00", "requires_acceptance": True}]
    fixed = _contract(erp, customer, "OPP-000003", "FIXED_FEE", revenue_policy="COST_TO_COST", total_price="300000.00",
                      billing_plan={"eac": "200000.00", "milestones": milestones})
    path = f"/contracts/{fixed['id']}"
    psa_source = {"source_system": "psa", "source_version": 1}
    erp.call("POST", f"{path}/milestones/M1/complete", {"date": "2026-03-20", "source_id": "MS-000001", **psa_source})
    erp.call("POST", f"{path}/milestones/ACCEPT/complete", {"date": "2026-03-25", "source_id": "MS-000002",
                                                            **psa_source})
    erp.call("POST", f"{path}/milestones/ACCEPT/accept", {"date": "2026-03-27", "source_id": "MS-000002",
                                                          **psa_source})
    erp.call("POST", f"{path}/cost-actuals", {"period": "2026-03", "cumulative_cost": "50000.00",
                                              "source_id": "PRJ-000003", **psa_source})
    erp.call("POST", f"{path}/estimates", {"eac": "220000.00", "effective_date": "2026-03-01",
                                           "source_id": "PRJ-000003", **psa_source})
    erp.call("POST", f"{path}/versions", {
        "source_system": "crm", "source_id": "AMD-000001", "source_version": 2, "effective_date": "2026-03-15",
        "total_price": "340000.00", "distinct": False, "priced_at_standalone": False,
        "description": "Added warehouse B", "billing_plan": {"eac": "240000.00", "milestones": [
            milestones[0], {**milestones[1], "amount": "220000.00"}]}})

    erp.call("POST", "/billing-runs", {"legal_entity": "UK01", "period_end": "2026-03-31"})
    invoices = erp.call("GET", "/invoices?limit=500")["items"]
    erp.call("POST", f"/invoices/{invoices[0]['id']}/reverse", {"reason": "Wrong purchase order", "date": "2026-03-31"})
    erp.call("POST", "/revenue-runs", {"legal_entity": "UK01", "period": "2026-03"})
    erp.call("POST", "/fx-rates", {"from_currency": "EUR", "to_currency": "GBP", "effective_date": "2026-03-01",
                                   "rate": "0.8571"})
    erp.call("POST", "/receivables/credit-review", {"as_of": "2026-06-30"})
    open_invoice = next(invoice for invoice in erp.call("GET", "/invoices?limit=500")["items"]
                        if invoice["id"] != invoices[0]["id"])
    payment = erp.call("POST", "/payments", {"customer_id": customer["id"], "amount": open_invoice["total"],
                                             "currency": "GBP", "received_on": "2026-04-28", "reference": "BACS 88213"})
    erp.call("POST", f"/payments/{payment['id']}/apply", {"allocations": [
        {"invoice_id": open_invoice["id"], "amount": open_invoice["total"]}]})
    # the paid invoice reversed leaves the customer a credit: part applied to the rebill, the rest refunded,
    # and the rebill's remainder written off as bad debt
    credit = erp.call("POST", f"/invoices/{open_invoice['id']}/reverse", {"reason": "Dispute", "date": "2026-04-29"})
    rebill = erp.call("POST", "/billing-runs", {"legal_entity": "UK01", "period_end": "2026-04-30"})["invoice_ids"][0]
    erp.call("POST", f"/credit-memos/{credit['id']}/apply", {"allocations": [{"invoice_id": rebill, "amount": "1.00"}]})
    erp.call("POST", f"/credit-memos/{credit['id']}/refund", {"refunded_on": "2026-05-06"})
    erp.call("POST", f"/invoices/{rebill}/write-off", {"reason": "Customer insolvent"})
    erp.call("PATCH", f"/customers/{customer['id']}", {"credit_limit": "10000000.00"})
    erp.call("POST", "/receivables/credit-review", {"as_of": "2026-07-31"})
    erp.call("POST", "/periods/2026-03/close", {"legal_entity": "UK01"})
    erp.call("POST", "/periods/2026-03/reopen", {"legal_entity": "UK01"})
    erp.call("POST", f"/contracts/{hourly['id']}/terminate", {"effective_date": "2026-05-31", "unbilled_rule": "BILL",
                                                              "reason": "Customer cancelled phase 2"})


@pytest.fixture(scope="module")
def events(erp: Flask) -> list[dict[str, Any]]:
    """Every event the ERP emitted while contracts were billed, recognised, paid, credited and closed."""
    driver = Driver(erp)
    _drive(driver)
    return driver.events()


def test_every_erp_event_conforms_to_its_event_schema(events: list[dict[str, Any]]) -> None:
    assert events
    assert schema_violations(events) == []


def test_the_erp_lifecycles_reach_every_erp_event_type_of_the_catalog(events: list[dict[str, Any]]) -> None:
    assert sorted({event["type"] for event in events}) == sorted(event_types("erp"))
