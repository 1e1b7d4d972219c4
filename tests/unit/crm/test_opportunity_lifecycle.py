"""The opportunity lifecycle: every transition, from the states that allow it and those that do not."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from simulators.common.clock import ManualClock
from tests.unit.crm.builders import (
    TM_DEAL,
    Api,
    approved_opportunity,
    body_of,
    new_account,
    new_opportunity,
    problem_type,
    won_opportunity,
)

CANCEL = {"effective_date": "2026-08-31", "unbilled_rule": "BILL", "reason": "Customer budget freeze"}


def act(api: Api, opportunity: dict[str, Any], action: str, body: Any = None) -> TestResponse:
    """Run a lifecycle action on an opportunity."""
    return api.post(f"/opportunities/{opportunity['id']}/{action}", body)


def refused(response: TestResponse, slug: str = "invalid-transition") -> bool:
    """Tell whether a transition was refused with 409 and the given problem type."""
    return response.status_code == 409 and problem_type(response) == slug


def lost_opportunity(api: Api) -> dict[str, Any]:
    """Create an opportunity closed as lost."""
    return body_of(act(api, new_opportunity(api), "close-lost", {"reason": "PRICE"}), 200)


def cancelled_opportunity(api: Api) -> dict[str, Any]:
    """Create a closed-won opportunity the customer cancelled."""
    return body_of(act(api, won_opportunity(api), "cancel", CANCEL), 200)


def test_stage_advances_one_step_with_its_probability_and_event(api: Api) -> None:
    opportunity = body_of(act(api, new_opportunity(api), "advance", {"stage": "QUALIFICATION"}), 200)
    assert (opportunity["stage"], opportunity["probability"], opportunity["version"]) == ("QUALIFICATION", 20, 2)
    stage_changes = api.events("crm.opportunity.stage_changed")
    assert [e["data"]["stage"] for e in stage_changes] == ["QUALIFICATION"]


def test_stage_may_skip_ahead_to_any_later_open_stage(api: Api) -> None:
    opportunity = body_of(act(api, new_opportunity(api), "advance", {"stage": "NEGOTIATION"}), 200)
    assert (opportunity["stage"], opportunity["probability"]) == ("NEGOTIATION", 75)


@pytest.mark.parametrize("target", ["PROSPECTING", "QUALIFICATION", "PROPOSAL"])
def test_stage_never_moves_back_or_sideways(api: Api, target: str) -> None:
    opportunity = new_opportunity(api, stage="PROPOSAL")
    response = act(api, opportunity, "advance", {"stage": target})
    assert refused(response)
    assert response.json["current_stage"] == "PROPOSAL"  # type: ignore[index]


def test_stage_cannot_be_advanced_to_a_closed_stage(api: Api) -> None:
    response = act(api, new_opportunity(api), "advance", {"stage": "CLOSED_WON"})
    assert response.status_code == 400


@pytest.mark.parametrize("closed", [won_opportunity, lost_opportunity, cancelled_opportunity])
@pytest.mark.parametrize(("action", "body"), [
    ("advance", {"stage": "NEGOTIATION"}),
    ("submit-sow", None),
    ("approve-sow", None),
    ("reject-sow", {"reason": "Too late"}),
    ("close-won", None),
    ("close-lost", {"reason": "TIMING"}),
])
def test_closed_opportunity_refuses_every_pipeline_transition(api: Api, closed: Any, action: str, body: Any) -> None:
    opportunity = closed(api)
    response = act(api, opportunity, action, body)
    assert refused(response), response.json
    assert body_of(api.get(f"/opportunities/{opportunity['id']}"), 200)["version"] == opportunity["version"]


def test_sow_is_submitted_approved_and_stamped(api: Api, clock: ManualClock) -> None:
    opportunity = new_opportunity(api, stage="NEGOTIATION")
    submitted = body_of(act(api, opportunity, "submit-sow"), 200)
    assert (submitted["sow_status"], submitted["sow_submitted_at"]) == ("PENDING", "2026-03-02T09:00:00Z")
    clock.advance(3600)
    approved = body_of(act(api, opportunity, "approve-sow"), 200)
    assert (approved["sow_status"], approved["sow_approved_at"]) == ("APPROVED", "2026-03-02T10:00:00Z")
    assert api.event_types("crm.opportunity.sow") == ["crm.opportunity.sow_submitted", "crm.opportunity.sow_approved"]


@pytest.mark.parametrize("stage", ["PROSPECTING", "QUALIFICATION"])
def test_sow_cannot_be_submitted_before_a_proposal(api: Api, stage: str) -> None:
    assert refused(act(api, new_opportunity(api, stage=stage), "submit-sow"))


def test_sow_cannot_be_submitted_twice_or_approved_before_submission(api: Api) -> None:
    opportunity = new_opportunity(api, stage="PROPOSAL")
    assert refused(act(api, opportunity, "approve-sow"))
    assert refused(act(api, opportunity, "reject-sow", {"reason": "Nothing to reject"}))
    body_of(act(api, opportunity, "submit-sow"), 200)
    assert refused(act(api, opportunity, "submit-sow"))
    body_of(act(api, opportunity, "approve-sow"), 200)
    assert refused(act(api, opportunity, "approve-sow"))


def test_sow_with_incomplete_terms_is_refused_listing_what_is_missing(api: Api) -> None:
    account = new_account(api)
    opportunity = body_of(api.post("/opportunities", {
        "account_id": account["id"], "name": "Northwind — discovery", "currency": "EUR",
        "close_date": "2026-04-30", "stage": "PROPOSAL", "billing_model": "CAPPED_TM", "amount": "50000"}), 201)
    response = act(api, opportunity, "submit-sow")
    assert response.status_code == 422 and problem_type(response) == "incomplete-deal-terms"
    missing = [error["field"] for error in response.json["errors"]]  # type: ignore[index]
    assert missing == ["legal_entity", "practice", "service_start", "service_end", "estimated_hours", "cap_amount",
                       "rate_card"]


def test_sow_whose_milestones_miss_the_amount_is_refused(api: Api) -> None:
    opportunity = new_opportunity(api, stage="PROPOSAL", amount="250000.00")
    response = act(api, opportunity, "submit-sow")
    assert response.status_code == 422 and problem_type(response) == "inconsistent-deal-terms"
    assert "240000.00" in response.json["detail"]  # type: ignore[index]


def test_rejected_sow_unfreezes_the_terms_for_a_new_submission(api: Api) -> None:
    opportunity = approved_opportunity(api)
    rejected = body_of(act(api, opportunity, "reject-sow", {"reason": "Liability cap missing"}), 200)
    assert (rejected["sow_status"], rejected["sow_rejection_reason"]) == ("NONE", "Liability cap missing")
    path = f"/opportunities/{opportunity['id']}"
    body_of(api.patch(path, {"amount": "250000.00", "billing_milestones": [
        {"name": "All done", "amount": "250000", "due_date": "2026-10-30", "requires_acceptance": True}]}), 200)
    resubmitted = body_of(act(api, opportunity, "submit-sow"), 200)
    assert (resubmitted["sow_status"], resubmitted["sow_rejection_reason"]) == ("PENDING", None)
    assert "crm.opportunity.sow_rejected" in api.event_types()


@pytest.mark.parametrize("sow_steps", [(), ("submit-sow",)])
def test_close_won_without_an_approved_sow_is_refused_naming_the_reason(api: Api, sow_steps: tuple[str, ...]) -> None:
    opportunity = new_opportunity(api, stage="NEGOTIATION")
    for step in sow_steps:
        body_of(act(api, opportunity, step), 200)
    response = act(api, opportunity, "close-won")
    assert refused(response, "sow-not-approved")
    assert "SOW" in response.json["detail"]  # type: ignore[index]
    assert response.json["sow_status"] == ("PENDING" if sow_steps else "NONE")  # type: ignore[index]


def test_close_won_makes_the_terms_contract_version_one(api: Api, clock: ManualClock) -> None:
    opportunity = approved_opportunity(api)
    clock.advance(86400 * 3)
    won = body_of(act(api, opportunity, "close-won"), 200)
    assert (won["stage"], won["status"], won["probability"]) == ("CLOSED_WON", "WON", 100)
    assert (won["contract_version"], won["contract_amount"]) == (1, "240000.00")
    assert (won["close_date"], won["closed_at"]) == ("2026-03-05", "2026-03-05T09:00:00Z")
    closed_won = api.events("crm.opportunity.closed_won")
    assert [(e["subject"], e["data"]) for e in closed_won] == [(won["id"], won)]


def test_time_and_materials_deal_closes_won_with_its_rate_card(api: Api) -> None:
    account = new_account(api, name="Contoso Inc.", country="US", currency="USD", us_state="WA")
    opportunity = body_of(api.post("/opportunities", {**TM_DEAL, "account_id": account["id"],
                                                      "stage": "PROPOSAL"}), 201)
    body_of(act(api, opportunity, "submit-sow"), 200)
    body_of(act(api, opportunity, "approve-sow"), 200)
    won = body_of(act(api, opportunity, "close-won"), 200)
    assert won["rate_card"] == TM_DEAL["rate_card"] and won["contract_amount"] == "90000.00"


def test_close_lost_records_the_reason(api: Api) -> None:
    lost = body_of(act(api, new_opportunity(api, stage="PROPOSAL"), "close-lost",
                       {"reason": "COMPETITOR", "detail": "Incumbent SI matched on price"}), 200)
    assert (lost["stage"], lost["status"], lost["probability"]) == ("CLOSED_LOST", "LOST", 0)
    assert (lost["loss_reason"], lost["loss_detail"]) == ("COMPETITOR", "Incumbent SI matched on price")
    assert api.event_types("crm.opportunity.closed_lost") == ["crm.opportunity.closed_lost"]


def test_close_lost_needs_a_known_reason(api: Api) -> None:
    response = act(api, new_opportunity(api), "close-lost", {"reason": "BAD_LUCK"})
    assert response.status_code == 400


def test_customer_cancels_a_won_deal_with_an_unbilled_rule(api: Api) -> None:
    won = won_opportunity(api)
    cancelled = body_of(act(api, won, "cancel", {"effective_date": "2026-08-31", "unbilled_rule": "WRITE_OFF"}), 200)
    assert (cancelled["status"], cancelled["stage"]) == ("CANCELLED", "CLOSED_WON")
    assert cancelled["cancellation"] == {"effective_date": "2026-08-31", "unbilled_rule": "WRITE_OFF",
                                         "reason": None, "cancelled_at": "2026-03-02T09:00:00Z"}
    assert [e["data"] for e in api.events("crm.opportunity.cancelled")] == [cancelled]


@pytest.mark.parametrize("not_won", [new_opportunity, approved_opportunity, lost_opportunity, cancelled_opportunity])
def test_only_a_won_deal_can_be_cancelled(api: Api, not_won: Any) -> None:
    assert refused(act(api, not_won(api), "cancel", CANCEL))


def test_transition_with_a_stale_etag_is_refused_and_changes_nothing(api: Api) -> None:
    opportunity = new_opportunity(api)
    path = f"/opportunities/{opportunity['id']}"
    body_of(api.post(f"{path}/advance", {"stage": "QUALIFICATION"}, {"If-Match": '"1"'}), 200)
    response = api.post(f"{path}/advance", {"stage": "PROPOSAL"}, {"If-Match": '"1"'})
    assert response.status_code == 412 and problem_type(response) == "precondition-failed"
    assert body_of(api.get(path), 200)["stage"] == "QUALIFICATION"


def test_replayed_transition_returns_the_first_answer_without_a_second_event(api: Api) -> None:
    opportunity = approved_opportunity(api)
    key = {"Idempotency-Key": f"close-{opportunity['id']}"}
    first = api.post(f"/opportunities/{opportunity['id']}/close-won", None, key)
    again = api.post(f"/opportunities/{opportunity['id']}/close-won", None, key)
    assert (first.status_code, again.status_code) == (200, 200) and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.event_types("crm.opportunity.closed_won") == ["crm.opportunity.closed_won"]


def test_unknown_opportunity_transition_is_not_found(api: Api) -> None:
    assert api.post("/opportunities/OPP-000404/close-won").status_code == 404
