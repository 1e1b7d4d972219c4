"""The world the deal-flow tests run in: the four systems in-process, the engine with the deal flows.

A test acts like the firm's people through the systems' public APIs (`firm.call`), lets the engine
catch up in virtual time (`firm.settle`), then reads the systems' end state (`firm.records`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.test import Client

from harness.runner.world import World, build_world
from syncengine.flows import cancellations, change_orders, opportunity_to_project, staffing
from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.runtime.engine import Engine

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEAL_FLOWS = (opportunity_to_project.FLOW, change_orders.FLOW, cancellations.FLOW, staffing.FLOW)
SETTLE_S = 6 * 3600.0

FIXED_FEE_TERMS: dict[str, Any] = {
    "amount": "240000.00", "currency": "EUR", "billing_model": "FIXED_FEE", "legal_entity": "DE01",
    "practice": "DATA_AI", "service_start": "2026-03-16", "service_end": "2026-09-30", "estimated_hours": "1600",
    "billing_milestones": [
        {"name": "Discovery complete", "amount": "60000.00", "due_date": "2026-04-30", "requires_acceptance": False},
        {"name": "Platform live", "amount": "120000.00", "due_date": "2026-07-31", "requires_acceptance": True},
        {"name": "Hypercare closed", "amount": "60000.00", "due_date": "2026-09-30", "requires_acceptance": True},
    ],
}
TIME_AND_MATERIALS_TERMS: dict[str, Any] = {
    "amount": "180000.00", "currency": "GBP", "billing_model": "TIME_AND_MATERIALS", "legal_entity": "UK01",
    "practice": "TECHNOLOGY", "service_start": "2026-03-09", "service_end": "2026-08-28", "estimated_hours": "900",
    "rate_card": [{"role": "CONSULTANT", "hourly_rate": "160.00"}, {"role": "MANAGER", "hourly_rate": "235.00"}],
}


@dataclass
class Firm:
    """The systems and the engine, driven through public APIs."""

    world: World

    @property
    def engine(self) -> Engine:
        """Return the engine under test."""
        assert self.world.engine is not None
        return self.world.engine

    @property
    def ledger(self) -> AbstractLedger:
        """Return the engine's ledger."""
        return self.engine.ports.ledger

    def call(self, system: str, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Call a system as a user would; the call must succeed."""
        result = self.world.ports[system].call(method, path, body=body, params=params)
        assert result.ok, f"{method} {system}{path} -> {result.status}: {result.body}"
        return result.body

    def records(self, system: str, collection: str) -> list[dict[str, Any]]:
        """Return a system's records of one collection (end state, for assertions only)."""
        return list(self.world.context(system).store.export()[collection])

    def record(self, system: str, collection: str, record_id: str) -> dict[str, Any]:
        """Return one record of a system."""
        return next(record for record in self.records(system, collection) if record["id"] == record_id)

    def settle(self, limit_s: float = SETTLE_S) -> None:
        """Let the engine read every feed and finish what is in flight (virtual time)."""
        assert self.world.drain(limit_s), "the engine did not go idle"

    def fault(self, system: str, kind: str, duration_s: float | None = None, **params: Any) -> None:
        """Schedule a fault from now on a system, through its admin API."""
        fault: dict[str, Any] = {"kind": kind, "params": params, "start": self.world.clock.now().isoformat()}
        if duration_s is not None:
            fault["duration"] = duration_s
        response = Client(self.world.apps[system]).post("/admin/faults", json=fault)
        assert response.status_code == 201, response.get_data(as_text=True)

    def exceptions(self, status: ExceptionStatus | None = None) -> list[ExceptionItem]:
        """Return the engine's exception queue."""
        return self.ledger.exceptions(status)

    def account(self, name: str, country: str, currency: str, *, tax_id: str | None = None,
                parent: str | None = None) -> str:
        """Create a CRM account; return its id."""
        body: dict[str, Any] = {"name": name, "country": country, "currency": currency}
        if tax_id is not None:
            body["tax_id"] = tax_id
        if parent is not None:
            body["parent_account_id"] = parent
        return str(self.call("crm", "POST", "/accounts", body)["id"])

    def won_deal(self, account_id: str, terms: dict[str, Any], name: str = "Analytics platform") -> str:
        """Create an opportunity with these terms, approve its SOW and close it won; return its id."""
        body = {"account_id": account_id, "name": name, "stage": "PROPOSAL", "close_date": "2026-03-02", **terms}
        opportunity_id = str(self.call("crm", "POST", "/opportunities", body)["id"])
        for step in ("submit-sow", "approve-sow", "close-won"):
            self.call("crm", "POST", f"/opportunities/{opportunity_id}/{step}")
        return opportunity_id

    def approve_amendment(self, opportunity_id: str, amount_change: str, *, effective_date: str,
                          milestones: list[dict[str, Any]] | None = None, hours_change: str = "0",
                          separate: bool = False) -> str:
        """Draft, submit and approve a change order (`separate`: distinct, at standalone price); return its id."""
        body: dict[str, Any] = {"opportunity_id": opportunity_id, "description": f"Change worth {amount_change}",
                                "amount_change": amount_change, "hours_change": hours_change, "distinct": separate,
                                "priced_at_standalone": separate, "effective_date": effective_date}
        if milestones is not None:
            body["billing_milestones"] = milestones
        amendment_id = str(self.call("crm", "POST", "/amendments", body)["id"])
        for step in ("submit", "approve"):
            self.call("crm", "POST", f"/amendments/{amendment_id}/{step}")
        return amendment_id

    def unread_events(self, system: str) -> list[dict[str, Any]]:
        """Return the events of a system's feed the engine has not read yet."""
        cursor = self.ledger.cursor(system)
        params: dict[str, Any] = {"limit": 1000, **({"after": cursor} if cursor else {})}
        return list(self.call(system, "GET", "/events", params=params)["items"])

    def check_responses(self) -> None:
        """Assert that every system answered within its spec throughout the test."""
        for system in self.world.apps:
            assert self.world.context(system).response_violations == [], system


def running_firm(seed: int = 1) -> Iterator[Firm]:
    """Yield a firm with the deal flows running; check every response against its spec at the end."""
    world = build_world(START, flows=list(DEAL_FLOWS), seed=seed, system_config={"VALIDATE_RESPONSES": True})
    firm = Firm(world)
    yield firm
    firm.check_responses()
