"""The world the money-flow tests run in, and the people acting in it (no tests here).

`money_world()` builds the four systems and the engine on one virtual clock. `open_deal()` leaves a
deal the way the opportunity-to-project flow leaves it: the CRM opportunity won, the ERP customer
and contract with its billing plan, the PSA project (active, with its milestones), and the ledger's
cross-references under the shared conventions. Everything goes through the systems' public APIs,
as an actor or the engine would; only the ledger links are written directly (tests only).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.test import Client

from harness.runner.world import World, build_world
from syncengine.flows import billing_cash, cost_actuals, milestones, opportunity_to_project, time_expense_billing
from syncengine.ledger.port import AbstractLedger
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Flow

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""A Monday."""
MONEY_FLOWS: tuple[Flow, ...] = (time_expense_billing.FLOW, milestones.FLOW, cost_actuals.FLOW, billing_cash.FLOW)
WITH_DEAL_FLOW: tuple[Flow, ...] = (opportunity_to_project.FLOW, *MONEY_FLOWS)
"""The money flows after the deal flow that creates what they bill (customer, contract, project)."""
CURRENCIES = {"US01": "USD", "UK01": "GBP", "DE01": "EUR"}
COUNTRIES = {"US01": "US", "UK01": "GB", "DE01": "DE"}
MONTHLY_FEE = "10000.00"
_keys = itertools.count(1)


def money_world(flows: Sequence[Flow] | None = WITH_DEAL_FLOW, *, seed: int = 0,
                poll_interval_s: float = 60.0) -> World:
    """Build the systems (validating every response against its spec) and the engine with `flows`
    (none at all with None)."""
    return build_world(START, flows=flows, seed=seed, poll_interval_s=poll_interval_s,
                       system_config={"VALIDATE_RESPONSES": True})


def engine_of(world: World) -> Engine:
    """Return the world's engine (money worlds always have one)."""
    assert world.engine is not None
    return world.engine


def assert_conformant(world: World) -> None:
    """Assert that no system answered anything its spec does not allow."""
    for system in world.apps:
        assert world.context(system).response_violations == [], system


def call(world: World, system: str, method: str, path: str, body: Any = None,
         params: dict[str, Any] | None = None) -> Any:
    """Act on a system as a person would; return the body of the (successful) answer."""
    key = f"actor-{next(_keys):06d}" if method == "POST" else None
    result = world.ports[system].call(method, path, body=body, params=params, idempotency_key=key)
    assert result.ok, f"{method} {system}{path} -> {result.status}: {result.body}"
    return result.body


def add_fault(world: World, system: str, kind: str, *, after_s: float = 0.0, duration_s: float | None = None,
              **params: Any) -> None:
    """Schedule a fault on a system through its admin API, from `after_s` virtual seconds from now."""
    start = world.clock.now() + timedelta(seconds=after_s)
    fault: dict[str, Any] = {"kind": kind, "params": params, "start": start.isoformat()}
    if duration_s is not None:
        fault["duration"] = duration_s
    response = Client(world.apps[system]).post("/admin/faults", json=fault)
    assert response.status_code == 201, response.get_data(as_text=True)


def records(world: World, system: str, collection: str) -> list[dict[str, Any]]:
    """Return a system's records of one collection (end-state inspection, tests only)."""
    return list(world.context(system).store.export().get(collection, []))


@dataclass
class Deal:
    """A won deal as the deal flow leaves it, and who is staffed on it."""

    opportunity_id: str
    account_id: str
    customer_id: str
    contract_id: str
    project_id: str
    legal_entity: str
    currency: str
    billing_model: str
    name: str
    milestones: list[tuple[str, str]] = field(default_factory=list)
    """(PSA milestone id, ERP billing-plan milestone id), in the deal's order."""
    resources: list[str] = field(default_factory=list)
    erp_side: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    """The bodies that created the ERP customer and contract (to set the ERP up again)."""

    @property
    def key(self) -> str:
        """Return the deal's canonical key."""
        return f"deal:{self.opportunity_id}"


def _crm_deal(world: World, name: str, entity: str, billing_model: str, amount: str,
              milestones: Sequence[tuple[str, str, bool]], account: dict[str, Any] | None = None) -> tuple[str, str]:
    currency = CURRENCIES[entity]
    account = call(world, "crm", "POST", "/accounts", {"name": name, "country": COUNTRIES[entity],
                                                        "currency": currency, **(account or {})})
    terms: dict[str, Any] = {
        "account_id": account["id"], "name": f"{name} delivery", "stage": "PROPOSAL", "amount": amount,
        "currency": currency, "close_date": "2026-03-02", "billing_model": billing_model, "legal_entity": entity,
        "practice": "TECHNOLOGY", "service_start": "2026-03-02", "service_end": "2026-12-31",
        "estimated_hours": "1000"}
    if billing_model == "FIXED_FEE":
        terms["billing_milestones"] = [{"name": title, "amount": value, "due_date": "2026-06-30",
                                        "requires_acceptance": acceptance} for title, value, acceptance in milestones]
    elif billing_model == "RETAINER":
        terms["monthly_fee"] = MONTHLY_FEE
    else:
        terms["rate_card"] = [{"role": "CONSULTANT", "hourly_rate": "150.00"}]
    if billing_model == "CAPPED_TM":
        terms["cap_amount"] = amount
    opportunity = call(world, "crm", "POST", "/opportunities", terms)
    for action in ("submit-sow", "approve-sow", "close-won"):
        opportunity = call(world, "crm", "POST", f"/opportunities/{opportunity['id']}/{action}", {})
    return account["id"], opportunity["id"]


def open_deal(world: World, *, name: str = "Northwind Traders", entity: str = "US01",
              billing_model: str = "TIME_AND_MATERIALS", amount: str = "100000.00",
              milestones: Sequence[tuple[str, str, bool]] = (), account: dict[str, Any] | None = None,
              by_hand: bool = False) -> Deal:
    """Win a deal in the CRM and let the deal flow (opportunity to project) set it up, then activate
    its project; `by_hand` (or a world without the deal flow) sets it up as that flow would instead.
    `account` adds fields to the CRM account (a tax id, a parent account)."""
    if by_hand or world.engine is None or opportunity_to_project.FLOW.name not in world.engine.registry.flows:
        return open_deal_by_hand(world, name=name, entity=entity, billing_model=billing_model, amount=amount,
                                 milestones=milestones)
    account_id, opportunity_id = _crm_deal(world, name, entity, billing_model, amount, milestones, account)
    settle(world)
    ledger = world.engine.ports.ledger
    key = f"deal:{opportunity_id}"
    contract_id, project_id = ledger.external_id("contract", "erp", key), ledger.external_id("project", "psa", key)
    assert contract_id is not None and project_id is not None, (ledger.exceptions(), ledger.dead_letters())
    contract = call(world, "erp", "GET", f"/contracts/{contract_id}")
    call(world, "psa", "POST", f"/projects/{project_id}/activate", {"effective_date": "2026-03-02"})
    deal = Deal(opportunity_id, account_id, contract["customer_id"], contract_id, project_id, entity,
                CURRENCIES[entity], billing_model, name)
    for index in range(len(milestones)):
        psa_id = ledger.external_id("milestone", "psa", f"milestone:{opportunity_id}:{index}")
        plan = ledger.external_id("milestone", "erp", f"milestone:{opportunity_id}:{index}")
        assert psa_id is not None and plan is not None
        deal.milestones.append((psa_id, plan.split("/", 1)[1]))
    return deal


def open_deal_by_hand(world: World, *, name: str = "Northwind Traders", entity: str = "US01",
                      billing_model: str = "TIME_AND_MATERIALS", amount: str = "100000.00",
                      milestones: Sequence[tuple[str, str, bool]] = (), link_project: bool = True) -> Deal:
    """Set up a won deal on every system through their APIs, and link it in the engine's ledger (if any)."""
    currency = CURRENCIES[entity]
    account_id, opportunity_id = _crm_deal(world, name, entity, billing_model, amount, milestones)
    customer_body = {"name": name, "legal_entity": entity, "country": COUNTRIES[entity], "currency": currency,
                     "crm_account_id": account_id, "source_system": "crm", "source_id": account_id,
                     "source_version": 1}
    customer = call(world, "erp", "POST", "/customers", customer_body)
    plan: dict[str, Any] = {}
    if milestones:
        plan["milestones"] = [{"id": f"M{index + 1}", "name": title, "amount": value,
                               "requires_acceptance": acceptance}
                              for index, (title, value, acceptance) in enumerate(milestones)]
    if billing_model == "CAPPED_TM":
        plan["cap_amount"] = amount
    if billing_model == "RETAINER":
        plan["retainer"] = {"monthly_fee": MONTHLY_FEE, "term_months": 10}
    if billing_model == "FIXED_FEE":
        plan["eac"] = f"{Decimal(amount) * 6 / 10:.2f}"
    contract_body: dict[str, Any] = {
        "name": f"{name} delivery", "customer_id": customer["id"], "legal_entity": entity, "currency": currency,
        "billing_model": billing_model, "crm_opportunity_id": opportunity_id, "source_system": "crm",
        "source_id": opportunity_id, "source_version": 1, "start_date": "2026-03-02", "total_price": amount,
        "billing_plan": plan}
    contract = call(world, "erp", "POST", "/contracts", contract_body)
    project = call(world, "psa", "POST", "/projects", {
        "name": f"{name} delivery", "practice": "TECHNOLOGY", "customer_name": name, "billing_model": billing_model,
        "currency": currency, "legal_entity": entity, "start_date": "2026-03-02", "end_date": "2026-12-31",
        "crm_opportunity_id": opportunity_id, "erp_contract_id": contract["id"],
        "erp_customer_number": customer["id"], "rates": [{"role": "CONSULTANT", "bill_rate": "150.00",
                                                          "effective_from": "2026-01-01"}]})
    call(world, "psa", "POST", f"/projects/{project['id']}/activate", {"effective_date": "2026-03-02"})
    call(world, "crm", "PUT", f"/accounts/{account_id}/erp-link", {"erp_customer_number": customer["id"]})
    call(world, "crm", "PUT", f"/opportunities/{opportunity_id}/delivery-link",
         {"erp_contract_id": contract["id"], "psa_project_id": project["id"]})
    deal = Deal(opportunity_id, account_id, customer["id"], contract["id"], project["id"], entity, currency,
                billing_model, name, erp_side=(customer_body, contract_body))
    for index, (title, value, acceptance) in enumerate(milestones):
        milestone = call(world, "psa", "POST", f"/projects/{project['id']}/milestones", {
            "name": title, "amount": value, "currency": currency, "due_date": "2026-06-30",
            "requires_acceptance": acceptance, "source_system": "crm",
            "source_id": f"{opportunity_id}-M{index + 1}", "source_version": 1})
        deal.milestones.append((milestone["id"], f"M{index + 1}"))
    if world.engine is not None:
        link_deal(world.engine.ports.ledger, deal, link_project=link_project)
    return deal


def recreate_erp_side(world: World, deal: Deal) -> None:
    """Create the deal's ERP customer and contract again, in a freshly reset ERP (same ids, same order)."""
    customer_body, contract_body = deal.erp_side
    customer = call(world, "erp", "POST", "/customers", customer_body)
    contract = call(world, "erp", "POST", "/contracts", {**contract_body, "customer_id": customer["id"]})
    assert (customer["id"], contract["id"]) == (deal.customer_id, deal.contract_id)


def link_deal(ledger: AbstractLedger, deal: Deal, *, link_project: bool = True) -> None:
    """Write the cross-references the opportunity-to-project flow writes for a deal."""
    ledger.link("opportunity", "crm", deal.opportunity_id, deal.key)
    ledger.link("contract", "erp", deal.contract_id, deal.key)
    if link_project:
        ledger.link("project", "psa", deal.project_id, deal.key)
    # The ledger keeps one id per system and kind under a key: the ERP customer and its first CRM
    # account stand under the customer's key (the deal reaches it through its contract).
    customer_key = f"customer:name:{deal.name.casefold()}|{COUNTRIES[deal.legal_entity]}"
    ledger.link("account", "crm", deal.account_id, customer_key)
    ledger.link("customer", "erp", deal.customer_id, customer_key)
    for index, (psa_id, plan_id) in enumerate(deal.milestones):
        ledger.link("milestone", "psa", psa_id, f"milestone:{deal.opportunity_id}:{index}")
        ledger.link("milestone", "erp", f"{deal.contract_id}/{plan_id}", f"milestone:{deal.opportunity_id}:{index}")


def staff(world: World, deal: Deal, *, worker: str = "WRK-000001", role: str = "CONSULTANT",
          hourly_cost: str = "80.00", cost_currency: str | None = None) -> str:
    """Staff a resource on the deal's project for the year (the staffing flow's job, done by hand)."""
    call(world, "psa", "PUT", f"/resources/{worker}", {
        "name": f"Consultant {worker}", "role": role, "legal_entity": deal.legal_entity, "worker_type": "EMPLOYEE",
        "active": True, "source_version": 1})
    call(world, "psa", "PUT", f"/resources/{worker}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-01", "hourly_cost": hourly_cost, "currency": cost_currency or deal.currency,
         "source_version": 1}]})
    call(world, "psa", "POST", "/assignments", {
        "project_id": deal.project_id, "resource_id": worker, "role": role, "start_date": "2026-03-02",
        "end_date": "2026-12-31", "hours_per_week": "40.00"})
    deal.resources.append(worker)
    return worker


def log_time(world: World, deal: Deal, on: date, hours: str, *, worker: str | None = None,
             approve: bool = True) -> str:
    """Record hours on the deal's project and submit them (and approve them, by default)."""
    entry = call(world, "psa", "POST", "/time-entries", {
        "resource_id": worker or deal.resources[0], "project_id": deal.project_id, "date": on.isoformat(),
        "hours": hours})
    call(world, "psa", "POST", f"/time-entries/{entry['id']}/submit")
    if approve:
        call(world, "psa", "POST", f"/time-entries/{entry['id']}/approve")
    return str(entry["id"])


def spend(world: World, deal: Deal, on: date, amount: str, *, currency: str | None = None,
          billable: bool = True) -> str:
    """Record an expense on the deal's project, submit and approve it."""
    expense = call(world, "psa", "POST", "/expenses", {
        "resource_id": deal.resources[0], "project_id": deal.project_id, "date": on.isoformat(),
        "category": "TRAVEL", "amount": amount, "currency": currency or deal.currency, "billable": billable,
        "description": "Train to the client"})
    call(world, "psa", "POST", f"/expenses/{expense['id']}/submit")
    call(world, "psa", "POST", f"/expenses/{expense['id']}/approve")
    return str(expense["id"])


def correct_time(world: World, entry_id: str, hours: str) -> None:
    """Reopen an approved entry, change its hours, resubmit and approve it again (its next revision)."""
    call(world, "psa", "POST", f"/time-entries/{entry_id}/reopen", {"reason": "Hours booked wrong"})
    call(world, "psa", "PATCH", f"/time-entries/{entry_id}", {"hours": hours})
    call(world, "psa", "POST", f"/time-entries/{entry_id}/submit")
    call(world, "psa", "POST", f"/time-entries/{entry_id}/approve")


def billing_run(world: World, deal: Deal, period_end: str) -> dict[str, Any]:
    """Run the ERP's billing for the deal's legal entity up to a period end (finance's job)."""
    return dict(call(world, "erp", "POST", "/billing-runs", {"legal_entity": deal.legal_entity,
                                                             "period_end": period_end}))


def live_transactions(world: World) -> list[tuple[str, int, str]]:
    """Return the ERP's live billable transactions as (source id, source version, amount), sorted."""
    return sorted((str(t["source_id"]), int(t["source_version"]), str(t["amount"]))
                  for t in records(world, "erp", "billable_transactions") if t["status"] != "REVERSED")


def settle(world: World, limit_s: float = 3600.0) -> None:
    """Let the engine read every feed dry and finish what is in flight."""
    assert world.drain(limit_s), "the engine did not go idle"


def amount(text: str) -> Decimal:
    """Read a money string."""
    return Decimal(text)
