"""WBS tasks and billing milestones: completion, customer acceptance, billability."""

from __future__ import annotations

from typing import Any

from tests.unit.psa.builders import Api, create_project


def milestone(api: Api, project: dict[str, Any], requires_acceptance: bool, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Diagnostic report", "amount": "60000", "currency": project["currency"],
            "due_date": "2026-04-17", "requires_acceptance": requires_acceptance, **overrides}
    response = api.post(f"/projects/{project['id']}/milestones", body)
    assert response.status_code == 201, response.json
    created: dict[str, Any] = response.json
    return created


def test_task_is_added_under_a_parent_of_the_same_project(api: Api) -> None:
    project = create_project(api)
    parent = api.get(f"/projects/{project['id']}/tasks").json["items"][2]

    response = api.post(f"/projects/{project['id']}/tasks", {"code": "3.1", "name": "Network model",
                                                             "parent_task_id": parent["id"], "planned_hours": "120"})

    assert response.status_code == 201
    assert (response.json["parent_task_id"], response.json["planned_hours"]) == (parent["id"], "120.00")
    assert api.get(f"/tasks/{response.json['id']}").json["code"] == "3.1"
    assert api.event_types()[-1] == "psa.task.created"


def test_wbs_code_is_unique_within_a_project(api: Api) -> None:
    project = create_project(api)

    response = api.post(f"/projects/{project['id']}/tasks", {"code": "1", "name": "Second mobilisation"})

    assert (response.status_code, response.json["field"]) == (409, "code")


def test_task_under_a_parent_of_another_project_is_refused(api: Api) -> None:
    project, other = create_project(api), create_project(api)
    foreign = api.get(f"/projects/{other['id']}/tasks").json["items"][0]

    response = api.post(f"/projects/{project['id']}/tasks", {"code": "9", "name": "X", "parent_task_id": foreign["id"]})

    assert (response.status_code, response.json["field"]) == (422, "parent_task_id")


def test_milestone_without_acceptance_becomes_billable_on_completion(api: Api) -> None:
    project = create_project(api)
    created = milestone(api, project, requires_acceptance=False)

    response = api.post(f"/milestones/{created['id']}/complete", {"completed_on": "2026-04-15"})

    assert (created["status"], created["billable"]) == ("PLANNED", False)
    assert (response.json["status"], response.json["billable"], response.json["billable_on"]) == (
        "COMPLETED", True, "2026-04-15")
    assert api.event_types("psa.milestone.") == ["psa.milestone.created", "psa.milestone.completed"]


def test_milestone_needing_acceptance_is_billable_only_once_accepted(api: Api) -> None:
    project = create_project(api)
    created = milestone(api, project, requires_acceptance=True)

    completed = api.post(f"/milestones/{created['id']}/complete", {"completed_on": "2026-04-15"}).json
    accepted = api.post(f"/milestones/{created['id']}/accept",
                        {"accepted_on": "2026-04-20", "accepted_by": "Hannah Okafor"}).json

    assert (completed["status"], completed["billable"]) == ("COMPLETED", False)
    assert (accepted["status"], accepted["billable"], accepted["billable_on"]) == ("ACCEPTED", True, "2026-04-20")
    assert api.events("psa.milestone.accepted")[0]["data"]["accepted_by"] == "Hannah Okafor"


def test_acceptance_of_a_milestone_that_needs_none_is_refused(api: Api) -> None:
    project = create_project(api)
    created = milestone(api, project, requires_acceptance=False)
    api.post(f"/milestones/{created['id']}/complete", {"completed_on": "2026-04-15"})

    response = api.post(f"/milestones/{created['id']}/accept", {"accepted_on": "2026-04-20", "accepted_by": "H. O."})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (409, "invalid-transition")
    assert "does not require" in response.json["detail"]


def test_illegal_milestone_transitions_are_refused(api: Api) -> None:
    project = create_project(api)
    planned = milestone(api, project, requires_acceptance=True)
    done = milestone(api, project, requires_acceptance=True)
    api.post(f"/milestones/{done['id']}/complete", {"completed_on": "2026-04-15"})
    api.post(f"/milestones/{done['id']}/accept", {"accepted_on": "2026-04-20", "accepted_by": "H. O."})

    refused = [
        api.post(f"/milestones/{planned['id']}/accept", {"accepted_on": "2026-04-20", "accepted_by": "H. O."}),
        api.post(f"/milestones/{done['id']}/complete", {"completed_on": "2026-04-21"}),
        api.post(f"/milestones/{done['id']}/accept", {"accepted_on": "2026-04-22", "accepted_by": "H. O."}),
    ]

    assert [response.status_code for response in refused] == [409, 409, 409]


def test_acceptance_dated_before_completion_is_refused(api: Api) -> None:
    project = create_project(api)
    created = milestone(api, project, requires_acceptance=True)
    api.post(f"/milestones/{created['id']}/complete", {"completed_on": "2026-04-15"})

    response = api.post(f"/milestones/{created['id']}/accept", {"accepted_on": "2026-04-14", "accepted_by": "H. O."})

    assert (response.status_code, response.json["field"]) == (422, "accepted_on")


def test_milestone_of_a_planned_project_cannot_be_completed(api: Api) -> None:
    project = create_project(api, activate=False)
    created = milestone(api, project, requires_acceptance=False)

    response = api.post(f"/milestones/{created['id']}/complete", {"completed_on": "2026-04-15"})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "project-not-active")


def test_milestone_in_another_currency_is_refused(api: Api) -> None:
    project = create_project(api)

    response = api.post(f"/projects/{project['id']}/milestones", {
        "name": "Kick-off", "amount": "1000", "currency": "USD", "due_date": "2026-03-06",
        "requires_acceptance": False})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "currency-not-allowed")


def test_milestones_are_listed_by_status(api: Api) -> None:
    project = create_project(api)
    first = milestone(api, project, requires_acceptance=False)
    milestone(api, project, requires_acceptance=False, name="Final report")
    api.post(f"/milestones/{first['id']}/complete", {"completed_on": "2026-04-15"})

    response = api.get(f"/projects/{project['id']}/milestones?status=COMPLETED")

    assert [item["id"] for item in response.json["items"]] == [first["id"]]
