"""The PSA's emitted events conform to contracts/events: drive every lifecycle, check every event on the feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from contracts.events import event_types
from simulators.common.spec import load_spec
from tests.unit.event_drive import Driver, checked_app, schema_violations
from tests.unit.psa.builders import project_body


@pytest.fixture(scope="module")
def psa() -> Iterator[Flask]:
    """A PSA whose responses must all conform to its spec."""
    yield from checked_app("psa")


def _project(psa: Driver, **overrides: Any) -> dict[str, Any]:
    project = psa.call("POST", "/projects", project_body(**overrides))
    psa.call("POST", f"/projects/{project['id']}/activate", {"effective_date": project["start_date"]})
    return project


def _lifecycle(psa: Driver, path: str, staffing: dict[str, str], body: dict[str, Any],
               correction: dict[str, Any]) -> None:
    """Walk time entries or expenses through every transition, one-by-one and in bulk."""
    def new() -> str:
        return psa.call("POST", path, {**body, **staffing})["id"]

    first = new()
    psa.call("PATCH", f"{path}/{first}", correction)
    for action in ("submit", "recall", "submit", "approve"):
        psa.call("POST", f"{path}/{first}/{action}")
    psa.call("POST", f"{path}/{first}/reopen", {"reason": "Booked to the wrong week"})
    psa.call("POST", f"{path}/{first}/submit")
    psa.call("POST", f"{path}/{first}/return", {"reason": "Book it to task 2.1"})
    psa.call("DELETE", f"{path}/{new()}")
    batch = [new(), new()]
    for entry in batch:
        psa.call("POST", f"{path}/{entry}/submit")
    psa.call("POST", f"{path}/bulk-approve", {"ids": batch[:1]})
    psa.call("POST", f"{path}/bulk-return", {"ids": batch[1:], "reason": "Attach the receipt"})


def _drive(psa: Driver) -> None:
    project = _project(psa)
    path = f"/projects/{project['id']}"
    psa.call("PATCH", path, {"project_manager": "Tomasz Nowak"})
    psa.call("PUT", f"{path}/budget", {"contract_version": 2, "budget_hours": "1200.00",
                                       "budget_amount": "228000.00", "effective_date": "2026-04-01"})
    psa.call("PUT", f"{path}/estimate", {"eac_cost": "220000.00", "as_of": "2026-06-30", "note": "Two more sprints"})
    psa.call("PUT", f"{path}/billing-status", {"invoiced": "48000.00", "credited": "1200.00", "paid": "30000.00",
                                               "currency": "GBP", "credit_hold": False, "as_of": "2026-04-30"})
    psa.call("PUT", f"{path}/dimensions", {"erp_contract_id": "CON-000017", "erp_customer_number": "CUS-000009",
                                           "cost_center": "CC-4000", "service_line": "SL-OPS"})
    rates = [{"role": "SENIOR_CONSULTANT", "bill_rate": "165.00", "effective_from": "2026-01-01"}]
    psa.call("PUT", f"{path}/rate-card", {"contract_version": 1, "rates": rates})
    psa.call("PUT", f"{path}/rate-card", {"contract_version": 2, "rates": [
        *rates, {"role": "SENIOR_CONSULTANT", "bill_rate": "175.00", "effective_from": "2026-04-01"}]})
    task = psa.call("POST", f"{path}/tasks", {"code": "9.1", "name": "Warehouse network model", "billable": True,
                                              "planned_hours": "120.00"})
    for requires_acceptance in (False, True):
        milestone = psa.call("POST", f"{path}/milestones", {
            "name": "Diagnostic report", "amount": "60000.00", "currency": "GBP", "due_date": "2026-04-17",
            "requires_acceptance": requires_acceptance, "source_system": "crm", "source_id": "OPP-000042",
            "source_version": 1})
        psa.call("POST", f"/milestones/{milestone['id']}/complete", {"completed_on": "2026-04-15"})
    psa.call("POST", f"/milestones/{milestone['id']}/accept", {"accepted_on": "2026-04-20", "accepted_by": "H. Okafor"})

    psa.call("PUT", "/resources/WRK-000007", {
        "name": "Amara Osei", "email": "amara.osei@firm.example", "role": "SENIOR_CONSULTANT", "legal_entity": "UK01",
        "practice": "OPERATIONS", "worker_type": "EMPLOYEE", "active": True, "source_version": 1})
    psa.call("PUT", "/resources/WRK-000007/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-01", "hourly_cost": "60.00", "currency": "GBP", "source_version": 1}]})
    assignment = psa.call("POST", "/assignments", {
        "project_id": project["id"], "resource_id": "WRK-000007", "start_date": "2026-03-02", "end_date": "2026-04-30",
        "hours_per_week": "40.00"})
    psa.call("PATCH", f"/assignments/{assignment['id']}", {"hours_per_week": "32.00"})

    staffing = {"resource_id": "WRK-000007", "project_id": project["id"]}
    _lifecycle(psa, "/time-entries", staffing,
               {"task_id": task["id"], "date": "2026-03-04", "hours": "7.50", "billable": True, "notes": "Interviews"},
               {"hours": "6.00"})
    _lifecycle(psa, "/expenses", staffing,
               {"date": "2026-03-03", "category": "TRAVEL", "amount": "184.60", "currency": "GBP", "receipt": True,
                "billable": True, "description": "Train London-Rotterdam"},
               {"amount": "172.40"})
    psa.call("POST", "/timesheets", {"resource_id": "WRK-000007", "week_start": "2026-03-09", "submit": True,
                                     "entries": [{"project_id": project["id"], "date": "2026-03-09", "hours": "8.00",
                                                  "billable": True, "notes": "Workshop"}]})
    psa.call("PUT", "/resources/WRK-000007/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-01", "hourly_cost": "62.00", "currency": "GBP", "source_version": 2}]})
    psa.call("POST", f"{path}/complete", {"effective_date": "2026-05-29"})
    cancelled = _project(psa, name="Cancelled diagnostic")
    psa.call("POST", f"/projects/{cancelled['id']}/cancel", {"effective_date": "2026-04-10",
                                                              "reason": "Customer terminated for convenience"})


@pytest.fixture(scope="module")
def events(psa: Flask) -> list[dict[str, Any]]:
    """Every event the PSA emitted while projects, staffing, time and expenses went through their lives."""
    driver = Driver(psa)
    _drive(driver)
    return driver.events()


def test_every_psa_event_conforms_to_its_event_schema(events: list[dict[str, Any]]) -> None:
    assert events
    assert schema_violations(events) == []


def test_the_psa_lifecycles_reach_every_psa_event_type_of_the_catalog(events: list[dict[str, Any]]) -> None:
    assert sorted({event["type"] for event in events}) == sorted(event_types("psa"))


def test_every_event_type_the_psa_spec_declares_has_a_schema() -> None:
    spec = load_spec("psa").document
    declared = {event_type for item in spec["paths"].values() for operation in item.values()
                if isinstance(operation, dict) for event_type in operation.get("x-events", [])}
    assert declared == set(event_types("psa"))
