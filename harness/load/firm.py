"""The firm a load run drives: a few won deals set up by the engine, staffed, and the business events
(time and expense approvals, billing runs, payments) acted on them through the public APIs over HTTP.

Approvals come in bulk, as the scenario firm's and real managers' do: a week of time is one timesheet
and one bulk approval of its entries, an expense report one bulk approval of its expenses; a
business event is an entry approved (or a billing run, a payment), not an API call."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from scenarios.engine.ports import new_traceparent

SOURCE_HEADER = "Firmsim-Load-Source"
ENTITY, COUNTRY, CURRENCY = "US01", "US", "USD"
SETUP_TIMEOUT_S = 300.0  # worker processes sharing partitions start slowly on a busy machine


class LoadSetupError(RuntimeError):
    """The firm could not be set up (a system refused, the engine did not create the projects)."""


@dataclass(slots=True)
class LoadDeal:
    """One won deal as the load driver uses it."""

    opportunity_id: str
    project_id: str = ""
    customer_id: str = ""
    resources: list[str] = field(default_factory=list)


class Actors:
    """Act on the systems over HTTP: one client per system, shared by the driver's threads."""

    def __init__(self, base_urls: dict[str, str], token: str, *, connections: int = 32,
                 timeout_s: float = 30.0) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.clients = {system: httpx.Client(base_url=url, timeout=timeout_s, limits=limits,
                                             headers={"Authorization": f"Bearer {token}"})
                        for system, url in base_urls.items()}
        self._keys = itertools.count(1)
        self._lock = threading.Lock()
        self.calls = 0
        self.latency: Callable[[str, str, int, float], None] | None = None

    def close(self) -> None:
        """Close every connection pool."""
        for client in self.clients.values():
            client.close()

    def call(self, system: str, method: str, path: str, body: Any = None, *, traceparent: str | None = None,
             source: bool = False, operation: str = "") -> Any:
        """Call a system; return the JSON body of a 2xx answer, raise LoadSetupError otherwise."""
        headers: dict[str, str] = {}
        with self._lock:
            self.calls += 1
            if method == "POST":
                headers["Idempotency-Key"] = f"load-{next(self._keys):09d}"
        if traceparent:
            headers["traceparent"] = traceparent
        if source:
            headers[SOURCE_HEADER] = "1"
        started = time.perf_counter()
        try:
            response = self.clients[system].request(method, path, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise LoadSetupError(f"{method} {system}{path}: {type(error).__name__}: {error}") from error
        if self.latency is not None:
            self.latency(system, operation or method, response.status_code, time.perf_counter() - started)
        if not 200 <= response.status_code < 300:
            raise LoadSetupError(f"{method} {system}{path} -> {response.status_code}: {response.text[:200]}")
        return response.json() if response.content else None


class LoadFirm:
    """The deals and resources the business events are booked against."""

    def __init__(self, actors: Actors, seed: int, *, sheet_entries: int = 20, report_expenses: int = 5) -> None:
        self.actors = actors
        self.sizes = {"time_approval": sheet_entries, "expense_approval": report_expenses, "invoice": 1,
                      "payment": 1}
        """Business events per actor action of each kind (entries approved; one billing run, one payment)."""
        self.deals: list[LoadDeal] = []
        self.today = date.today()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    # -- setup -----------------------------------------------------------------------------------

    def set_up(self, deals: int, resources_per_deal: int, engine_alive: Callable[[], None]) -> None:
        """Win `deals` deals in the CRM, wait for the engine to create their projects (`engine_alive` raises
        when the engine is gone), staff and activate them."""
        start = (self.today - timedelta(days=120)).isoformat()
        end = (self.today + timedelta(days=240)).isoformat()
        account = self.actors.call("crm", "POST", "/accounts", {"name": "Load Test Industries", "country": COUNTRY,
                                                                 "currency": CURRENCY})
        for number in range(deals):
            opportunity = self.actors.call("crm", "POST", "/opportunities", {
                "account_id": account["id"], "name": f"Load deal {number + 1}", "stage": "PROPOSAL",
                "amount": "5000000.00", "currency": CURRENCY, "close_date": start,
                "billing_model": "TIME_AND_MATERIALS",
                "legal_entity": ENTITY, "practice": "TECHNOLOGY", "service_start": start, "service_end": end,
                "estimated_hours": "20000", "rate_card": [{"role": "CONSULTANT", "hourly_rate": "150.00"}]})
            for action in ("submit-sow", "approve-sow", "close-won"):
                self.actors.call("crm", "POST", f"/opportunities/{opportunity['id']}/{action}", {})
            self.deals.append(LoadDeal(opportunity["id"]))
        self._wait_for_projects(engine_alive)
        for index, deal in enumerate(self.deals):
            self.actors.call("psa", "POST", f"/projects/{deal.project_id}/activate", {"effective_date": start})
            for slot in range(resources_per_deal):
                deal.resources.append(self._staff(deal, f"WRK-{index * resources_per_deal + slot + 900001:06d}",
                                                  start, end))

    def _wait_for_projects(self, engine_alive: Callable[[], None]) -> None:
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        pending = list(self.deals)
        while pending:
            for deal in list(pending):
                opportunity = self.actors.call("crm", "GET", f"/opportunities/{deal.opportunity_id}")
                account = self.actors.call("crm", "GET", f"/accounts/{opportunity['account_id']}")
                if opportunity.get("psa_project_id") and account.get("erp_customer_number"):
                    deal.project_id = opportunity["psa_project_id"]
                    deal.customer_id = account["erp_customer_number"]
                    pending.remove(deal)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise LoadSetupError(f"the engine did not create the projects of {len(pending)} won deals within "
                                     f"{SETUP_TIMEOUT_S:.0f} s")
            engine_alive()
            time.sleep(0.2)

    def _staff(self, deal: LoadDeal, worker: str, start: str, end: str) -> str:
        self.actors.call("psa", "PUT", f"/resources/{worker}", {
            "name": f"Consultant {worker}", "role": "CONSULTANT", "legal_entity": ENTITY, "worker_type": "EMPLOYEE",
            "active": True, "source_version": 1})
        self.actors.call("psa", "PUT", f"/resources/{worker}/cost-rates", {"cost_rates": [
            {"effective_from": start, "hourly_cost": "80.00", "currency": CURRENCY, "source_version": 1}]})
        self.actors.call("psa", "POST", "/assignments", {
            "project_id": deal.project_id, "resource_id": worker, "role": "CONSULTANT", "start_date": start,
            "end_date": end, "hours_per_week": "40.00"})
        return worker

    # -- business events -------------------------------------------------------------------------

    def pick(self) -> tuple[LoadDeal, str, str, str]:
        """Return a deal, one of its resources, a work day in the last 90 days and a new traceparent."""
        with self._lock:
            deal = self._rng.choice(self.deals)
            resource = self._rng.choice(deal.resources)
            day = self.today - timedelta(days=self._rng.randrange(1, 90))
            traceparent = new_traceparent(self._rng)
        return deal, resource, day.isoformat(), traceparent

    def act(self, kind: str, choice: tuple[LoadDeal, str, str, str],
            on_record: Callable[[str], None] = lambda record_id: None) -> None:
        """Do one actor action of a kind for a choice of `pick()`, under the choice's traceparent: a week
        of time (one timesheet, one bulk approval) or an expense report (expenses entered and submitted
        one by one, one bulk approval), a billing run, a payment; `on_record` hears the id of each
        entry an approval is about before it is approved."""
        deal, resource, day, traceparent = choice
        if kind == "time_approval":
            monday = date.fromisoformat(day) - timedelta(days=date.fromisoformat(day).weekday())
            sheet = self.actors.call("psa", "POST", "/timesheets", {
                "resource_id": resource, "week_start": monday.isoformat(), "submit": True,
                "entries": [{"project_id": deal.project_id, "date": (monday + timedelta(days=n % 5)).isoformat(),
                             "hours": "0.25", "billable": True} for n in range(self.sizes[kind])]},
                traceparent=traceparent, operation="createTimesheet")
            ids = _created(sheet, "timesheet")
            for entry_id in ids:
                on_record(entry_id)
            _created(self.actors.call("psa", "POST", "/time-entries/bulk-approve", {"ids": ids},
                                      traceparent=traceparent, source=True, operation="bulkApproveTimeEntries"),
                     "bulk approval", ok=200)
        elif kind == "expense_approval":
            ids = []
            for _ in range(self.sizes[kind]):
                expense = self.actors.call("psa", "POST", "/expenses", {
                    "resource_id": resource, "project_id": deal.project_id, "date": day, "category": "TRAVEL",
                    "amount": "25.00", "currency": CURRENCY, "billable": True, "description": "Taxi to the client"},
                    traceparent=traceparent, operation="createExpense")
                self.actors.call("psa", "POST", f"/expenses/{expense['id']}/submit", traceparent=traceparent,
                                 operation="submitExpense")
                ids.append(str(expense["id"]))
            for expense_id in ids:
                on_record(expense_id)
            _created(self.actors.call("psa", "POST", "/expenses/bulk-approve", {"ids": ids}, traceparent=traceparent,
                                      source=True, operation="bulkApproveExpenses"), "bulk approval", ok=200)
        elif kind == "invoice":
            self.actors.call("erp", "POST", "/billing-runs", {"legal_entity": ENTITY,
                                                               "period_end": self.today.isoformat()},
                             traceparent=traceparent, source=True, operation="createBillingRun")
        elif kind == "payment":
            self.actors.call("erp", "POST", "/payments", {
                "customer_id": deal.customer_id, "amount": "50.00", "currency": CURRENCY,
                "received_on": self.today.isoformat(), "auto_apply": True},
                traceparent=traceparent, source=True, operation="createPayment")
        else:
            raise ValueError(f"unknown business event kind {kind!r}")


def _created(body: Any, what: str, ok: int = 201) -> list[str]:
    """Return the ids of a bulk answer's results; raise LoadSetupError naming the first refused item."""
    results = body.get("results", []) if isinstance(body, dict) else []
    refused = [item for item in results if item.get("status") != ok]
    if refused or not results:
        raise LoadSetupError(f"the {what} refused {len(refused)} of {len(results)} items: "
                             f"{str(refused[:1])[:200]}")
    return [str(item["id"]) for item in results]
