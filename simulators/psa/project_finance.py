"""A project's money attributes: budget by contract version, EAC, ERP dimensions, billing status, rates."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.clock import isoformat
from simulators.common.store import Record
from simulators.psa.projects import budget_version, project_rate_card, sorted_rates
from simulators.psa.rates import check_unique_dates
from simulators.psa.values import money

operations = Operations()
DIMENSIONS = ("erp_contract_id", "erp_customer_number", "cost_center", "service_line")


def _project(request: Request) -> Record:
    project = request.store.get("projects", request.path["project_id"])
    request.check_if_match(project)
    return project


def _change(request: Request, project: Record, changes: dict[str, Any], event_type: str) -> Reply:
    """Write changes and emit their event, unless they change nothing (a repeated PUT is a no-op)."""
    if all(project.get(name) == value for name, value in changes.items()):
        return ok(project)
    project = request.store.update("projects", project["id"], changes)
    request.emit(event_type, project)
    return ok(project)


@operations("setProjectBudget")
def set_project_budget(request: Request) -> Reply:
    """Record the budget of a contract version and append it to the budget history."""
    project = _project(request)
    body = request.body
    entry = budget_version(project["currency"], body, body["effective_date"], isoformat(request.now))
    current = {"contract_version": entry["contract_version"], "budget_hours": entry["budget_hours"],
               "budget_amount": entry["budget_amount"], "budget_effective_date": entry["effective_date"]}
    if all(project[name] == value for name, value in current.items()):
        return ok(project)
    return _change(request, project, {**current, "budget_history": [*project["budget_history"], entry]},
                   "psa.project.budget_changed")


@operations("setProjectEstimate")
def set_project_estimate(request: Request) -> Reply:
    """Set the estimate at completion of cost, keeping every estimate in the history."""
    project = _project(request)
    body = request.body
    estimate = {"eac_cost": money(body["eac_cost"]), "currency": project["currency"], "as_of": body["as_of"],
                "note": body.get("note"), "recorded_at": isoformat(request.now)}
    latest = project["estimate_history"][-1] if project["estimate_history"] else None
    if latest is not None and all(latest[name] == estimate[name] for name in ("eac_cost", "as_of", "note")):
        return ok(project)
    return _change(request, project, {"eac_cost": estimate["eac_cost"], "eac_as_of": estimate["as_of"],
                                      "estimate_history": [*project["estimate_history"], estimate]},
                   "psa.project.estimate_changed")


@operations("setProjectBillingStatus")
def set_project_billing_status(request: Request) -> Reply:
    """Record the ERP's invoiced, credited and paid totals and its credit hold."""
    project = _project(request)
    body = request.body
    status = {"invoiced": money(body["invoiced"]), "credited": money(body["credited"]), "paid": money(body["paid"]),
              "currency": body["currency"], "credit_hold": body["credit_hold"], "as_of": body.get("as_of")}
    current = project["billing_status"]
    if current is not None and all(current[name] == value for name, value in status.items()):
        return ok(project)
    return _change(request, project, {"billing_status": {**status, "recorded_at": isoformat(request.now)}},
                   "psa.project.billing_status_changed")


@operations("setProjectDimensions")
def set_project_dimensions(request: Request) -> Reply:
    """Write the ERP's financial dimensions of a project."""
    project = _project(request)
    changes = {name: request.body[name] for name in DIMENSIONS if name in request.body}
    return _change(request, project, changes, "psa.project.dimensions_changed")


@operations("setProjectRateCard")
def set_project_rate_card(request: Request) -> Reply:
    """Give the project its own rate card, or replace its rates."""
    project = _project(request)
    store = request.store
    rates = request.body["rates"]
    version = request.body["contract_version"]
    card = store.get("rate_cards", project["rate_card_id"])
    if card["project_id"] != project["id"]:
        card = project_rate_card(store, project["id"], project["currency"], version, rates)
        request.emit("psa.rate_card.created", card)
        return _change(request, project, {"rate_card_id": card["id"]}, "psa.project.updated")
    check_unique_dates(rates, ("role", "effective_from"), "duplicate-rate", "rates")
    changes = {"contract_version": version, "rates": sorted_rates(rates)}
    if any(card[name] != value for name, value in changes.items()):
        request.emit("psa.rate_card.updated", store.update("rate_cards", card["id"], changes))
    return ok(project)
