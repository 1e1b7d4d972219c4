"""A small firm acting on systems served on real sockets (no tests here): a won deal, time approvals.

Everything goes through the systems' HTTP APIs, as people would; the engine under test does the rest.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from simulators.common.app import DEFAULT_TOKEN
from simulators.registry import PORT_OFFSETS, SYSTEM_KINDS
from simulators.server import SystemServers, serve_systems

ACTOR_TOKEN = DEFAULT_TOKEN
ENGINE_TOKEN = "firmsim-engine-token"
_keys = itertools.count(1)


def free_port_base(first: int = 24100) -> int:
    """Return a port base whose four system ports are free, from `first` on.

    Each pytest-xdist worker searches from its own thousand ports on: two workers probing the same
    range could both find it free before either binds it.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = first + 1000 * (int(worker) if worker.isdigit() else 0)
    for base in range(start, 60000, 10):
        try:
            for offset in PORT_OFFSETS.values():
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range")


@contextmanager
def served_systems(config: dict[str, Any] | None = None) -> Iterator[SystemServers]:
    """Serve the four systems on free ports (real sockets), accepting the actor's and engine's tokens."""
    servers = serve_systems("127.0.0.1", free_port_base(), list(SYSTEM_KINDS),
                            {"API_TOKENS": [ACTOR_TOKEN, ENGINE_TOKEN], **(config or {})})
    try:
        yield servers
    finally:
        servers.stop()


@dataclass
class Firm:
    """People acting on the served systems through their APIs."""

    urls: dict[str, str]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))

    def call(self, system: str, method: str, path: str, body: Any = None) -> Any:
        """Act on a system; return the body of its (successful) answer."""
        headers = {"Authorization": f"Bearer {ACTOR_TOKEN}"}
        if method == "POST":
            headers["Idempotency-Key"] = f"actor-{time.monotonic_ns()}-{next(_keys)}"
        response = self.http.request(method, self.urls[system] + path, json=body, headers=headers)
        assert response.is_success, f"{method} {system}{path} -> {response.status_code}: {response.text}"
        return response.json()

    def close(self) -> None:
        """Close the firm's connections (the systems keep them alive otherwise)."""
        self.http.close()

    def records(self, system: str, collection: str) -> list[dict[str, Any]]:
        """Return a system's records of one collection (its admin state, for end-state checks)."""
        response = self.http.get(self.urls[system] + "/admin/state")
        assert response.is_success, response.text
        return list(response.json()["records"].get(collection, []))

    def win_deal(self, name: str = "Northwind Traders") -> str:
        """Win a time-and-materials deal in the CRM; return the opportunity id."""
        account = self.call("crm", "POST", "/accounts", {"name": name, "country": "US", "currency": "USD"})
        opportunity = self.call("crm", "POST", "/opportunities", {
            "account_id": account["id"], "name": f"{name} delivery", "stage": "PROPOSAL", "amount": "100000.00",
            "currency": "USD", "close_date": "2026-03-02", "billing_model": "TIME_AND_MATERIALS",
            "legal_entity": "US01", "practice": "TECHNOLOGY", "service_start": "2026-03-02",
            "service_end": "2026-12-31", "estimated_hours": "1000",
            "rate_card": [{"role": "CONSULTANT", "hourly_rate": "150.00"}]})
        for action in ("submit-sow", "approve-sow", "close-won"):
            self.call("crm", "POST", f"/opportunities/{opportunity['id']}/{action}", {})
        return str(opportunity["id"])

    def project_of(self, opportunity_id: str) -> dict[str, Any] | None:
        """Return the PSA project created for an opportunity, None while there is none."""
        return next((project for project in self.records("psa", "projects")
                     if project.get("crm_opportunity_id") == opportunity_id), None)

    def staff(self, project_id: str, worker: str = "WRK-000001") -> str:
        """Activate a project and staff a consultant on it (the staffing flow's job, done by hand)."""
        self.call("psa", "POST", f"/projects/{project_id}/activate", {"effective_date": "2026-03-02"})
        self.call("psa", "PUT", f"/resources/{worker}", {
            "name": f"Consultant {worker}", "role": "CONSULTANT", "legal_entity": "US01",
            "worker_type": "EMPLOYEE", "active": True, "source_version": 1})
        self.call("psa", "PUT", f"/resources/{worker}/cost-rates", {"cost_rates": [
            {"effective_from": "2026-01-01", "hourly_cost": "80.00", "currency": "USD", "source_version": 1}]})
        self.call("psa", "POST", "/assignments", {
            "project_id": project_id, "resource_id": worker, "role": "CONSULTANT", "start_date": "2026-03-02",
            "end_date": "2026-12-31", "hours_per_week": "40.00"})
        return worker

    def approve_time(self, project_id: str, worker: str, count: int, *, first_day: date = date(2026, 3, 3),
                     hours: str = "1.00") -> list[str]:
        """Record, submit and approve `count` time entries on the project; return their ids."""
        ids = []
        for index in range(count):
            on = first_day + timedelta(days=index % 200)
            entry = self.call("psa", "POST", "/time-entries", {
                "resource_id": worker, "project_id": project_id, "date": on.isoformat(), "hours": hours})
            self.call("psa", "POST", f"/time-entries/{entry['id']}/submit")
            self.call("psa", "POST", f"/time-entries/{entry['id']}/approve")
            ids.append(str(entry["id"]))
        return ids

    def transactions_by_entry(self) -> dict[str, int]:
        """Return how many live ERP billable transactions each PSA time entry has."""
        counts: dict[str, int] = {}
        for transaction in self.records("erp", "billable_transactions"):
            if transaction.get("source_system") == "psa" and transaction.get("status") != "REVERSED":
                counts[str(transaction["source_id"])] = counts.get(str(transaction["source_id"]), 0) + 1
        return counts


def eventually(check: Callable[[], Any], timeout_s: float = 20.0, interval_s: float = 0.1) -> Any:
    """Return the first truthy result of `check` within `timeout_s`; fail otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"not within {timeout_s} s"
            return result
        time.sleep(interval_s)
