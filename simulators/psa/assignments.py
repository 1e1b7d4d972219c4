"""Assignments: a resource staffed on a project in a role, for dates, at a bill rate."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import business_error
from simulators.common.store import Record
from simulators.psa.rates import OVERRIDE, require_bill_rate
from simulators.psa.values import check_date_order, day, find_referenced, money

operations = Operations()


def _check_within_project(project: Record, start_date: str, end_date: str) -> None:
    check_date_order(day(start_date), day(end_date), "start_date", "end_date")
    if start_date < project["start_date"] or end_date > project["end_date"]:
        raise business_error("invalid-dates", "Assignment outside the project",
                             f"{start_date} to {end_date} is not inside project {project['id']}'s "
                             f"{project['start_date']} to {project['end_date']}", field="start_date")


@operations("listAssignments")
def list_assignments(request: Request) -> Reply:
    """List assignments of a project or a resource."""
    filters = {name: request.query[name] for name in ("project_id", "resource_id") if name in request.query}
    indexed = next(iter(filters), None)  # narrow through the index of the first filter, then apply them all
    candidates = request.store.all("assignments") if indexed is None else request.store.where_equal(
        "assignments", indexed, filters[indexed])
    return request.page([assignment for assignment in candidates
                         if all(assignment[name] == value for name, value in filters.items())])


@operations("createAssignment")
def create_assignment(request: Request) -> Reply:
    """Staff a resource on a project at the override, project or default bill rate."""
    store = request.store
    body = request.body
    project = find_referenced(store, "projects", body["project_id"], "project_id")
    resource = find_referenced(store, "resources", body["resource_id"], "resource_id")
    if project["status"] in ("COMPLETED", "CANCELLED"):
        raise business_error("project-closed", "Project closed",
                             f"project {project['id']} is {project['status']}", field="project_id")
    if not resource["active"]:
        raise business_error("resource-inactive", "Resource inactive",
                             f"resource {resource['id']} is inactive in HCM", field="resource_id")
    _check_within_project(project, body["start_date"], body["end_date"])
    role = body.get("role", resource["role"])
    if "bill_rate" in body:
        rate, source = money(body["bill_rate"]), OVERRIDE
    else:
        rate, source = require_bill_rate(store, project, role, day(body["start_date"]))
    assignment = store.insert("assignments", {
        "project_id": project["id"], "resource_id": resource["id"], "role": role,
        "start_date": body["start_date"], "end_date": body["end_date"],
        "hours_per_week": money(body["hours_per_week"]), "bill_rate": rate, "currency": project["currency"],
        "bill_rate_source": source})
    request.emit("psa.assignment.created", assignment)
    return created(assignment, f"/assignments/{assignment['id']}")


@operations("getAssignment")
def get_assignment(request: Request) -> Reply:
    """Read one assignment."""
    return ok(request.store.get("assignments", request.path["assignment_id"]))


@operations("updateAssignment")
def update_assignment(request: Request) -> Reply:
    """Change an assignment's end date or weekly hours."""
    assignment = request.store.get("assignments", request.path["assignment_id"])
    request.check_if_match(assignment)
    changes = {}
    if "end_date" in request.body:
        project = request.store.get("projects", assignment["project_id"])
        _check_within_project(project, assignment["start_date"], request.body["end_date"])
        changes["end_date"] = request.body["end_date"]
    if "hours_per_week" in request.body:
        changes["hours_per_week"] = money(request.body["hours_per_week"])
    assignment = request.store.update("assignments", assignment["id"], changes)
    request.emit("psa.assignment.updated", assignment)
    return ok(assignment)
