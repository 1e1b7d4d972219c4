"""Projects: created by the sync engine from a practice template, then activated, completed or cancelled."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.clock import isoformat
from simulators.common.errors import business_error, invalid_transition
from simulators.common.store import Record, Store
from simulators.psa.rates import check_unique_dates, default_rate_card
from simulators.psa.values import (
    ROLES,
    check_date_order,
    check_entity_currency,
    check_practice,
    day,
    money,
)

operations = Operations()
LIST_FILTERS = ("status", "practice", "legal_entity", "crm_opportunity_id", "erp_contract_id")
OPTIONAL_FIELDS = ("description", "crm_opportunity_id", "source_system", "source_id", "source_version",
                   "project_manager", "erp_contract_id", "erp_customer_number")
# action -> (statuses it is allowed from, status it leads to, date field it sets, event verb)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "activate": (("PLANNED",), "ACTIVE", "activated_on", "activated"),
    "complete": (("ACTIVE",), "COMPLETED", "completed_on", "completed"),
    "cancel": (("PLANNED", "ACTIVE"), "CANCELLED", "cancelled_on", "cancelled"),
}


def budget_version(project_currency: str, body: dict[str, Any], effective_date: str, recorded_at: str) -> Record:
    """Return one entry of a project's budget history."""
    return {"contract_version": body["contract_version"], "budget_hours": money(body["budget_hours"]),
            "budget_amount": money(body["budget_amount"]), "currency": project_currency,
            "effective_date": effective_date, "recorded_at": recorded_at}


def project_rate_card(store: Store, project_id: str, currency: str, contract_version: int | None,
                      rates: list[Record]) -> Record:
    """Insert a project's own rate card."""
    check_unique_dates(rates, ("role", "effective_from"), "duplicate-rate", "rates")
    return store.insert("rate_cards", {
        "name": f"Contract rates {project_id}", "currency": currency, "project_id": project_id,
        "contract_version": contract_version, "rates": sorted_rates(rates)})


def sorted_rates(rates: list[Record]) -> list[Record]:
    """Return rates as stored: money strings, sorted by role then effective date."""
    stored = [{"role": rate["role"], "bill_rate": money(rate["bill_rate"]), "effective_from": rate["effective_from"]}
              for rate in rates]
    return sorted(stored, key=lambda rate: (ROLES.index(rate["role"]), rate["effective_from"]))


@operations("listProjects")
def list_projects(request: Request) -> Reply:
    """List projects, filtered."""
    filters = {name: request.query[name] for name in LIST_FILTERS if name in request.query}
    projects = (request.store.where_equal("projects", "crm_opportunity_id", filters["crm_opportunity_id"])
                if "crm_opportunity_id" in filters else request.store.all("projects"))  # the engine's lookup
    return request.page([project for project in projects
                         if all(project[name] == value for name, value in filters.items())])


@operations("createProject")
def create_project(request: Request) -> Reply:
    """Create a PLANNED project from its practice's template, with its WBS, budget and rate card."""
    body = request.body
    store = request.store
    check_practice(body["practice"])
    check_entity_currency(body["legal_entity"], body["currency"])
    check_date_order(day(body["start_date"]), day(body["end_date"]), "start_date", "end_date")
    template = store.first("templates", lambda candidate: candidate["practice"] == body["practice"])
    if template is None:
        raise business_error("unknown-practice", "Unknown practice",
                             f"no project template for practice {body['practice']}", field="practice")
    project_id = store.new_id("projects")
    stamp = isoformat(request.now)
    if "rates" in body:
        card = project_rate_card(store, project_id, body["currency"], body.get("contract_version"), body["rates"])
    else:
        card = default_rate_card(store, body["currency"]) or project_rate_card(
            store, project_id, body["currency"], body.get("contract_version"), [])
    has_budget = "contract_version" in body
    history = [budget_version(body["currency"], body, body["start_date"], stamp)] if has_budget else []
    project = store.insert("projects", {
        "name": body["name"], "practice": body["practice"], "template_id": template["id"],
        "customer_name": body["customer_name"], "billing_model": body["billing_model"],
        "currency": body["currency"], "legal_entity": body["legal_entity"],
        "start_date": body["start_date"], "end_date": body["end_date"],
        **{name: body.get(name) for name in OPTIONAL_FIELDS},
        "cost_center": body.get("cost_center", template["default_cost_center"]),
        "service_line": body.get("service_line", template["default_service_line"]),
        "status": "PLANNED", "activated_on": None, "completed_on": None, "cancelled_on": None,
        "cancellation_reason": None, "rate_card_id": card["id"],
        "contract_version": history[0]["contract_version"] if history else None,
        "budget_hours": history[0]["budget_hours"] if history else None,
        "budget_amount": history[0]["budget_amount"] if history else None,
        "budget_effective_date": body["start_date"] if history else None, "budget_history": history,
        "eac_cost": None, "eac_as_of": None, "estimate_history": [], "billing_status": None,
    }, record_id=project_id)
    for task in template["tasks"]:
        store.insert("tasks", {"project_id": project_id, "code": task["code"], "name": task["name"],
                               "parent_task_id": None, "billable": task["billable"], "planned_hours": None})
    request.emit("psa.project.created", project)
    return created(project, f"/projects/{project_id}")


@operations("getProject")
def get_project(request: Request) -> Reply:
    """Read one project."""
    return ok(request.store.get("projects", request.path["project_id"]))


@operations("updateProject")
def update_project(request: Request) -> Reply:
    """Change the PSA-owned attributes of a project (the pipeline refuses the others with 403)."""
    project = request.store.get("projects", request.path["project_id"])
    request.check_if_match(project)
    changes = {name: request.body[name] for name in ("name", "description", "project_manager", "end_date")
               if name in request.body}
    if "end_date" in changes:
        check_date_order(day(project["start_date"]), day(changes["end_date"]), "start_date", "end_date")
    project = request.store.update("projects", project["id"], changes)
    request.emit("psa.project.updated", project)
    return ok(project)


def _transition(request: Request, action: str) -> Reply:
    allowed, target, date_field, verb = TRANSITIONS[action]
    project = request.store.get("projects", request.path["project_id"])
    request.check_if_match(project)
    if project["status"] not in allowed:
        raise invalid_transition("project", project["id"], project["status"], action)
    effective = request.body["effective_date"]
    if project["activated_on"] and effective < project["activated_on"]:
        raise business_error("invalid-date", "Date before activation",
                             f"effective_date {effective} is before the project's activation on "
                             f"{project['activated_on']}", field="effective_date")
    changes: dict[str, Any] = {"status": target, date_field: effective}
    if action == "cancel":
        changes["cancellation_reason"] = request.body["reason"]
    project = request.store.update("projects", project["id"], changes)
    request.emit(f"psa.project.{verb}", project)
    return ok(project)


@operations("activateProject")
def activate_project(request: Request) -> Reply:
    """Start delivery: PLANNED -> ACTIVE."""
    return _transition(request, "activate")


@operations("completeProject")
def complete_project(request: Request) -> Reply:
    """Finish delivery: ACTIVE -> COMPLETED."""
    return _transition(request, "complete")


@operations("cancelProject")
def cancel_project(request: Request) -> Reply:
    """Cancel: PLANNED or ACTIVE -> CANCELLED."""
    return _transition(request, "cancel")
