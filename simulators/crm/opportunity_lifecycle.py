"""The opportunity lifecycle: stage moves, SOW approval, close won or lost, and cancellation.

Stages only move forward (Prospecting → Qualification → Proposal → Negotiation), then close. A deal
closes won only with an approved SOW, whose submission freezes complete, consistent terms; closing
won makes those terms contract version 1.
"""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.clock import isoformat
from simulators.common.errors import ApiProblem
from simulators.common.store import Record
from simulators.crm.opportunities import (
    CANCELLED,
    LOST,
    OPEN,
    OPPORTUNITIES,
    WON,
    opportunity_to_change,
    transition_refused,
)
from simulators.crm.terms import OPEN_STAGES, PROBABILITY, SOW_STAGES, check_terms_complete

operations = Operations()


def _require_open(opportunity: Record, action: str) -> None:
    if opportunity["status"] != OPEN:
        raise transition_refused(opportunity, f"Cannot {action} opportunity {opportunity['id']}: it is already "
                                              f"closed ({opportunity['status']})")


def _require_sow(opportunity: Record, allowed: tuple[str, ...], action: str) -> None:
    if opportunity["sow_status"] not in allowed:
        raise transition_refused(opportunity, f"Cannot {action} of opportunity {opportunity['id']}: its SOW is "
                                              f"{opportunity['sow_status']}, not {' or '.join(allowed)}")


@operations("advanceOpportunityStage")
def advance_opportunity_stage(request: Request) -> Reply:
    """Move an open opportunity forward to a later open stage."""
    opportunity = opportunity_to_change(request)
    target = request.body["stage"]
    _require_open(opportunity, f"move to {target}")
    if OPEN_STAGES.index(target) <= OPEN_STAGES.index(opportunity["stage"]):
        raise transition_refused(opportunity, f"Opportunity {opportunity['id']} is at {opportunity['stage']}; "
                                              f"stages only move forward, not to {target}")
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"],
                                       {"stage": target, "probability": PROBABILITY[target]})
    request.emit("crm.opportunity.stage_changed", opportunity)
    return ok(opportunity)


@operations("submitOpportunitySow")
def submit_opportunity_sow(request: Request) -> Reply:
    """Submit the SOW for approval once the terms are complete; this freezes them."""
    opportunity = opportunity_to_change(request)
    _require_open(opportunity, "submit the SOW of")
    _require_sow(opportunity, ("NONE",), "submit the SOW")
    if opportunity["stage"] not in SOW_STAGES:
        raise transition_refused(opportunity, f"Cannot submit the SOW of opportunity {opportunity['id']} at "
                                              f"{opportunity['stage']}: a SOW follows a proposal "
                                              f"({' or '.join(SOW_STAGES)})")
    check_terms_complete(opportunity)
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {
        "sow_status": "PENDING", "sow_submitted_at": isoformat(request.now), "sow_rejection_reason": None})
    request.emit("crm.opportunity.sow_submitted", opportunity)
    return ok(opportunity)


@operations("approveOpportunitySow")
def approve_opportunity_sow(request: Request) -> Reply:
    """Approve a submitted SOW."""
    opportunity = opportunity_to_change(request)
    _require_open(opportunity, "approve the SOW of")
    _require_sow(opportunity, ("PENDING",), "approve the SOW")
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {
        "sow_status": "APPROVED", "sow_approved_at": isoformat(request.now)})
    request.emit("crm.opportunity.sow_approved", opportunity)
    return ok(opportunity)


@operations("rejectOpportunitySow")
def reject_opportunity_sow(request: Request) -> Reply:
    """Send a submitted or approved SOW back, unfreezing the terms."""
    opportunity = opportunity_to_change(request)
    _require_open(opportunity, "reject the SOW of")
    _require_sow(opportunity, ("PENDING", "APPROVED"), "reject the SOW")
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {
        "sow_status": "NONE", "sow_submitted_at": None, "sow_approved_at": None,
        "sow_rejection_reason": request.body["reason"]})
    request.emit("crm.opportunity.sow_rejected", opportunity)
    return ok(opportunity)


@operations("closeOpportunityWon")
def close_opportunity_won(request: Request) -> Reply:
    """Close an opportunity as won: its approved terms become contract version 1."""
    opportunity = opportunity_to_change(request)
    _require_open(opportunity, "close won")
    if opportunity["sow_status"] != "APPROVED":
        raise ApiProblem(409, "sow-not-approved", "SOW not approved",
                         f"Cannot close opportunity {opportunity['id']} as won: its SOW is "
                         f"{opportunity['sow_status']}, and a deal closes won only with an APPROVED SOW",
                         field="sow_status", current_status=opportunity["status"],
                         sow_status=opportunity["sow_status"])
    check_terms_complete(opportunity)
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {
        "stage": "CLOSED_WON", "status": WON, "probability": PROBABILITY["CLOSED_WON"],
        "close_date": request.today.isoformat(), "closed_at": isoformat(request.now),
        "contract_version": 1, "contract_amount": opportunity["amount"]})
    request.emit("crm.opportunity.closed_won", opportunity)
    return ok(opportunity)


@operations("closeOpportunityLost")
def close_opportunity_lost(request: Request) -> Reply:
    """Close an opportunity as lost, with the reason."""
    opportunity = opportunity_to_change(request)
    _require_open(opportunity, "close lost")
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {
        "stage": "CLOSED_LOST", "status": LOST, "probability": PROBABILITY["CLOSED_LOST"],
        "close_date": request.today.isoformat(), "closed_at": isoformat(request.now),
        "loss_reason": request.body["reason"], "loss_detail": request.body.get("detail")})
    request.emit("crm.opportunity.closed_lost", opportunity)
    return ok(opportunity)


@operations("cancelOpportunity")
def cancel_opportunity(request: Request) -> Reply:
    """Record that the customer cancelled a closed-won deal."""
    opportunity = opportunity_to_change(request)
    if opportunity["status"] != WON:
        raise transition_refused(opportunity, f"Cannot cancel opportunity {opportunity['id']}: only a closed-won "
                                              f"deal can be cancelled, and it is {opportunity['status']}")
    body = request.body
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {
        "status": CANCELLED,
        "cancellation": {"effective_date": body["effective_date"], "unbilled_rule": body["unbilled_rule"],
                         "reason": body.get("reason"), "cancelled_at": isoformat(request.now)}})
    request.emit("crm.opportunity.cancelled", opportunity)
    return ok(opportunity)
