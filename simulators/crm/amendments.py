"""Contract amendments (change orders) on closed-won opportunities: DRAFT → SUBMITTED → APPROVED | REJECTED.

Approving an amendment makes it the opportunity's next contract version and applies its change to the
opportunity's terms. An approved amendment never changes again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.clock import isoformat
from simulators.common.errors import ApiProblem, business_error, invalid_transition
from simulators.common.store import Record, Store
from simulators.crm.opportunities import OPPORTUNITIES, WON, conflict
from simulators.crm.terms import (
    CAPPED_TM,
    FIXED_FEE,
    MAX_AMOUNT,
    RETAINER,
    canonical,
    check_service_period,
    decimal,
    decimal_text,
    inconsistent,
    normalize_milestones,
    optional_decimal,
    parse_date,
    total,
)

operations = Operations()

AMENDMENTS = "amendments"
CHANGE_FIELDS = ("description", "amount_change", "hours_change", "distinct", "priced_at_standalone",
                 "effective_date", "billing_milestones", "new_service_end", "new_monthly_fee")


def _change(body: dict[str, Any]) -> dict[str, Any]:
    """Return the change fields of a request body, normalised."""
    change: dict[str, Any] = {name: body[name] for name in CHANGE_FIELDS if name in body}
    if "amount_change" in change:
        change["amount_change"] = canonical(change["amount_change"])
    if "hours_change" in change:
        change["hours_change"] = canonical(change["hours_change"])
    if "billing_milestones" in change:
        change["billing_milestones"] = normalize_milestones(change["billing_milestones"])
    if "new_monthly_fee" in change:
        change["new_monthly_fee"] = optional_decimal(change["new_monthly_fee"])
    return change


def _won_opportunity(store: Store, opportunity_id: str, action: str) -> Record:
    opportunity = store.find(OPPORTUNITIES, opportunity_id)
    if opportunity is None:
        raise business_error("unknown-opportunity", "Unknown opportunity",
                             f"No opportunity with id {opportunity_id!r}", field="opportunity_id")
    if opportunity["status"] != WON:
        raise conflict(f"Cannot {action}: opportunity {opportunity_id} is {opportunity['status']}, and change "
                       f"orders apply only to closed-won deals", field="opportunity_id",
                       opportunity_status=opportunity["status"])
    return opportunity


def _invalid(field: str, message: str) -> ApiProblem:
    return business_error("invalid-amendment", "Invalid amendment", message, field=field,
                          errors=[{"field": field, "message": message}])


def contract_changes(opportunity: Record, amendment: Record) -> dict[str, Any]:
    """Return what approving the amendment changes on the opportunity, or refuse it with 422."""
    model = opportunity.get("billing_model")
    milestones = amendment["billing_milestones"]
    if milestones and model != FIXED_FEE:
        raise inconsistent("billing_milestones", f"billing milestones apply only to FIXED_FEE deals, not {model}")
    if milestones and total(m["amount"] for m in milestones) != decimal(amendment["amount_change"]):
        raise inconsistent("billing_milestones", f"the new milestones add up to "
                                                 f"{decimal_text(total(m['amount'] for m in milestones))}, "
                                                 f"not the amount change {amendment['amount_change']}")
    if amendment["new_monthly_fee"] is not None and model != RETAINER:
        raise inconsistent("new_monthly_fee", f"a monthly fee applies only to RETAINER deals, not {model}")
    parse_date(amendment["effective_date"], "effective_date")
    if amendment["new_service_end"] is not None:
        check_service_period(opportunity.get("service_start"), amendment["new_service_end"], "new_service_end")
    current_amount = decimal(opportunity.get("contract_amount") or opportunity.get("amount") or "0")
    new_amount = current_amount + decimal(amendment["amount_change"])
    if not Decimal(0) <= new_amount <= MAX_AMOUNT:
        raise _invalid("amount_change", f"the contract amount would become {decimal_text(new_amount)} "
                                        f"(from {decimal_text(current_amount)})")
    new_hours = decimal(opportunity.get("estimated_hours") or "0") + decimal(amendment["hours_change"])
    if new_hours < 0:
        raise _invalid("hours_change", f"the estimated hours would become {decimal_text(new_hours)}")
    changes: dict[str, Any] = {
        "contract_version": (opportunity.get("contract_version") or 1) + 1,
        "contract_amount": decimal_text(new_amount),
        "estimated_hours": decimal_text(new_hours),
    }
    if milestones:
        changes["billing_milestones"] = [*opportunity.get("billing_milestones", []), *milestones]
    if amendment["new_service_end"] is not None:
        changes["service_end"] = amendment["new_service_end"]
    if amendment["new_monthly_fee"] is not None:
        changes["monthly_fee"] = amendment["new_monthly_fee"]
    if model == CAPPED_TM and opportunity.get("cap_amount") is not None:
        new_cap = decimal(opportunity["cap_amount"]) + decimal(amendment["amount_change"])
        if not Decimal(0) <= new_cap <= MAX_AMOUNT:
            raise _invalid("amount_change", f"the cap would become {decimal_text(new_cap)}")
        changes["cap_amount"] = decimal_text(new_cap)
    return changes


@operations("listAmendments")
def list_amendments(request: Request) -> Reply:
    """Return a page of amendments, filtered by opportunity and status."""
    opportunity_id, status = request.query.get("opportunity_id"), request.query.get("status")
    return request.page(request.store.where(AMENDMENTS, lambda amendment: (
        (opportunity_id is None or amendment.get("opportunity_id") == opportunity_id)
        and (status is None or amendment.get("status") == status))))


@operations("createAmendment")
def create_amendment(request: Request) -> Reply:
    """Draft a change order on a closed-won opportunity."""
    opportunity = _won_opportunity(request.store, request.body["opportunity_id"], "draft an amendment")
    fields: dict[str, Any] = {"hours_change": "0.00", "billing_milestones": [], "new_service_end": None,
                              "new_monthly_fee": None, **_change(request.body)}
    contract_changes(opportunity, fields)
    number = 1 + len(request.store.where(AMENDMENTS, lambda a: a.get("opportunity_id") == opportunity["id"]))
    amendment = request.store.insert(AMENDMENTS, {
        "opportunity_id": opportunity["id"], "amendment_number": number, "status": "DRAFT",
        "currency": opportunity["currency"], **fields, "contract_version": None, "contract_amount": None,
        "submitted_at": None, "decided_at": None, "rejection_reason": None})
    request.emit("crm.amendment.created", amendment)
    return created(amendment, f"/amendments/{amendment['id']}")


@operations("getAmendment")
def get_amendment(request: Request) -> Reply:
    """Return one amendment."""
    return ok(request.store.get(AMENDMENTS, request.path["amendment_id"]))


def _amendment_to_change(request: Request, allowed: str, action: str) -> Record:
    amendment = request.store.get(AMENDMENTS, request.path["amendment_id"])
    request.check_if_match(amendment)
    if amendment["status"] != allowed:
        raise invalid_transition("amendment", amendment["id"], amendment["status"], action)
    return amendment


@operations("updateAmendment")
def update_amendment(request: Request) -> Reply:
    """Change a DRAFT amendment."""
    amendment = _amendment_to_change(request, "DRAFT", "change")
    changes = {name: value for name, value in _change(request.body).items() if amendment.get(name) != value}
    if not changes:
        return ok(amendment)
    opportunity = _won_opportunity(request.store, amendment["opportunity_id"], f"change {amendment['id']}")
    contract_changes(opportunity, {**amendment, **changes})
    amendment = request.store.update(AMENDMENTS, amendment["id"], changes)
    request.emit("crm.amendment.updated", amendment)
    return ok(amendment)


@operations("submitAmendment")
def submit_amendment(request: Request) -> Reply:
    """Submit a DRAFT amendment for approval."""
    amendment = _amendment_to_change(request, "DRAFT", "submit")
    opportunity = _won_opportunity(request.store, amendment["opportunity_id"], f"submit {amendment['id']}")
    contract_changes(opportunity, amendment)
    amendment = request.store.update(AMENDMENTS, amendment["id"],
                                     {"status": "SUBMITTED", "submitted_at": isoformat(request.now)})
    request.emit("crm.amendment.submitted", amendment)
    return ok(amendment)


@operations("approveAmendment")
def approve_amendment(request: Request) -> Reply:
    """Approve a SUBMITTED amendment: it becomes the opportunity's next contract version."""
    amendment = _amendment_to_change(request, "SUBMITTED", "approve")
    opportunity = _won_opportunity(request.store, amendment["opportunity_id"], f"approve {amendment['id']}")
    changes = contract_changes(opportunity, amendment)
    amendment = request.store.update(AMENDMENTS, amendment["id"], {
        "status": "APPROVED", "decided_at": isoformat(request.now),
        "contract_version": changes["contract_version"], "contract_amount": changes["contract_amount"]})
    opportunity = request.store.update(OPPORTUNITIES, opportunity["id"], changes)
    request.emit("crm.amendment.approved", amendment)
    request.emit("crm.opportunity.updated", opportunity)
    return ok(amendment)


@operations("rejectAmendment")
def reject_amendment(request: Request) -> Reply:
    """Reject a SUBMITTED amendment."""
    amendment = _amendment_to_change(request, "SUBMITTED", "reject")
    amendment = request.store.update(AMENDMENTS, amendment["id"], {
        "status": "REJECTED", "decided_at": isoformat(request.now), "rejection_reason": request.body["reason"]})
    request.emit("crm.amendment.rejected", amendment)
    return ok(amendment)
