"""Time entries: hours a resource worked on a project, valued at approval."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.store import Record, Store
from simulators.psa import lifecycle
from simulators.psa.lifecycle import EntryKind
from simulators.psa.rates import OVERRIDE, require_bill_rate, require_cost_rate
from simulators.psa.staffing import check_bookable
from simulators.psa.values import ZERO, cents, day, find_referenced, money

operations = Operations()
EDITABLE_FIELDS = ("task_id", "date", "hours", "billable", "notes")


def value_time(store: Store, entry: Record) -> Record:
    """Value an entry being approved: bill rate and amount, cost rate and amount on the entry's date."""
    project = store.get("projects", entry["project_id"])
    assignment = store.get("assignments", entry["assignment_id"])
    resource = store.get("resources", entry["resource_id"])
    on = day(entry["date"])
    if assignment["bill_rate_source"] == OVERRIDE:
        rate = assignment["bill_rate"]
    else:
        rate, _ = require_bill_rate(store, project, assignment["role"], on)
    cost_rate = require_cost_rate(resource, on)
    hours = Decimal(entry["hours"])
    return {
        "date": entry["date"], "hours": entry["hours"], "billable": entry["billable"], "currency": entry["currency"],
        "bill_rate": rate, "bill_amount": money(hours * Decimal(rate) if entry["billable"] else ZERO),
        "cost_rate": cost_rate["hourly_cost"], "cost_amount": money(hours * Decimal(cost_rate["hourly_cost"])),
        "cost_currency": cost_rate["currency"],
    }


def _cost(approval: Record) -> tuple[Decimal, str, str, Decimal]:
    return Decimal(approval["hours"]), "time", approval["cost_currency"], Decimal(approval["cost_amount"])


TIME = EntryKind(
    collection="time_entries", noun="time entry", event="psa.time_entry", path_id="time_entry_id",
    value=value_time, valued_fields=("bill_rate", "bill_amount", "cost_rate", "cost_amount", "cost_currency"),
    cost=_cost,
)
lifecycle.register(operations, TIME, "TimeEntry", "TimeEntries")


def new_time_entry(request: Request, resource: Record, project: Record, item: dict[str, Any]) -> Record:
    """Create a DRAFT time entry after the booking rules; emit `psa.time_entry.created`."""
    task_id = item.get("task_id")
    assignment = check_bookable(request.store, resource, project, day(item["date"]), task_id)
    entry = request.store.insert("time_entries", {
        "resource_id": resource["id"], "project_id": project["id"], "task_id": task_id,
        "assignment_id": assignment["id"], "role": assignment["role"], "date": item["date"],
        "hours": str(cents(item["hours"])), "billable": item.get("billable", True), "notes": item.get("notes"),
        "status": "DRAFT", "revision": 1, "currency": project["currency"],
        "bill_rate": None, "bill_amount": None, "cost_rate": None, "cost_amount": None, "cost_currency": None,
        "submitted_at": None, "approved_at": None, "return_reason": None, "reopen_reason": None, "approvals": [],
    })
    request.emit("psa.time_entry.created", entry)
    return entry


@operations("createTimeEntry")
def create_time_entry(request: Request) -> Reply:
    """Record hours worked as a DRAFT entry."""
    resource = find_referenced(request.store, "resources", request.body["resource_id"], "resource_id")
    project = find_referenced(request.store, "projects", request.body["project_id"], "project_id")
    entry = new_time_entry(request, resource, project, request.body)
    return created(entry, f"/time-entries/{entry['id']}")


@operations("updateTimeEntry")
def update_time_entry(request: Request) -> Reply:
    """Edit an editable time entry; the booking rules apply to the result."""
    entry = lifecycle.get_entry(request.store, TIME, request.path["time_entry_id"])
    request.check_if_match(entry)
    lifecycle.check_editable(TIME, entry, "edit")
    changes = {name: request.body[name] for name in EDITABLE_FIELDS if name in request.body}
    if "hours" in changes:
        changes["hours"] = str(cents(changes["hours"]))
    assignment = lifecycle.check_bookable_entry(request.store, {**entry, **changes})
    changes.update(assignment_id=assignment["id"], role=assignment["role"])
    updated = request.store.update("time_entries", entry["id"], changes)
    request.emit("psa.time_entry.updated", updated)
    return ok(updated)
