"""Opportunities: deals and their terms, and the ERP/PSA write-back on won deals.

The lifecycle transitions (stages, SOW, close, cancel) live in `opportunity_lifecycle`.
"""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import ApiProblem
from simulators.common.store import Record
from simulators.crm.accounts import require_account
from simulators.crm.terms import PROBABILITY, TERM_FIELDS, canonical, check_terms_fit, normalize_terms

operations = Operations()

OPPORTUNITIES = "opportunities"
OPEN, WON, LOST, CANCELLED = "OPEN", "WON", "LOST", "CANCELLED"
DESCRIPTIVE_FIELDS = ("name", "description", "close_date")
FILTERS = ("account_id", "stage", "status", "billing_model", "legal_entity")


def blank_opportunity() -> dict[str, Any]:
    """Return every attribute of a new opportunity at its empty value."""
    return {
        "description": None, "amount": None, "billing_model": None, "legal_entity": None, "practice": None,
        "service_start": None, "service_end": None, "estimated_hours": None, "billing_milestones": [],
        "monthly_fee": None, "cap_amount": None, "rate_card": [],
        "sow_status": "NONE", "sow_submitted_at": None, "sow_approved_at": None, "sow_rejection_reason": None,
        "contract_version": None, "contract_amount": None, "closed_at": None, "loss_reason": None,
        "loss_detail": None, "cancellation": None,
        "erp_contract_id": None, "psa_project_id": None, "billing_status": None,
    }


def opportunity_to_change(request: Request) -> Record:
    """Return the opportunity the path names, after checking the caller's If-Match."""
    opportunity = request.store.get(OPPORTUNITIES, request.path["opportunity_id"])
    request.check_if_match(opportunity)
    return opportunity


def conflict(detail: str, **extra: Any) -> ApiProblem:
    """Refuse a change that the record's current state does not allow."""
    return ApiProblem(409, "conflict", "Conflict with the record's state", detail, **extra)


def transition_refused(opportunity: Record, detail: str) -> ApiProblem:
    """Refuse a lifecycle transition from the opportunity's current state."""
    return ApiProblem(409, "invalid-transition", "Transition not allowed", detail,
                      current_status=opportunity["status"], current_stage=opportunity["stage"],
                      sow_status=opportunity["sow_status"])


@operations("listOpportunities")
def list_opportunities(request: Request) -> Reply:
    """Return a page of opportunities, filtered."""
    wanted = {name: request.query[name] for name in FILTERS if request.query.get(name) is not None}
    return request.page(request.store.where(
        OPPORTUNITIES, lambda record: all(record.get(name) == value for name, value in wanted.items())))


@operations("createOpportunity")
def create_opportunity(request: Request) -> Reply:
    """Create an opportunity in an open stage for an existing account."""
    body = request.body
    require_account(request.store, body["account_id"])
    stage = body.get("stage", "PROSPECTING")
    fields = {
        "account_id": body["account_id"], "name": body["name"], **blank_opportunity(),
        "description": body.get("description"), "stage": stage, "status": OPEN,
        "probability": PROBABILITY[stage], "close_date": body["close_date"], **normalize_terms(body),
    }
    check_terms_fit(fields)
    opportunity = request.store.insert(OPPORTUNITIES, fields)
    request.emit("crm.opportunity.created", opportunity)
    return created(opportunity, f"/opportunities/{opportunity['id']}")


@operations("getOpportunity")
def get_opportunity(request: Request) -> Reply:
    """Return one opportunity."""
    return ok(request.store.get(OPPORTUNITIES, request.path["opportunity_id"]))


@operations("updateOpportunity")
def update_opportunity(request: Request) -> Reply:
    """Change an open opportunity; terms are frozen while a SOW is submitted or approved."""
    opportunity = opportunity_to_change(request)
    if opportunity["status"] != OPEN:
        raise conflict(f"Opportunity {opportunity['id']} is {opportunity['status']}; a closed deal changes only "
                       f"through amendments", current_status=opportunity["status"])
    proposed = {name: request.body[name] for name in DESCRIPTIVE_FIELDS if name in request.body}
    proposed.update(normalize_terms(request.body))
    changes = {name: value for name, value in proposed.items() if opportunity.get(name) != value}
    if not changes:
        return ok(opportunity)
    frozen = [name for name in TERM_FIELDS if name in changes]
    if frozen and opportunity["sow_status"] != "NONE":
        raise conflict(f"The SOW of opportunity {opportunity['id']} is {opportunity['sow_status']}; its terms "
                       f"({', '.join(frozen)}) are frozen until the SOW is rejected", field=frozen[0],
                       sow_status=opportunity["sow_status"])
    check_terms_fit({**opportunity, **changes})
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], changes)
    request.emit("crm.opportunity.updated", opportunity)
    return ok(opportunity)


def _require_won(opportunity: Record, action: str) -> None:
    if opportunity["status"] not in (WON, CANCELLED):
        raise transition_refused(opportunity, f"Cannot {action} opportunity {opportunity['id']}: it is "
                                              f"{opportunity['status']}, not closed won")


@operations("setOpportunityDeliveryLink")
def set_opportunity_delivery_link(request: Request) -> Reply:
    """Record the ERP contract and PSA project delivering a won deal (sync endpoint)."""
    opportunity = opportunity_to_change(request)
    _require_won(opportunity, "link delivery to")
    changes = {name: value for name, value in request.body.items() if opportunity.get(name) != value}
    if not changes:
        return ok(opportunity)
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], changes)
    request.emit("crm.opportunity.delivery_linked", opportunity)
    return ok(opportunity)


@operations("setOpportunityBillingStatus")
def set_opportunity_billing_status(request: Request) -> Reply:
    """Record what the ERP has invoiced, credited and collected on a won deal (sync endpoint)."""
    opportunity = opportunity_to_change(request)
    _require_won(opportunity, "record billing on")
    reported = request.body["billing_status"]
    status: dict[str, Any] = {name: canonical(reported[name])
                              for name in ("invoiced_amount", "credited_amount", "paid_amount")}
    status["currency"] = reported["currency"]
    if "as_of" in reported:
        status["as_of"] = reported["as_of"]
    if opportunity.get("billing_status") == status:
        return ok(opportunity)
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], {"billing_status": status})
    request.emit("crm.opportunity.billing_status_changed", opportunity)
    return ok(opportunity)
