"""A thin client of the ERP API for tests, with builders for the usual records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

AUTH = {"Authorization": "Bearer firmsim-dev-token"}

CUSTOMERS: dict[str, dict[str, Any]] = {
    "UK01": {"name": "Albion Retail plc", "legal_entity": "UK01", "country": "GB", "currency": "GBP",
             "tax_registration": "GB987654321"},
    "DE01": {"name": "Rhein Logistik GmbH", "legal_entity": "DE01", "country": "DE", "currency": "EUR",
             "tax_registration": "DE811234567"},
    "US01": {"name": "Prairie Insurance Co", "legal_entity": "US01", "country": "US", "us_state": "NY",
             "currency": "USD"},
}
CURRENCY = {"US01": "USD", "UK01": "GBP", "DE01": "EUR"}


@dataclass
class Response:
    """Status, JSON body and headers of one call."""

    status: int
    body: Any
    headers: dict[str, str]


class ErpClient:
    """Call the ERP API and build test records through it."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._source = 0

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        """Send one request with the test token."""
        response = self.client.open(path, method=method, json=body, headers={**AUTH, **(headers or {})})
        return Response(response.status_code, response.get_json(silent=True), dict(response.headers))

    def get(self, path: str) -> Any:
        """GET a resource that must exist; return its body."""
        response = self.call("GET", path)
        assert response.status == 200, response.body
        return response.body

    def post(self, path: str, body: Any = None, status: int = 201, headers: dict[str, str] | None = None) -> Any:
        """POST and insist on a status; return the body."""
        response = self.call("POST", path, body, headers)
        assert response.status == status, response.body
        return response.body

    def next_source_id(self, prefix: str) -> str:
        """Return a fresh source-system id."""
        self._source += 1
        return f"{prefix}-{self._source:06d}"

    def customer(self, entity: str = "UK01", **fields: Any) -> dict[str, Any]:
        """Create a customer of an entity."""
        return self.post("/customers", {**CUSTOMERS[entity], **fields})

    def contract(self, model: str = "TIME_AND_MATERIALS", entity: str = "UK01", customer: dict[str, Any] | None = None,
                 total_price: str | None = "100000.00", **fields: Any) -> dict[str, Any]:
        """Create a contract (and its customer unless one is given)."""
        customer = customer or self.customer(entity)
        opportunity = self.next_source_id("OPP")
        body = {"customer_id": customer["id"], "legal_entity": entity, "currency": CURRENCY[entity],
                "billing_model": model, "start_date": "2026-01-05", "total_price": total_price,
                "crm_opportunity_id": opportunity, "source_system": "crm", "source_id": opportunity,
                "source_version": 1, **fields}
        if total_price is None:
            del body["total_price"]
        return self.post("/contracts", body)

    def item(self, contract: dict[str, Any], quantity: str = "8", rate: str = "150.00", amount: str | None = None,
             kind: str = "TIME", date: str = "2026-03-10", **fields: Any) -> dict[str, Any]:
        """Return a billable-transaction body for a contract."""
        if amount is None:
            from decimal import ROUND_HALF_UP, Decimal
            amount = str((Decimal(quantity) * Decimal(rate)).quantize(Decimal("0.01"), ROUND_HALF_UP))
        return {"contract_id": contract["id"], "kind": kind, "source_system": "psa",
                "source_id": self.next_source_id("TE" if kind == "TIME" else "EX"), "source_version": 1,
                "date": date, "quantity": quantity, "rate": rate, "amount": amount, "currency": contract["currency"],
                "description": f"{kind.title()} on {date}", **fields}

    def transaction(self, contract: dict[str, Any], **item: Any) -> dict[str, Any]:
        """Post one billable transaction."""
        return self.post("/billable-transactions", self.item(contract, **item))

    def run(self, entity: str = "UK01", period_end: str = "2026-03-31") -> dict[str, Any]:
        """Run billing for an entity."""
        return self.post("/billing-runs", {"legal_entity": entity, "period_end": period_end})

    def invoices(self, **filters: str) -> list[dict[str, Any]]:
        """List invoices (one page of up to 500)."""
        query = "&".join(f"{name}={value}" for name, value in {"limit": "500", **filters}.items())
        return self.get(f"/invoices?{query}")["items"]

    def credit_memos(self, **filters: str) -> list[dict[str, Any]]:
        """List credit memos (one page of up to 500)."""
        query = "&".join(f"{name}={value}" for name, value in {"limit": "500", **filters}.items())
        return self.get(f"/credit-memos?{query}")["items"]

    def balance(self, contract: dict[str, Any]) -> dict[str, Any]:
        """Read a contract's billing balance."""
        return self.get(f"/contracts/{contract['id']}/balance")

    def events(self, prefix: str = "erp.") -> list[dict[str, Any]]:
        """Return the feed's events of a type prefix."""
        return self.get(f"/events?limit=1000&type={prefix}")["items"]
