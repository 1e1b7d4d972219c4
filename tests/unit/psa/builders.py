"""Builders for the PSA tests: a client that sends the token, and valid bodies for staffed work."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

AUTH = {"Authorization": "Bearer firmsim-dev-token"}


class Api:
    """A test client that sends the bearer token and JSON bodies."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()

    def get(self, path: str, **headers: str) -> TestResponse:
        return self.client.get(path, headers={**AUTH, **headers})

    def post(self, path: str, body: Any = None, **headers: str) -> TestResponse:
        return self.client.post(path, json=body, headers={**AUTH, **headers})

    def put(self, path: str, body: Any, **headers: str) -> TestResponse:
        return self.client.put(path, json=body, headers={**AUTH, **headers})

    def patch(self, path: str, body: Any, **headers: str) -> TestResponse:
        return self.client.patch(path, json=body, headers={**AUTH, **headers})

    def delete(self, path: str, **headers: str) -> TestResponse:
        return self.client.delete(path, headers={**AUTH, **headers})

    def events(self, prefix: str = "psa.") -> list[dict[str, Any]]:
        """Return the events of the feed whose type starts with `prefix`."""
        response = self.get(f"/events?limit=1000&type={prefix}")
        assert response.status_code == 200
        items: list[dict[str, Any]] = response.json["items"]
        return items

    def event_types(self, prefix: str = "psa.") -> list[str]:
        """Return the types of the feed's events, in order."""
        return [event["type"] for event in self.events(prefix)]


def project_body(**overrides: Any) -> dict[str, Any]:
    """Return a valid createProject body (a UK T&M project for March to May 2026)."""
    return {
        "name": "Northwind Supply-Chain Diagnostic", "practice": "OPERATIONS", "customer_name": "Northwind Traders Ltd",
        "billing_model": "TIME_AND_MATERIALS", "currency": "GBP", "legal_entity": "UK01",
        "start_date": "2026-03-02", "end_date": "2026-05-29", "crm_opportunity_id": "OPP-000042",
        "source_system": "crm", "source_id": "OPP-000042", "source_version": 1, **overrides,
    }


def create_project(api: Api, activate: bool = True, **overrides: Any) -> dict[str, Any]:
    """Create a project (ACTIVE unless told otherwise) and return it."""
    response = api.post("/projects", project_body(**overrides))
    assert response.status_code == 201, response.json
    project: dict[str, Any] = response.json
    if activate:
        response = api.post(f"/projects/{project['id']}/activate", {"effective_date": project["start_date"]})
        assert response.status_code == 200, response.json
        project = response.json
    return project


def upsert_resource(api: Api, worker_id: str = "WRK-000007", **overrides: Any) -> dict[str, Any]:
    """Sync a worker from HCM with two cost rates (GBP 60.00 from 2026, 66.00 from 9 March 2026)."""
    body = {"name": "Amara Osei", "role": "SENIOR_CONSULTANT", "legal_entity": "UK01", "practice": "OPERATIONS",
            "worker_type": "EMPLOYEE", "active": True, "source_version": 1, **overrides}
    response = api.put(f"/resources/{worker_id}", body)
    assert response.status_code in (200, 201), response.json
    response = api.put(f"/resources/{worker_id}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-01", "hourly_cost": "60.00", "currency": "GBP", "source_version": 1},
        {"effective_from": "2026-03-09", "hourly_cost": "66.00", "currency": "GBP", "source_version": 2},
    ]})
    assert response.status_code == 200, response.json
    resource: dict[str, Any] = response.json
    return resource


def assign(api: Api, project_id: str, resource_id: str, **overrides: Any) -> dict[str, Any]:
    """Assign a resource to a project for March 2026 and return the assignment."""
    body = {"project_id": project_id, "resource_id": resource_id, "start_date": "2026-03-02",
            "end_date": "2026-03-31", "hours_per_week": "40.00", **overrides}
    response = api.post("/assignments", body)
    assert response.status_code == 201, response.json
    assignment: dict[str, Any] = response.json
    return assignment


def entry_body(staffing: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Return a valid createTimeEntry body for the staffed resource."""
    return {"resource_id": staffing["resource"]["id"], "project_id": staffing["project"]["id"],
            "date": "2026-03-04", "hours": "7.50", "billable": True, "notes": "Warehouse interviews", **overrides}


def expense_body(staffing: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Return a valid createExpense body for the staffed resource."""
    return {"resource_id": staffing["resource"]["id"], "project_id": staffing["project"]["id"],
            "date": "2026-03-03", "category": "TRAVEL", "amount": "184.60", "currency": "EUR", "receipt": True,
            "billable": True, "description": "Train London-Rotterdam", **overrides}


def create_entry(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create a time entry or expense (path `/time-entries` or `/expenses`) and return it."""
    response = api.post(path, body)
    assert response.status_code == 201, response.json
    entry: dict[str, Any] = response.json
    return entry


def act(api: Api, path: str, entry_id: str, *actions: str, reason: str = "See notes") -> dict[str, Any]:
    """Apply lifecycle actions in order (each must succeed) and return the entry after the last."""
    entry: dict[str, Any] = {}
    for action in actions:
        body = {"reason": reason} if action in ("return", "reopen") else None
        response = api.post(f"{path}/{entry_id}/{action}", body)
        assert response.status_code == 200, (action, response.json)
        entry = response.json
    return entry
