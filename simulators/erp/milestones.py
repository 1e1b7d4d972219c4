"""Billing-plan milestone events from PSA: completion and customer acceptance."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.errors import ApiProblem, invalid_transition, not_found
from simulators.common.store import Record
from simulators.erp.money import parse_date
from simulators.erp.records import milestone_record, source_ref

operations = Operations()


def _milestone(request: Request) -> tuple[Record, dict[str, Any]]:
    contract = request.store.get("contracts", request.path["contract_id"])
    request.check_if_match(contract)
    milestone_id = request.path["milestone_id"]
    for milestone in contract["billing_plan"]["milestones"]:
        if milestone["id"] == milestone_id:
            return contract, milestone
    raise not_found("milestone", f"{contract['id']}/{milestone_id}")


def _change(request: Request, contract: Record, milestone: dict[str, Any], changes: dict[str, Any],
            event_type: str) -> Reply:
    changed = {**milestone, **changes}
    milestones = [changed if item["id"] == milestone["id"] else item for item in contract["billing_plan"]["milestones"]]
    contract = request.store.update("contracts", contract["id"],
                                    {"billing_plan": {**contract["billing_plan"], "milestones": milestones}})
    record = milestone_record(contract, changed)
    request.emit(event_type, record, subject=contract["id"])
    return ok(record)


@operations("completeMilestone")
def complete_milestone(request: Request) -> Reply:
    """Mark a planned milestone completed."""
    contract, milestone = _milestone(request)
    parse_date(request.body["date"], "body/date")
    if contract["status"] != "ACTIVE" or milestone["status"] != "PLANNED":
        raise invalid_transition("milestone", milestone["id"], milestone["status"], "complete")
    refs = {name: value for name, value in source_ref(request.body).items() if value is not None}
    return _change(request, contract, milestone, {"status": "COMPLETED", "completed_on": request.body["date"], **refs},
                   "erp.milestone.completed")


@operations("acceptMilestone")
def accept_milestone(request: Request) -> Reply:
    """Record the customer's acceptance of a completed milestone that needs it."""
    contract, milestone = _milestone(request)
    parse_date(request.body["date"], "body/date")
    if milestone["status"] != "COMPLETED":
        raise invalid_transition("milestone", milestone["id"], milestone["status"], "accept")
    if not milestone["requires_acceptance"]:
        raise ApiProblem(409, "invalid-transition", "Transition not allowed",
                         f"Milestone {milestone['id']} does not require acceptance; it is billable once completed",
                         current_status=milestone["status"])
    refs = {name: value for name, value in source_ref(request.body).items() if value is not None}
    return _change(request, contract, milestone, {"status": "ACCEPTED", "accepted_on": request.body["date"], **refs},
                   "erp.milestone.accepted")
