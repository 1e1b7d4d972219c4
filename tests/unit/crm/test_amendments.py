"""Contract amendments (change orders): versioned, approval required, applied to the won deal."""

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

SECOND_SITE: dict[str, Any] = {
    "description": "Add a second warehouse site to the analytics rollout",
    "amount_change": "40000",
    "hours_change": "240",
    "distinct": False,
    "priced_at_standalone": False,
    "effective_date": "2026-07-01",
    "billing_milestones": [
        {"name": "Second site live", "amount": "40000.00", "due_date": "2026-10-16", "requires_acceptance": True}],
}


def draft(api: Api, opportunity: dict[str, Any], **overrides: Any) -> TestResponse:
    """Draft an amendment on an opportunity."""
    return api.post("/amendments", {**SECOND_SITE, "opportunity_id": opportunity["id"], **overrides})


def act(api: Api, amendment: dict[str, Any], action: str, body: Any = None) -> TestResponse:
    """Run a lifecycle action on an amendment."""
    return api.post(f"/amendments/{amendment['id']}/{action}", body)


def approved(api: Api, opportunity: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Draft, submit and approve an amendment."""
    amendment = body_of(draft(api, opportunity, **overrides), 201)
    body_of(act(api, amendment, "submit"), 200)
    return body_of(act(api, amendment, "approve"), 200)


def test_drafted_amendment_is_numbered_and_carries_the_deal_currency(api: Api) -> None:
    opportunity = won_opportunity(api)
    response = draft(api, opportunity)
    amendment = body_of(response, 201)
    assert response.headers["Location"] == f"/amendments/{amendment['id']}"
    assert (amendment["status"], amendment["amendment_number"], amendment["currency"]) == ("DRAFT", 1, "EUR")
    assert (amendment["amount_change"], amendment["hours_change"]) == ("40000.00", "240.00")
    assert (amendment["contract_version"], amendment["contract_amount"]) == (None, None)
    assert body_of(draft(api, opportunity), 201)["amendment_number"] == 2
    assert api.event_types("crm.amendment.") == ["crm.amendment.created", "crm.amendment.created"]


@pytest.mark.parametrize("not_won", [new_opportunity, approved_opportunity])
def test_amendment_on_a_deal_not_won_is_refused(api: Api, not_won: Any) -> None:
    response = draft(api, not_won(api))
    assert response.status_code == 409 and problem_type(response) == "conflict"


def test_amendment_on_an_unknown_opportunity_is_refused(api: Api) -> None:
    response = api.post("/amendments", {**SECOND_SITE, "opportunity_id": "OPP-000404"})
    assert response.status_code == 422 and problem_type(response) == "unknown-opportunity"


def test_approval_makes_the_next_contract_version_and_updates_the_deal(api: Api, clock: ManualClock) -> None:
    opportunity = won_opportunity(api)
    amendment = body_of(draft(api, opportunity), 201)
    clock.advance(3600)
    submitted = body_of(act(api, amendment, "submit"), 200)
    assert (submitted["status"], submitted["submitted_at"]) == ("SUBMITTED", "2026-03-02T10:00:00Z")
    clock.advance(3600)
    approved_amendment = body_of(act(api, amendment, "approve"), 200)
    assert (approved_amendment["status"], approved_amendment["decided_at"]) == ("APPROVED", "2026-03-02T11:00:00Z")
    assert (approved_amendment["contract_version"], approved_amendment["contract_amount"]) == (2, "280000.00")
    deal = body_of(api.get(f"/opportunities/{opportunity['id']}"), 200)
    assert (deal["contract_version"], deal["contract_amount"], deal["amount"]) == (2, "280000.00", "240000.00")
    assert deal["estimated_hours"] == "1840.00"
    assert [m["name"] for m in deal["billing_milestones"]][-1] == "Second site live"
    assert api.event_types()[-4:] == ["crm.amendment.created", "crm.amendment.submitted", "crm.amendment.approved",
                                      "crm.opportunity.updated"]


def test_approved_event_carries_what_the_erp_needs_for_the_modification(api: Api) -> None:
    opportunity = won_opportunity(api)
    approved(api, opportunity, distinct=True, priced_at_standalone=True)
    event = api.events("crm.amendment.approved")[0]
    data = event["data"]
    assert event["subject"] == data["id"]
    assert {name: data[name] for name in ("opportunity_id", "contract_version", "contract_amount", "effective_date",
                                          "distinct", "priced_at_standalone")} == {
        "opportunity_id": opportunity["id"], "contract_version": 2, "contract_amount": "280000.00",
        "effective_date": "2026-07-01", "distinct": True, "priced_at_standalone": True}
    deal_event = api.events("crm.opportunity.updated")[-1]
    assert deal_event["data"] == body_of(api.get(f"/opportunities/{opportunity['id']}"), 200)


def test_each_approval_bumps_the_contract_version_in_approval_order(api: Api) -> None:
    opportunity = won_opportunity(api)
    first = body_of(draft(api, opportunity), 201)
    descoping = body_of(draft(api, opportunity, amount_change="-15000.00", hours_change="-90",
                              billing_milestones=[], description="Drop the hypercare dashboards"), 201)
    body_of(act(api, first, "submit"), 200)
    body_of(act(api, descoping, "submit"), 200)
    assert body_of(act(api, descoping, "approve"), 200)["contract_version"] == 2
    later = body_of(act(api, first, "approve"), 200)
    assert (later["contract_version"], later["contract_amount"]) == (3, "265000.00")
    deal = body_of(api.get(f"/opportunities/{opportunity['id']}"), 200)
    assert (deal["contract_version"], deal["contract_amount"], deal["estimated_hours"]) == (3, "265000.00", "1750.00")


def test_rejected_amendment_leaves_the_deal_untouched(api: Api) -> None:
    opportunity = won_opportunity(api)
    amendment = body_of(draft(api, opportunity), 201)
    body_of(act(api, amendment, "submit"), 200)
    rejected = body_of(act(api, amendment, "reject", {"reason": "No budget this fiscal year"}), 200)
    assert (rejected["status"], rejected["rejection_reason"], rejected["contract_version"]) == (
        "REJECTED", "No budget this fiscal year", None)
    deal = body_of(api.get(f"/opportunities/{opportunity['id']}"), 200)
    assert (deal["contract_version"], deal["version"]) == (1, opportunity["version"])
    assert api.event_types("crm.amendment.rejected") == ["crm.amendment.rejected"]


@pytest.mark.parametrize(("steps", "action", "body"), [
    ((), "approve", None),
    ((), "reject", {"reason": "Not yet submitted"}),
    (("submit",), "submit", None),
    (("submit", "approve"), "approve", None),
    (("submit", "approve"), "reject", {"reason": "Too late"}),
    (("submit", "approve"), "submit", None),
    (("submit", "reject"), "approve", None),
    (("submit", "reject"), "submit", None),
])
def test_illegal_amendment_transitions_are_refused(api: Api, steps: tuple[str, ...], action: str, body: Any) -> None:
    amendment = body_of(draft(api, won_opportunity(api)), 201)
    for step in steps:
        amendment = body_of(act(api, amendment, step, {"reason": "Declined"} if step == "reject" else None), 200)
    response = act(api, amendment, action, body)
    assert response.status_code == 409 and problem_type(response) == "invalid-transition"
    assert response.json["current_status"] == amendment["status"]  # type: ignore[index]


def test_draft_changes_but_an_approved_amendment_never_does(api: Api) -> None:
    opportunity = won_opportunity(api)
    amendment = body_of(draft(api, opportunity), 201)
    path = f"/amendments/{amendment['id']}"
    changed = body_of(api.patch(path, {"amount_change": "45000", "billing_milestones": [
        {"name": "Second site live", "amount": "45000", "due_date": "2026-10-16", "requires_acceptance": True}]}), 200)
    assert (changed["amount_change"], changed["version"]) == ("45000.00", 2)
    body_of(act(api, amendment, "submit"), 200)
    body_of(act(api, amendment, "approve"), 200)
    response = api.patch(path, {"description": "Rewritten history"})
    assert response.status_code == 409 and problem_type(response) == "invalid-transition"
    assert "crm.amendment.updated" in api.event_types()


@pytest.mark.parametrize(("overrides", "slug", "field"), [
    ({"amount_change": "50000"}, "inconsistent-deal-terms", "billing_milestones"),
    ({"new_monthly_fee": "25000"}, "inconsistent-deal-terms", "new_monthly_fee"),
    ({"new_service_end": "2026-04-30"}, "inconsistent-deal-terms", "new_service_end"),
    ({"amount_change": "-300000", "billing_milestones": []}, "invalid-amendment", "amount_change"),
    ({"hours_change": "-2000"}, "invalid-amendment", "hours_change"),
])
def test_change_that_does_not_fit_the_deal_is_refused(api: Api, overrides: dict[str, Any], slug: str,
                                                      field: str) -> None:
    response = draft(api, won_opportunity(api), **overrides)
    assert response.status_code == 422 and problem_type(response) == slug
    assert response.json["field"] == field  # type: ignore[index]


def test_milestones_are_refused_on_a_time_and_materials_change(api: Api) -> None:
    account = new_account(api, name="Contoso Inc.", country="US", currency="USD")
    opportunity = body_of(api.post("/opportunities", {**TM_DEAL, "account_id": account["id"],
                                                      "stage": "NEGOTIATION"}), 201)
    for action in ("submit-sow", "approve-sow", "close-won"):
        body_of(api.post(f"/opportunities/{opportunity['id']}/{action}"), 200)
    response = draft(api, opportunity)
    assert response.status_code == 422 and response.json["field"] == "billing_milestones"  # type: ignore[index]
    amendment = body_of(draft(api, opportunity, billing_milestones=[], new_service_end="2026-09-30"), 201)
    assert amendment["currency"] == "USD"


def test_approval_after_the_customer_cancelled_is_refused(api: Api) -> None:
    opportunity = won_opportunity(api)
    amendment = body_of(draft(api, opportunity), 201)
    body_of(act(api, amendment, "submit"), 200)
    body_of(api.post(f"/opportunities/{opportunity['id']}/cancel",
                     {"effective_date": "2026-06-30", "unbilled_rule": "BILL"}), 200)
    response = act(api, amendment, "approve")
    assert response.status_code == 409 and problem_type(response) == "conflict"
    assert body_of(api.get(f"/amendments/{amendment['id']}"), 200)["status"] == "SUBMITTED"


def test_approval_with_a_stale_etag_is_refused(api: Api) -> None:
    amendment = body_of(draft(api, won_opportunity(api)), 201)
    body_of(act(api, amendment, "submit"), 200)
    response = api.post(f"/amendments/{amendment['id']}/approve", None, {"If-Match": '"1"'})
    assert response.status_code == 412
    assert body_of(api.post(f"/amendments/{amendment['id']}/approve", None, {"If-Match": '"2"'}), 200)[
        "status"] == "APPROVED"


def test_amendments_list_by_opportunity_and_status(api: Api) -> None:
    northwind, other = won_opportunity(api), won_opportunity(api)
    first = approved(api, northwind)
    body_of(draft(api, other), 201)
    second = body_of(draft(api, northwind), 201)

    def ids(**query: Any) -> list[str]:
        return [item["id"] for item in body_of(api.get("/amendments", **query), 200)["items"]]

    assert ids(opportunity_id=northwind["id"]) == [first["id"], second["id"]]
    assert ids(opportunity_id=northwind["id"], status="DRAFT") == [second["id"]]
    page = body_of(api.get("/amendments", limit=2), 200)
    assert len(page["items"]) == 2 and page["next_cursor"] is not None


def test_idempotent_amendment_create_replays_without_a_second_draft(api: Api) -> None:
    opportunity = won_opportunity(api)
    key = {"Idempotency-Key": "co-second-site"}
    body = {**SECOND_SITE, "opportunity_id": opportunity["id"]}
    first = api.post("/amendments", body, key)
    again = api.post("/amendments", body, key)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(body_of(api.get("/amendments"), 200)["items"]) == 1


def test_capped_deal_moves_its_cap_with_the_price(api: Api) -> None:
    account = new_account(api, name="Contoso Inc.", country="US", currency="USD")
    opportunity = body_of(api.post("/opportunities", {**TM_DEAL, "account_id": account["id"], "stage": "NEGOTIATION",
                                                      "billing_model": "CAPPED_TM", "cap_amount": "95000"}), 201)
    for action in ("submit-sow", "approve-sow", "close-won"):
        body_of(api.post(f"/opportunities/{opportunity['id']}/{action}"), 200)
    approved(api, opportunity, billing_milestones=[], amount_change="-10000")
    deal = body_of(api.get(f"/opportunities/{opportunity['id']}"), 200)
    assert (deal["cap_amount"], deal["contract_amount"]) == ("85000.00", "80000.00")
