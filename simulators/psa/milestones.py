"""Billing milestones: completed by delivery, accepted by the customer where the contract says so."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import ApiProblem, business_error, invalid_transition
from simulators.common.store import Record
from simulators.psa.values import money

operations = Operations()
CLOSED = ("COMPLETED", "CANCELLED")


@operations("listProjectMilestones")
def list_project_milestones(request: Request) -> Reply:
    """List a project's milestones, optionally by status."""
    project = request.store.get("projects", request.path["project_id"])
    status = request.query.get("status")
    return request.page([milestone for milestone in request.store.where_equal("milestones", "project_id", project["id"])
                         if status is None or milestone["status"] == status])


@operations("createProjectMilestone")
def create_project_milestone(request: Request) -> Reply:
    """Add a PLANNED milestone in the project's currency."""
    project = request.store.get("projects", request.path["project_id"])
    body = request.body
    if project["status"] in CLOSED:
        raise business_error("project-closed", "Project closed",
                             f"project {project['id']} is {project['status']}", field="project_id")
    if body["currency"] != project["currency"]:
        raise business_error("currency-not-allowed", "Currency not allowed",
                             f"project {project['id']} is in {project['currency']}, not {body['currency']}",
                             field="currency")
    milestone = request.store.insert("milestones", {
        "project_id": project["id"], "name": body["name"], "amount": money(body["amount"]),
        "currency": body["currency"], "due_date": body["due_date"], "requires_acceptance": body["requires_acceptance"],
        "status": "PLANNED", "completed_on": None, "accepted_on": None, "accepted_by": None,
        "billable": False, "billable_on": None,
        **{name: body.get(name) for name in ("source_system", "source_id", "source_version")},
    })
    request.emit("psa.milestone.created", milestone)
    return created(milestone, f"/milestones/{milestone['id']}")


@operations("getMilestone")
def get_milestone(request: Request) -> Reply:
    """Read one milestone."""
    return ok(request.store.get("milestones", request.path["milestone_id"]))


def _milestone(request: Request) -> Record:
    milestone = request.store.get("milestones", request.path["milestone_id"])
    request.check_if_match(milestone)
    return milestone


@operations("completeMilestone")
def complete_milestone(request: Request) -> Reply:
    """Complete a milestone; without acceptance it becomes billable now."""
    milestone = _milestone(request)
    if milestone["status"] != "PLANNED":
        raise invalid_transition("milestone", milestone["id"], milestone["status"], "complete")
    project = request.store.get("projects", milestone["project_id"])
    if project["status"] != "ACTIVE":
        raise business_error("project-not-active", "Project not active",
                             f"project {project['id']} is {project['status']}", field="project_id")
    completed_on = request.body["completed_on"]
    billable = not milestone["requires_acceptance"]
    milestone = request.store.update("milestones", milestone["id"], {
        "status": "COMPLETED", "completed_on": completed_on,
        "billable": billable, "billable_on": completed_on if billable else None})
    request.emit("psa.milestone.completed", milestone)
    return ok(milestone)


@operations("acceptMilestone")
def accept_milestone(request: Request) -> Reply:
    """Record the customer's acceptance of a completed milestone that needs it; it becomes billable."""
    milestone = _milestone(request)
    if milestone["status"] == "COMPLETED" and not milestone["requires_acceptance"]:
        raise ApiProblem(409, "invalid-transition", "Transition not allowed",
                         f"milestone {milestone['id']} does not require customer acceptance",
                         current_status=milestone["status"])
    if milestone["status"] != "COMPLETED":
        raise invalid_transition("milestone", milestone["id"], milestone["status"], "accept")
    accepted_on = request.body["accepted_on"]
    if accepted_on < milestone["completed_on"]:
        raise business_error("invalid-date", "Accepted before completion",
                             f"accepted_on {accepted_on} is before completed_on {milestone['completed_on']}",
                             field="accepted_on")
    milestone = request.store.update("milestones", milestone["id"], {
        "status": "ACCEPTED", "accepted_on": accepted_on, "accepted_by": request.body["accepted_by"],
        "billable": True, "billable_on": accepted_on})
    request.emit("psa.milestone.accepted", milestone)
    return ok(milestone)
