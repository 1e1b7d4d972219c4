"""A thin CRM API client for tests, and builders of realistic records reached through the public API."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

AUTH = {"Authorization": "Bearer firmsim-dev-token"}

ACCOUNT: dict[str, Any] = {
    "name": "Northwind Logistics GmbH",
    "country": "DE",
    "tax_id": "DE811569869",
    "currency": "EUR",
    "industry": "Transportation",
    "billing_address": {"street": "Speicherstadt 12", "city": "Hamburg", "postcode": "20457"},
}

FIXED_FEE_DEAL: dict[str, Any] = {
    "name": "Northwind — warehouse analytics platform",
    "amount": "240000.00",
    "currency": "EUR",
    "close_date": "2026-04-30",
    "billing_model": "FIXED_FEE",
    "legal_entity": "DE01",
    "practice": "DATA_AI",
    "service_start": "2026-05-04",
    "service_end": "2026-10-30",
    "estimated_hours": "1600",
    "billing_milestones": [
        {"name": "Discovery complete", "amount": "60000.00", "due_date": "2026-06-12", "requires_acceptance": False},
        {"name": "Platform live", "amount": "120000.00", "due_date": "2026-09-18", "requires_acceptance": True},
        {"name": "Hypercare closed", "amount": "60000.00", "due_date": "2026-10-30", "requires_acceptance": True},
    ],
}

TM_DEAL: dict[str, Any] = {
    "name": "Contoso — cloud cost review",
    "amount": "90000.00",
    "currency": "USD",
    "close_date": "2026-04-15",
    "billing_model": "TIME_AND_MATERIALS",
    "legal_entity": "US01",
    "practice": "TECHNOLOGY",
    "service_start": "2026-05-01",
    "service_end": "2026-07-31",
    "estimated_hours": "450",
    "rate_card": [{"role": "MANAGER", "hourly_rate": "260.00"}, {"role": "CONSULTANT", "hourly_rate": "185.00"}],
}


class Api:
    """Call the CRM with a valid token; every method returns the raw response."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, **query: Any) -> TestResponse:
        """GET a path with query parameters."""
        return self.client.get(path, query_string=query, headers=AUTH)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> TestResponse:
        """POST a JSON body (or none)."""
        return self.client.post(path, json=body, headers={**AUTH, **(headers or {})})

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> TestResponse:
        """PATCH a JSON body."""
        return self.client.patch(path, json=body, headers={**AUTH, **(headers or {})})

    def put(self, path: str, body: Any, headers: dict[str, str] | None = None) -> TestResponse:
        """PUT a JSON body."""
        return self.client.put(path, json=body, headers={**AUTH, **(headers or {})})

    def events(self, type_prefix: str = "crm.") -> list[dict[str, Any]]:
        """Return every event of the feed whose type starts with the prefix."""
        response = self.get("/events", type=type_prefix, limit=1000)
        assert response.status_code == 200, response.json
        items: list[dict[str, Any]] = response.json["items"]  # type: ignore[index]
        return items

    def event_types(self, type_prefix: str = "crm.") -> list[str]:
        """Return the types of the feed's events, in order."""
        return [event["type"] for event in self.events(type_prefix)]


def body_of(response: TestResponse, status: int) -> dict[str, Any]:
    """Return a response's JSON body after checking its status."""
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def new_account(api: Api, **overrides: Any) -> dict[str, Any]:
    """Create an account (a German customer unless overridden)."""
    return body_of(api.post("/accounts", {**ACCOUNT, **overrides}), 201)


def new_opportunity(api: Api, account_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Create an opportunity with complete fixed-fee terms (unless overridden)."""
    account_id = account_id or new_account(api)["id"]
    return body_of(api.post("/opportunities", {**FIXED_FEE_DEAL, "account_id": account_id, **overrides}), 201)


def approved_opportunity(api: Api, **overrides: Any) -> dict[str, Any]:
    """Create an opportunity at NEGOTIATION with an approved SOW."""
    opportunity = new_opportunity(api, **overrides)
    path = f"/opportunities/{opportunity['id']}"
    body_of(api.post(f"{path}/advance", {"stage": "NEGOTIATION"}), 200)
    body_of(api.post(f"{path}/submit-sow"), 200)
    return body_of(api.post(f"{path}/approve-sow"), 200)


def won_opportunity(api: Api, **overrides: Any) -> dict[str, Any]:
    """Create a closed-won opportunity (contract version 1)."""
    opportunity = approved_opportunity(api, **overrides)
    return body_of(api.post(f"/opportunities/{opportunity['id']}/close-won"), 200)


def problem_type(response: TestResponse) -> str:
    """Return the slug of a problem response's type."""
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return str(response.json["type"]).rsplit("/", 1)[-1]  # type: ignore[index]
