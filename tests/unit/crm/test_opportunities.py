"""Opportunities: creation, deal terms, frozen terms, ownership and the ERP/PSA write-back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.crm.builders import (
    FIXED_FEE_DEAL,
    TM_DEAL,
    Api,
    approved_opportunity,
    body_of,
    new_account,
    new_opportunity,
    problem_type,
    won_opportunity,
)

BILLING = {"invoiced_amount": "60000", "credited_amount": "0", "paid_amount": "30000.5", "currency": "EUR"}


def test_new_opportunity_starts_open_at_prospecting_with_normalised_money(api: Api) -> None:
    account = new_account(api)
    response = api.post("/opportunities", {**FIXED_FEE_DEAL, "account_id": account["id"], "amount": "240000"})
    opportunity = body_of(response, 201)
    assert response.headers["Location"] == f"/opportunities/{opportunity['id']}"
    assert (opportunity["stage"], opportunity["status"], opportunity["probability"]) == ("PROSPECTING", "OPEN", 10)
    assert opportunity["amount"] == "240000.00" and opportunity["estimated_hours"] == "1600.00"
    assert opportunity["sow_status"] == "NONE" and opportunity["contract_version"] is None
    assert (opportunity["erp_contract_id"], opportunity["psa_project_id"], opportunity["billing_status"]) == (
        None, None, None)
    assert api.event_types("crm.opportunity.") == ["crm.opportunity.created"]


def test_opportunity_may_start_at_a_later_open_stage(api: Api) -> None:
    opportunity = new_opportunity(api, stage="PROPOSAL")
    assert (opportunity["stage"], opportunity["probability"]) == ("PROPOSAL", 50)


def test_opportunity_for_an_unknown_account_is_refused(api: Api) -> None:
    response = api.post("/opportunities", {**FIXED_FEE_DEAL, "account_id": "ACC-000404"})
    assert response.status_code == 422 and problem_type(response) == "unknown-account"


def test_legal_entity_and_practice_are_not_checked_against_a_list(api: Api) -> None:
    opportunity = new_opportunity(api, legal_entity="FR01", practice="UNDERWATER_BASKETRY")
    assert (opportunity["legal_entity"], opportunity["practice"]) == ("FR01", "UNDERWATER_BASKETRY")


def test_malformed_legal_entity_is_a_validation_error(api: Api) -> None:
    account = new_account(api)
    response = api.post("/opportunities", {**FIXED_FEE_DEAL, "account_id": account["id"], "legal_entity": "DE1"})
    assert response.status_code == 400 and response.json["field"].startswith("body/legal_entity")  # type: ignore[index]


@pytest.mark.parametrize(("terms", "field"), [
    ({"billing_model": "TIME_AND_MATERIALS"}, "billing_milestones"),
    ({"monthly_fee": "20000.00"}, "monthly_fee"),
    ({"cap_amount": "250000.00"}, "cap_amount"),
    ({"rate_card": [{"role": "MANAGER", "hourly_rate": "250.00"}]}, "rate_card"),
    ({"service_end": "2026-05-01"}, "service_end"),
    ({**TM_DEAL, "billing_milestones": [], "rate_card": [{"role": "MANAGER", "hourly_rate": "250.00"},
                                                         {"role": "MANAGER", "hourly_rate": "260.00"}]}, "rate_card"),
])
def test_terms_that_do_not_fit_the_billing_model_are_refused(api: Api, terms: dict[str, Any], field: str) -> None:
    account = new_account(api)
    response = api.post("/opportunities", {**FIXED_FEE_DEAL, "account_id": account["id"], **terms})
    assert response.status_code == 422 and problem_type(response) == "inconsistent-deal-terms"
    assert response.json["field"] == field  # type: ignore[index]


def test_changing_the_billing_model_requires_dropping_the_old_models_terms(api: Api) -> None:
    opportunity = new_opportunity(api)
    path = f"/opportunities/{opportunity['id']}"
    response = api.patch(path, {"billing_model": "RETAINER", "monthly_fee": "20000"})
    assert response.status_code == 422 and response.json["field"] == "billing_milestones"  # type: ignore[index]
    changed = body_of(api.patch(path, {"billing_model": "RETAINER", "monthly_fee": "20000",
                                       "billing_milestones": []}), 200)
    assert changed["monthly_fee"] == "20000.00" and changed["billing_milestones"] == []
    assert api.event_types("crm.opportunity.") == ["crm.opportunity.created", "crm.opportunity.updated"]


def test_terms_freeze_once_the_sow_is_submitted_but_the_name_still_changes(api: Api) -> None:
    opportunity = approved_opportunity(api)
    path = f"/opportunities/{opportunity['id']}"
    response = api.patch(path, {"amount": "250000.00"})
    assert response.status_code == 409 and problem_type(response) == "conflict"
    assert response.json["field"] == "amount"  # type: ignore[index]
    renamed = body_of(api.patch(path, {"name": "Northwind — analytics platform phase 1"}), 200)
    assert renamed["name"] == "Northwind — analytics platform phase 1" and renamed["amount"] == "240000.00"


def test_closed_opportunity_changes_only_through_amendments(api: Api) -> None:
    opportunity = won_opportunity(api)
    response = api.patch(f"/opportunities/{opportunity['id']}", {"name": "Renamed"})
    assert response.status_code == 409 and problem_type(response) == "conflict"


def test_stage_and_sow_status_are_not_patchable(api: Api) -> None:
    opportunity = new_opportunity(api)
    for body in ({"stage": "NEGOTIATION"}, {"sow_status": "APPROVED"}, {"contract_version": 3}):
        assert api.patch(f"/opportunities/{opportunity['id']}", body).status_code == 400


@pytest.mark.parametrize(("field", "value", "owner"), [
    ("erp_contract_id", "CTR-000001", "erp"),
    ("psa_project_id", "PRJ-000001", "psa"),
    ("billing_status", {"invoiced_amount": "1.00"}, "erp"),
])
def test_attributes_owned_by_erp_or_psa_are_refused_naming_the_owner(api: Api, field: str, value: Any,
                                                                      owner: str) -> None:
    account = new_account(api)
    response = api.post("/opportunities", {**FIXED_FEE_DEAL, "account_id": account["id"], field: value})
    assert response.status_code == 403 and problem_type(response) == "attribute-owned-elsewhere"
    assert response.json["owner"] == owner and owner.upper() in response.json["detail"]  # type: ignore[index]
    opportunity = won_opportunity(api)
    response = api.patch(f"/opportunities/{opportunity['id']}", {field: value})
    assert response.status_code == 403 and response.json["owner"] == owner  # type: ignore[index]


def test_delivery_link_sync_endpoint_records_contract_and_project_on_a_won_deal(api: Api) -> None:
    opportunity = won_opportunity(api)
    path = f"/opportunities/{opportunity['id']}/delivery-link"
    linked = body_of(api.put(path, {"erp_contract_id": "CTR-000042"}), 200)
    linked = body_of(api.put(path, {"psa_project_id": "PRJ-000042"}), 200)
    assert (linked["erp_contract_id"], linked["psa_project_id"]) == ("CTR-000042", "PRJ-000042")
    body_of(api.put(path, {"erp_contract_id": "CTR-000042", "psa_project_id": "PRJ-000042"}), 200)
    links = api.events("crm.opportunity.delivery_linked")
    assert len(links) == 2 and links[-1]["data"] == linked


def test_delivery_link_on_an_open_deal_is_refused(api: Api) -> None:
    opportunity = approved_opportunity(api)
    response = api.put(f"/opportunities/{opportunity['id']}/delivery-link", {"erp_contract_id": "CTR-000042"})
    assert response.status_code == 409 and problem_type(response) == "invalid-transition"


def test_billing_status_sync_endpoint_records_what_the_erp_billed(api: Api) -> None:
    opportunity = won_opportunity(api)
    path = f"/opportunities/{opportunity['id']}/billing-status"
    updated = body_of(api.put(path, {"billing_status": BILLING}), 200)
    assert updated["billing_status"] == {"invoiced_amount": "60000.00", "credited_amount": "0.00",
                                         "paid_amount": "30000.50", "currency": "EUR"}
    assert body_of(api.put(path, {"billing_status": BILLING}), 200)["version"] == updated["version"]
    assert api.event_types("crm.opportunity.billing_status_changed") == ["crm.opportunity.billing_status_changed"]
    open_deal = new_opportunity(api)
    response = api.put(f"/opportunities/{open_deal['id']}/billing-status", {"billing_status": BILLING})
    assert response.status_code == 409


def test_sync_endpoint_honours_if_match(api: Api) -> None:
    opportunity = won_opportunity(api)
    path = f"/opportunities/{opportunity['id']}/delivery-link"
    stale = f'"{opportunity["version"] - 1}"'
    assert api.put(path, {"erp_contract_id": "CTR-1"}, {"If-Match": stale}).status_code == 412
    current = f'"{opportunity["version"]}"'
    assert api.put(path, {"erp_contract_id": "CTR-1"}, {"If-Match": current}).status_code == 200


def test_opportunities_list_filters_by_stage_status_account_and_entity(api: Api) -> None:
    northwind = new_account(api)
    contoso = new_account(api, name="Contoso Inc.", country="US", currency="USD")
    prospect = new_opportunity(api, northwind["id"])
    tm = body_of(api.post("/opportunities", {**TM_DEAL, "account_id": contoso["id"], "stage": "PROPOSAL"}), 201)
    won = won_opportunity(api)

    def ids(**query: Any) -> list[str]:
        return [item["id"] for item in body_of(api.get("/opportunities", **query), 200)["items"]]

    assert ids(account_id=northwind["id"]) == [prospect["id"]]
    assert ids(stage="PROPOSAL") == [tm["id"]]
    assert ids(status="WON") == [won["id"]]
    assert ids(legal_entity="US01", billing_model="TIME_AND_MATERIALS") == [tm["id"]]
    assert ids(limit=2) == [prospect["id"], tm["id"]]
