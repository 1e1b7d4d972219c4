"""Projects: creation from a template, lifecycle, ownership of attributes, and the sync endpoints."""

from __future__ import annotations

from typing import Any

from tests.unit.psa.builders import Api, create_project, project_body


def test_project_is_created_planned_from_its_practice_template(api: Api) -> None:
    response = api.post("/projects", project_body(practice="TECHNOLOGY"))

    assert response.status_code == 201
    project = response.json
    assert response.headers["Location"] == f"/projects/{project['id']}"
    assert response.headers["ETag"] == '"1"'
    assert project["status"] == "PLANNED"
    template = api.get(f"/project-templates/{project['template_id']}").json
    assert template["practice"] == "TECHNOLOGY"
    assert (project["cost_center"], project["service_line"]) == ("CC-2000", "SL-TEC")
    tasks = api.get(f"/projects/{project['id']}/tasks").json["items"]
    assert [task["code"] for task in tasks] == [task["code"] for task in template["tasks"]]
    assert api.event_types() == ["psa.project.created"]


def test_unknown_practice_is_refused_as_a_business_exception(api: Api) -> None:
    response = api.post("/projects", project_body(practice="LEGAL"))

    assert response.status_code == 422
    assert response.json["type"] == "https://firmsim.dev/problems/unknown-practice"
    assert api.event_types() == []


def test_currency_other_than_the_entitys_is_refused(api: Api) -> None:
    response = api.post("/projects", project_body(legal_entity="DE01", currency="GBP"))

    assert response.status_code == 422
    assert response.json["type"].endswith("/currency-not-allowed")


def test_end_date_before_start_date_is_refused(api: Api) -> None:
    response = api.post("/projects", project_body(start_date="2026-05-01", end_date="2026-04-30"))

    assert response.status_code == 422
    assert response.json["type"].endswith("/invalid-dates")


def test_erp_dimensions_given_at_creation_override_the_template_defaults(api: Api) -> None:
    project = create_project(api, activate=False, erp_contract_id="CON-000017", erp_customer_number="CUS-000009",
                             cost_center="CC-4100", service_line="SL-OPS-UK")

    assert (project["erp_contract_id"], project["erp_customer_number"]) == ("CON-000017", "CUS-000009")
    assert (project["cost_center"], project["service_line"]) == ("CC-4100", "SL-OPS-UK")


def test_initial_budget_is_recorded_as_contract_version_one(api: Api) -> None:
    project = create_project(api, activate=False, contract_version=1, budget_hours="960", budget_amount="182400")

    assert (project["contract_version"], project["budget_hours"], project["budget_amount"]) == (1, "960.00",
                                                                                                "182400.00")
    assert [entry["contract_version"] for entry in project["budget_history"]] == [1]


def test_project_moves_planned_to_active_to_completed(api: Api) -> None:
    project = create_project(api, activate=False)
    path = f"/projects/{project['id']}"

    active = api.post(f"{path}/activate", {"effective_date": "2026-03-02"}, **{"If-Match": '"1"'})
    completed = api.post(f"{path}/complete", {"effective_date": "2026-05-29"})

    assert (active.status_code, active.json["status"], active.json["activated_on"]) == (200, "ACTIVE", "2026-03-02")
    assert (completed.json["status"], completed.json["completed_on"]) == ("COMPLETED", "2026-05-29")
    assert api.event_types("psa.project.") == ["psa.project.created", "psa.project.activated",
                                               "psa.project.completed"]


def test_planned_and_active_projects_can_be_cancelled_with_a_reason(api: Api) -> None:
    planned = create_project(api, activate=False)
    active = create_project(api)
    body = {"effective_date": "2026-04-10", "reason": "Customer terminated for convenience"}

    for project in (planned, active):
        response = api.post(f"/projects/{project['id']}/cancel", body)
        assert (response.status_code, response.json["status"]) == (200, "CANCELLED")
        assert response.json["cancellation_reason"] == "Customer terminated for convenience"


def test_illegal_project_transitions_are_refused_with_409(api: Api) -> None:
    planned = create_project(api, activate=False)
    active = create_project(api)
    cancelled = create_project(api)
    api.post(f"/projects/{cancelled['id']}/cancel", {"effective_date": "2026-04-10", "reason": "Lost budget"})

    refused = [
        api.post(f"/projects/{planned['id']}/complete", {"effective_date": "2026-05-29"}),
        api.post(f"/projects/{active['id']}/activate", {"effective_date": "2026-03-02"}),
        api.post(f"/projects/{cancelled['id']}/activate", {"effective_date": "2026-03-02"}),
        api.post(f"/projects/{cancelled['id']}/cancel", {"effective_date": "2026-04-11", "reason": "Again"}),
    ]

    assert [response.status_code for response in refused] == [409] * 4
    assert refused[0].json["type"].endswith("/invalid-transition")
    assert refused[0].json["current_status"] == "PLANNED"


def test_completion_dated_before_activation_is_refused(api: Api) -> None:
    project = create_project(api)

    response = api.post(f"/projects/{project['id']}/complete", {"effective_date": "2026-02-27"})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "invalid-date")


def test_transition_with_a_stale_etag_is_refused_and_changes_nothing(api: Api) -> None:
    project = create_project(api)

    response = api.post(f"/projects/{project['id']}/complete", {"effective_date": "2026-05-29"}, **{"If-Match": '"1"'})

    assert response.status_code == 412
    assert api.get(f"/projects/{project['id']}").json["status"] == "ACTIVE"


def test_psa_owned_attributes_are_changed_by_patch(api: Api) -> None:
    project = create_project(api)

    response = api.patch(f"/projects/{project['id']}", {"project_manager": "Tomasz Nowak", "end_date": "2026-06-05"},
                         **{"If-Match": f'"{project["version"]}"'})

    assert (response.json["project_manager"], response.json["end_date"]) == ("Tomasz Nowak", "2026-06-05")
    assert api.event_types()[-1] == "psa.project.updated"


def test_patch_of_an_erp_dimension_is_refused_naming_the_owner(api: Api) -> None:
    project = create_project(api)

    response = api.patch(f"/projects/{project['id']}", {"name": "Renamed", "cost_center": "CC-9999"})

    assert response.status_code == 403
    assert response.json["type"].endswith("/attribute-owned-elsewhere")
    assert (response.json["owner"], response.json["field"]) == ("erp", "body/cost_center")
    assert api.get(f"/projects/{project['id']}").json["name"] == project["name"]


def test_patch_of_the_contract_budget_is_refused_naming_crm(api: Api) -> None:
    project = create_project(api)

    response = api.patch(f"/projects/{project['id']}", {"budget_amount": "1.00"})

    assert (response.status_code, response.json["owner"]) == (403, "crm")


def budget(version: int, amount: str, effective_date: str = "2026-04-01") -> dict[str, Any]:
    return {"contract_version": version, "budget_hours": "1200", "budget_amount": amount,
            "effective_date": effective_date}


def test_budget_history_keeps_every_contract_version_given(api: Api) -> None:
    project = create_project(api, contract_version=1, budget_hours="960", budget_amount="182400")
    path = f"/projects/{project['id']}/budget"

    api.put(path, budget(2, "228000"))
    response = api.put(path, budget(3, "240000.5", "2026-05-01"))

    assert (response.json["contract_version"], response.json["budget_amount"]) == (3, "240000.50")
    assert [entry["contract_version"] for entry in response.json["budget_history"]] == [1, 2, 3]
    assert api.event_types("psa.project.budget_changed") == ["psa.project.budget_changed"] * 2


def test_an_older_contract_version_is_recorded_as_given_for_the_oracle_to_see(api: Api) -> None:
    project = create_project(api)
    path = f"/projects/{project['id']}/budget"
    api.put(path, budget(3, "240000"))

    response = api.put(path, budget(2, "228000"))

    assert response.json["contract_version"] == 2
    assert [entry["contract_version"] for entry in response.json["budget_history"]] == [3, 2]


def test_repeating_the_current_budget_changes_nothing(api: Api) -> None:
    project = create_project(api)
    path = f"/projects/{project['id']}/budget"
    first = api.put(path, budget(2, "228000"))

    again = api.put(path, budget(2, "228000.00"))

    assert again.json["version"] == first.json["version"]
    assert len(again.json["budget_history"]) == 1
    assert api.event_types("psa.project.budget_changed") == ["psa.project.budget_changed"]


def test_estimate_at_completion_is_set_and_kept_in_history(api: Api) -> None:
    project = create_project(api)
    path = f"/projects/{project['id']}/estimate"

    api.put(path, {"eac_cost": "200000", "as_of": "2026-03-31"})
    response = api.put(path, {"eac_cost": "220000", "as_of": "2026-06-30", "note": "Two more sprints"})

    assert (response.json["eac_cost"], response.json["eac_as_of"]) == ("220000.00", "2026-06-30")
    assert [estimate["eac_cost"] for estimate in response.json["estimate_history"]] == ["200000.00", "220000.00"]
    assert api.event_types("psa.project.estimate_changed") == ["psa.project.estimate_changed"] * 2


def test_billing_status_is_written_back_from_erp(api: Api) -> None:
    project = create_project(api)
    body = {"invoiced": "48000", "credited": "1200", "paid": "30000", "currency": "GBP", "credit_hold": True,
            "as_of": "2026-04-30"}

    response = api.put(f"/projects/{project['id']}/billing-status", body)

    status = response.json["billing_status"]
    assert (status["invoiced"], status["credited"], status["paid"], status["credit_hold"]) == (
        "48000.00", "1200.00", "30000.00", True)
    assert api.events()[-1]["type"] == "psa.project.billing_status_changed"
    assert api.events()[-1]["data"]["billing_status"]["credit_hold"] is True


def test_dimensions_are_written_through_their_sync_endpoint(api: Api) -> None:
    project = create_project(api)

    response = api.put(f"/projects/{project['id']}/dimensions",
                       {"erp_contract_id": "CON-000017", "cost_center": "CC-4100"})

    assert (response.json["erp_contract_id"], response.json["cost_center"]) == ("CON-000017", "CC-4100")
    assert response.json["service_line"] == "SL-OPS"
    assert api.event_types()[-1] == "psa.project.dimensions_changed"


def test_projects_are_found_by_crm_opportunity(api: Api) -> None:
    create_project(api, crm_opportunity_id="OPP-000001")
    wanted = create_project(api, crm_opportunity_id="OPP-000002")

    response = api.get("/projects?crm_opportunity_id=OPP-000002")

    assert [project["id"] for project in response.json["items"]] == [wanted["id"]]


def test_unknown_project_is_404_problem_json(api: Api) -> None:
    response = api.get("/projects/PRJ-999999")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_retried_creation_with_the_same_idempotency_key_creates_one_project(api: Api) -> None:
    first = api.post("/projects", project_body(), **{"Idempotency-Key": "opp-000042-v1"})
    retry = api.post("/projects", project_body(), **{"Idempotency-Key": "opp-000042-v1"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json["id"] == first.json["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/projects").json["items"]) == 1
    assert api.event_types() == ["psa.project.created"]
