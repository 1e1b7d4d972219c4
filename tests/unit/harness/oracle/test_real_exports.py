"""The oracle reads the mocks' own state exports: one T&M deal carried by hand through the four systems.

The actors' steps and a careful engine's steps are played through the public APIs; truth records
what the actors did. The oracle must pass this world, and catch an engine that posts the approved
time twice. This pins the record shapes the oracle reads to the mocks' real ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from harness.oracle import check
from harness.oracle.model import InvariantResult
from scenarios.engine.truth import Truth
from simulators.common.admin import export_state
from simulators.common.app import context_of
from simulators.common.clock import ManualClock

AUTH = {"Authorization": "Bearer firmsim-dev-token"}
NO_ENGINE_TROUBLE: dict[str, Any] = {"exceptions": [], "dead_letters": [], "in_flight": 0}


class Client:
    """Call one system with the token; every call must succeed."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()

    def __call__(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = self.client.open(path, method=method, json=body, headers=AUTH)
        assert response.status_code in (200, 201), (path, response.get_json())
        result: dict[str, Any] = response.get_json()
        return result


def _apps(clock: ManualClock) -> dict[str, Flask]:
    from simulators.crm import create_app as crm
    from simulators.erp.app import create_app as erp
    from simulators.hcm import create_app as hcm
    from simulators.psa import create_app as psa

    config = {"CLOCK": clock, "VALIDATE_RESPONSES": True}
    return {"crm": crm(config), "psa": psa(config), "hcm": hcm(config), "erp": erp(config)}


class Firm:
    """The four systems, truth, and the ids the walk-through created."""

    def __init__(self) -> None:
        self.clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self.apps = _apps(self.clock)
        self.crm, self.psa, self.hcm, self.erp = (Client(self.apps[kind]) for kind in ("crm", "psa", "hcm", "erp"))
        self.truth = Truth()
        self.ids: dict[str, str] = {}

    def record(self, kind: str, **data: Any) -> None:
        self.truth.record(kind, self.clock.now().isoformat(), **data)

    def check(self) -> dict[str, InvariantResult]:
        states = {kind: export_state(context_of(app)) for kind, app in self.apps.items()}
        return {result.id: result for result in check(self.truth, states, NO_ENGINE_TROUBLE)}


def _hire(firm: Firm) -> None:
    worker = firm.hcm("POST", "/workers", {
        "worker_type": "EMPLOYEE", "first_name": "Maya", "last_name": "Reyes", "email": "maya.reyes@firmsim.example",
        "role": "CONSULTANT", "legal_entity": "US01", "practice": "TECHNOLOGY", "hire_date": "2026-01-05"})
    rate = firm.hcm("POST", f"/workers/{worker['id']}/cost-rates", {"effective_from": "2026-01-05",
                                                                     "reason": "HIRE", "hourly_cost": "90.00"})
    firm.ids["worker"] = worker["id"]
    firm.record("worker_hired", worker_id=worker["id"], legal_entity="US01", role="CONSULTANT",
                worker_type="EMPLOYEE", practice="TECHNOLOGY", hire_date="2026-01-05",
                weekly_capacity_hours=worker["weekly_capacity_hours"])
    firm.record("cost_rate_set", worker_id=worker["id"], cost_rate_id=rate["id"], effective_from="2026-01-05",
                hourly_cost=rate["hourly_cost"], currency="USD", reason="HIRE", retroactive=False)


def _sell(firm: Firm) -> dict[str, Any]:
    account = firm.crm("POST", "/accounts", {"name": "Contoso Inc", "country": "US", "us_state": "NY",
                                             "currency": "USD"})
    terms = {"amount": "90000.00", "currency": "USD", "billing_model": "TIME_AND_MATERIALS", "legal_entity": "US01",
             "practice": "TECHNOLOGY", "service_start": "2026-01-12", "service_end": "2026-03-31",
             "estimated_hours": "450", "rate_card": [{"role": "CONSULTANT", "hourly_rate": "185.00"}]}
    deal = firm.crm("POST", "/opportunities", {"account_id": account["id"], "name": "Contoso - cost review",
                                               "close_date": "2026-01-09", **terms})
    path = f"/opportunities/{deal['id']}"
    firm.crm("POST", f"{path}/advance", {"stage": "NEGOTIATION"})
    firm.crm("POST", f"{path}/submit-sow")
    firm.crm("POST", f"{path}/approve-sow")
    deal = firm.crm("POST", f"{path}/close-won")
    firm.record("account_created", account_id=account["id"], customer_key="contoso", name="Contoso Inc",
                country="US", tax_id=None, parent_account_id=None)
    firm.record("deal_won", opportunity_id=deal["id"], account_id=account["id"], customer_key="contoso",
                legal_entity="US01", currency="USD", billing_model="TIME_AND_MATERIALS", practice="TECHNOLOGY",
                amount="90000.00", service_start="2026-01-12", service_end="2026-03-31",
                rate_card=terms["rate_card"], milestones=[], monthly_fee=None, cap_amount=None,
                expected_exception=None)
    return deal


def _engine_sets_up_delivery(firm: Firm, deal: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    source = {"source_system": "crm", "source_id": deal["id"], "source_version": 1}
    customer = firm.erp("POST", "/customers", {"name": "Contoso Inc", "legal_entity": "US01", "country": "US",
                                               "us_state": "NY", "currency": "USD",
                                               "crm_account_id": deal["account_id"], "source_system": "crm",
                                               "source_id": deal["account_id"], "source_version": 1})
    contract = firm.erp("POST", "/contracts", {"customer_id": customer["id"], "legal_entity": "US01",
                                               "currency": "USD", "billing_model": "TIME_AND_MATERIALS",
                                               "start_date": "2026-01-12", "end_date": "2026-03-31",
                                               "total_price": "90000.00", "crm_opportunity_id": deal["id"],
                                               **source})
    project = firm.psa("POST", "/projects", {
        "name": "Contoso - cost review", "practice": "TECHNOLOGY", "customer_name": "Contoso Inc",
        "billing_model": "TIME_AND_MATERIALS", "currency": "USD", "legal_entity": "US01",
        "start_date": "2026-01-12", "end_date": "2026-03-31", "crm_opportunity_id": deal["id"], **source,
        "erp_contract_id": contract["id"], "erp_customer_number": customer["id"], "contract_version": 1,
        "budget_hours": "450", "budget_amount": "90000.00",
        "rates": [{"role": "CONSULTANT", "bill_rate": "185.00", "effective_from": "2026-01-12"}]})
    firm.crm("PUT", f"/accounts/{deal['account_id']}/erp-link", {"erp_customer_number": customer["id"]})
    firm.crm("PUT", f"/opportunities/{deal['id']}/delivery-link", {"erp_contract_id": contract["id"],
                                                                     "psa_project_id": project["id"]})
    worker = firm.ids["worker"]
    firm.psa("PUT", f"/resources/{worker}", {"name": "Maya Reyes", "role": "CONSULTANT", "legal_entity": "US01",
                                             "practice": "TECHNOLOGY", "worker_type": "EMPLOYEE", "active": True,
                                             "source_version": 1})
    firm.psa("PUT", f"/resources/{worker}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-05", "hourly_cost": "90.00", "currency": "USD", "source_version": 1}]})
    return contract, project


def _deliver(firm: Firm, deal: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    worker = firm.ids["worker"]
    firm.psa("POST", f"/projects/{project['id']}/activate", {"effective_date": "2026-01-12"})
    firm.psa("POST", "/assignments", {"project_id": project["id"], "resource_id": worker,
                                      "start_date": "2026-01-12", "end_date": "2026-03-31", "hours_per_week": "40",
                                      "role": "CONSULTANT"})
    entry = firm.psa("POST", "/time-entries", {"resource_id": worker, "project_id": project["id"],
                                               "date": "2026-01-14", "hours": "7.5", "billable": True})
    firm.psa("POST", f"/time-entries/{entry['id']}/submit")
    entry = firm.psa("POST", f"/time-entries/{entry['id']}/approve")
    firm.record("time_approved", time_entry_id=entry["id"], revision=entry["revision"], project_id=project["id"],
                opportunity_id=deal["id"], resource_id=worker, role="CONSULTANT", date="2026-01-14", hours="7.5",
                billable=True, bill_rate="185.00", amount="1387.50", currency="USD")
    return entry


def _post_time(firm: Firm, contract: dict[str, Any], entry: dict[str, Any]) -> None:
    firm.erp("POST", "/billable-transactions", {
        "contract_id": contract["id"], "kind": "TIME", "source_system": "psa", "source_id": entry["id"],
        "source_version": entry["revision"], "date": entry["date"], "quantity": entry["hours"],
        "rate": entry["bill_rate"], "amount": entry["bill_amount"], "currency": "USD",
        "worker_id": firm.ids["worker"], "role": "CONSULTANT"})


def _engine_writes_back_billing(firm: Firm) -> None:
    """Write the ERP's billing figures to the deal's opportunity and project, and its AR to the account."""
    (invoice_id,) = firm.ids["invoices"].split()
    invoice = firm.erp("GET", f"/invoices/{invoice_id}")
    aging = firm.erp("GET", f"/receivables/aging?customer_id={invoice['customer_id']}&as_of=2026-03-01")
    (line,) = aging["items"]
    as_of, currency = firm.clock.now(), invoice["currency"]
    firm.crm("PUT", f"/opportunities/{firm.ids['deal']}/billing-status", {"billing_status": {
        "invoiced_amount": invoice["total"], "credited_amount": invoice["credited_total"],
        "paid_amount": invoice["amount_paid"], "currency": currency, "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ")}})
    firm.psa("PUT", f"/projects/{firm.ids['project']}/billing-status", {
        "invoiced": invoice["total"], "credited": invoice["credited_total"], "paid": invoice["amount_paid"],
        "currency": currency, "credit_hold": False, "as_of": as_of.date().isoformat()})
    firm.crm("PUT", f"/accounts/{firm.ids['account']}/ar-status", {"ar_status": {
        "balance": line["balance"], "overdue_amount": "0.00", "currency": currency,
        "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ")}, "credit_hold": False})


def _walk_through(duplicate_posting: bool) -> Firm:
    firm = Firm()
    _hire(firm)
    deal = _sell(firm)
    contract, project = _engine_sets_up_delivery(firm, deal)
    firm.ids.update(deal=deal["id"], project=project["id"], account=deal["account_id"])
    entry = _deliver(firm, deal, project)
    _post_time(firm, contract, entry)
    if duplicate_posting:
        _post_time(firm, contract, entry)
    run = firm.erp("POST", "/billing-runs", {"legal_entity": "US01", "period_end": "2026-01-31"})
    firm.record("billing_run", billing_run_id=run["id"], legal_entity="US01", period_end="2026-01-31",
                invoice_ids=run["invoice_ids"])
    firm.ids["invoices"] = " ".join(run["invoice_ids"])
    _engine_writes_back_billing(firm)
    return firm


@pytest.fixture
def firm() -> Firm:
    """Return the four mocks after one T&M deal was sold, delivered, posted and billed correctly."""
    return _walk_through(duplicate_posting=False)


def test_a_correctly_carried_deal_passes_on_the_mocks_own_exports(firm: Firm) -> None:
    results = firm.check()

    assert {invariant_id: [v.to_dict() for v in result.violations] for invariant_id, result in results.items()
            if result.violations} == {}
    for invariant_id in ("opportunity-to-project", "time-billed-exactly-once", "audit-trail-complete",
                         "cost-rates-aligned", "ar-ties-out", "contract-versions-aligned"):
        assert results[invariant_id].checked > 0, invariant_id
    for app in firm.apps.values():
        assert context_of(app).response_violations == []


def test_time_posted_twice_is_caught_on_the_mocks_own_exports() -> None:
    firm = _walk_through(duplicate_posting=True)

    result = firm.check()["time-billed-exactly-once"]

    assert [v.record_id for v in result.violations] == ["BTX-000002"]
    assert result.violations[0].actual == ["BTX-000001", "BTX-000002"]


def test_a_payment_not_written_back_to_crm_and_psa_is_caught_on_the_mocks_own_exports(firm: Firm) -> None:
    invoice = firm.erp("GET", f"/invoices/{firm.ids['invoices']}")
    payment = firm.erp("POST", "/payments", {
        "customer_id": invoice["customer_id"], "legal_entity": "US01", "amount": "1000.00", "currency": "USD",
        "received_on": "2026-02-20", "reference": "Remittance", "allocations": [
            {"invoice_id": invoice["id"], "amount": "1000.00"}]})
    firm.record("payment_made", payment_id=payment["id"], customer_id=invoice["customer_id"],
                invoice_id=invoice["id"], amount="1000.00", currency="USD", received_on="2026-02-20")

    result = firm.check()["ar-ties-out"]

    assert [(v.system, v.record_id, v.expected, v.actual) for v in result.violations] == [
        ("crm", firm.ids["deal"], [invoice["total"], "0.00", "1000.00", "USD"],
         [invoice["total"], "0.00", "0.00", "USD"]),
        ("psa", firm.ids["project"], [invoice["total"], "0.00", "1000.00", "USD"],
         [invoice["total"], "0.00", "0.00", "USD"]),
        ("crm", firm.ids["account"], [f"{Decimal(invoice['total']) - 1000:f}", "USD"], [invoice["total"], "USD"])]

    _engine_writes_back_billing(firm)

    assert firm.check()["ar-ties-out"].violations == []
