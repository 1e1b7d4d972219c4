"""Time entries: booking rules, the approval lifecycle with revisions, valuation, and deletion."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.psa.builders import Api, act, assign, create_entry, create_project, entry_body, upsert_resource

PATH = "/time-entries"


def slug(response: Any) -> str:
    return str(response.json["type"]).rsplit("/", 1)[1]


def test_entry_is_created_as_a_draft_of_revision_one(api: Api, staffing: dict[str, Any]) -> None:
    response = api.post(PATH, entry_body(staffing, hours="7.5", task_id="TSK-000002"))

    assert response.status_code == 201
    entry = response.json
    assert (entry["status"], entry["revision"], entry["hours"], entry["currency"]) == ("DRAFT", 1, "7.50", "GBP")
    assert (entry["assignment_id"], entry["role"]) == (staffing["assignment"]["id"], "SENIOR_CONSULTANT")
    assert entry["bill_amount"] is None
    assert api.event_types("psa.time_entry.") == ["psa.time_entry.created"]


@pytest.mark.parametrize("hours", ["0", "0.00", "24.25", "7.3", "25", "-1"])
def test_hours_outside_quarter_hours_up_to_24_are_refused(api: Api, staffing: dict[str, Any], hours: str) -> None:
    response = api.post(PATH, entry_body(staffing, hours=hours))

    assert (response.status_code, response.json["field"]) == (400, "body/hours")


def test_entry_on_a_date_outside_the_assignment_is_refused_naming_why(api: Api, staffing: dict[str, Any]) -> None:
    response = api.post(PATH, entry_body(staffing, date="2026-04-01"))

    assert (response.status_code, slug(response)) == (422, "not-assigned")
    assert "not assigned" in response.json["detail"]
    assert "2026-04-01" in response.json["detail"]


def test_entry_by_a_resource_not_on_the_project_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    other = upsert_resource(api, worker_id="WRK-000008", name="Jonas Weber")

    response = api.post(PATH, entry_body(staffing, resource_id=other["id"]))

    assert (response.status_code, slug(response)) == (422, "not-assigned")


def test_entry_on_a_planned_project_is_refused(api: Api) -> None:
    project = create_project(api, activate=False)
    resource = upsert_resource(api)
    assign(api, project["id"], resource["id"])

    response = api.post(PATH, entry_body({"project": project, "resource": resource}))

    assert (response.status_code, slug(response)) == (422, "project-not-active")


def test_entry_on_a_task_of_another_project_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    other = create_project(api)
    foreign_task = api.get(f"/projects/{other['id']}/tasks").json["items"][0]

    response = api.post(PATH, entry_body(staffing, task_id=foreign_task["id"]))

    assert (response.status_code, slug(response)) == (422, "invalid-task")


def test_entry_by_an_unknown_resource_is_404_naming_the_field(api: Api, staffing: dict[str, Any]) -> None:
    response = api.post(PATH, entry_body(staffing, resource_id="WRK-000404"))

    assert (response.status_code, response.json["field"]) == (404, "resource_id")


def test_approval_values_the_entry_at_the_rates_of_its_date(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing, hours="7.50", date="2026-03-09"))

    approved = act(api, PATH, entry["id"], "submit", "approve")

    assert approved["status"] == "APPROVED"
    assert (approved["bill_rate"], approved["bill_amount"]) == ("182.00", "1365.00")
    assert (approved["cost_rate"], approved["cost_amount"], approved["cost_currency"]) == ("66.00", "495.00", "GBP")
    assert approved["approvals"] == [{
        "revision": 1, "date": "2026-03-09", "hours": "7.50", "billable": True, "currency": "GBP",
        "bill_rate": "182.00", "bill_amount": "1365.00", "cost_rate": "66.00", "cost_amount": "495.00",
        "cost_currency": "GBP", "approved_at": "2026-03-02T09:00:00Z"}]


def test_cost_rate_is_the_one_effective_on_the_entry_date(api: Api, staffing: dict[str, Any]) -> None:
    before = create_entry(api, PATH, entry_body(staffing, date="2026-03-06", hours="1"))
    after = create_entry(api, PATH, entry_body(staffing, date="2026-03-09", hours="1"))

    rates = [act(api, PATH, entry["id"], "submit", "approve")["cost_rate"] for entry in (before, after)]

    assert rates == ["60.00", "66.00"]


def test_bill_amount_rounds_half_up_to_cents(api: Api) -> None:
    project = create_project(api)
    resource = upsert_resource(api)
    assign(api, project["id"], resource["id"], bill_rate="100.10")
    entry = create_entry(api, PATH, entry_body({"project": project, "resource": resource}, hours="0.25"))

    approved = act(api, PATH, entry["id"], "submit", "approve")

    assert (approved["bill_rate"], approved["bill_amount"]) == ("100.10", "25.03")
    assert approved["cost_amount"] == "15.00"


def test_non_billable_entry_is_valued_at_cost_with_no_bill_amount(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing, billable=False, hours="2"))

    approved = act(api, PATH, entry["id"], "submit", "approve")

    assert (approved["bill_amount"], approved["cost_amount"]) == ("0.00", "120.00")


def test_approval_without_a_cost_rate_on_the_date_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    api.put(f"/resources/{staffing['resource']['id']}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-03-16", "hourly_cost": "66.00", "currency": "GBP", "source_version": 3}]})
    entry = create_entry(api, PATH, entry_body(staffing, date="2026-03-04"))
    act(api, PATH, entry["id"], "submit")

    response = api.post(f"{PATH}/{entry['id']}/approve")

    assert (response.status_code, slug(response)) == (422, "missing-cost-rate")
    assert api.get(f"{PATH}/{entry['id']}").json["status"] == "SUBMITTED"


def test_returned_entry_can_be_edited_and_resubmitted(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    returned = act(api, PATH, entry["id"], "submit", "return", reason="Book it to task 2")

    edited = api.patch(f"{PATH}/{entry['id']}", {"task_id": "TSK-000002", "hours": "6"})
    resubmitted = act(api, PATH, entry["id"], "submit")

    assert (returned["status"], returned["return_reason"]) == ("RETURNED", "Book it to task 2")
    assert (edited.status_code, edited.json["hours"], edited.json["task_id"]) == (200, "6.00", "TSK-000002")
    assert (resubmitted["status"], resubmitted["revision"]) == ("SUBMITTED", 1)
    assert api.event_types("psa.time_entry.") == [
        "psa.time_entry.created", "psa.time_entry.submitted", "psa.time_entry.returned",
        "psa.time_entry.updated", "psa.time_entry.submitted"]


def test_submitted_entry_can_be_recalled_edited_and_resubmitted(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    recalled = act(api, PATH, entry["id"], "submit", "recall")

    edited = api.patch(f"{PATH}/{entry['id']}", {"notes": "Workshop, not interviews"})
    approved = act(api, PATH, entry["id"], "submit", "approve")

    assert recalled["status"] == "RECALLED"
    assert edited.status_code == 200
    assert (approved["status"], approved["revision"], approved["notes"]) == ("APPROVED", 1, "Workshop, not interviews")
    assert "psa.time_entry.recalled" in api.event_types()


def test_reopened_entry_is_reapproved_as_revision_two(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing, hours="8"))
    act(api, PATH, entry["id"], "submit", "approve")

    reopened = act(api, PATH, entry["id"], "reopen", reason="Booked to the wrong day")
    api.patch(f"{PATH}/{entry['id']}", {"hours": "6.5"})
    approved = act(api, PATH, entry["id"], "submit", "approve")

    assert (reopened["status"], reopened["revision"], reopened["bill_amount"]) == ("REOPENED", 2, None)
    assert reopened["reopen_reason"] == "Booked to the wrong day"
    assert (approved["revision"], approved["hours"], approved["bill_amount"]) == (2, "6.50", "1183.00")
    assert [(a["revision"], a["hours"], a["bill_amount"]) for a in approved["approvals"]] == [
        (1, "8.00", "1456.00"), (2, "6.50", "1183.00")]


def test_approved_event_of_each_revision_carries_its_valuation(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing, hours="8"))
    act(api, PATH, entry["id"], "submit", "approve", "reopen")
    api.patch(f"{PATH}/{entry['id']}", {"hours": "6.5"})
    act(api, PATH, entry["id"], "submit", "approve")

    approved = [event["data"] for event in api.events("psa.time_entry.approved")]

    assert [(data["revision"], data["hours"], data["bill_rate"], data["bill_amount"], data["cost_rate"],
             data["cost_amount"], data["currency"]) for data in approved] == [
        (1, "8.00", "182.00", "1456.00", "60.00", "480.00", "GBP"),
        (2, "6.50", "182.00", "1183.00", "60.00", "390.00", "GBP")]
    reopened = api.events("psa.time_entry.reopened")[0]
    assert (reopened["subject"], reopened["data"]["revision"]) == (entry["id"], 2)


@pytest.mark.parametrize(("actions", "refused"), [
    ((), "approve"), ((), "return"), ((), "recall"), ((), "reopen"),
    (("submit",), "submit"), (("submit",), "reopen"),
    (("submit", "approve"), "approve"), (("submit", "approve"), "recall"), (("submit", "approve"), "return"),
    (("submit", "approve"), "submit"),
    (("submit", "return"), "approve"), (("submit", "recall"), "recall"),
    (("submit", "approve", "reopen"), "approve"), (("submit", "approve", "reopen"), "reopen"),
])
def test_illegal_transition_is_refused_with_409_and_changes_nothing(
        api: Api, staffing: dict[str, Any], actions: tuple[str, ...], refused: str) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    before = act(api, PATH, entry["id"], *actions) if actions else entry

    body = {"reason": "x"} if refused in ("return", "reopen") else None
    response = api.post(f"{PATH}/{entry['id']}/{refused}", body)

    assert (response.status_code, slug(response)) == (409, "invalid-transition")
    assert response.json["current_status"] == before["status"]
    assert api.get(f"{PATH}/{entry['id']}").json["version"] == before["version"]


@pytest.mark.parametrize("actions", [("submit",), ("submit", "approve")])
def test_submitted_and_approved_entries_cannot_be_edited(
        api: Api, staffing: dict[str, Any], actions: tuple[str, ...]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    act(api, PATH, entry["id"], *actions)

    response = api.patch(f"{PATH}/{entry['id']}", {"hours": "1"})

    assert (response.status_code, slug(response)) == (409, "invalid-transition")


def test_edit_moving_the_entry_outside_the_assignment_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))

    response = api.patch(f"{PATH}/{entry['id']}", {"date": "2026-04-02"})

    assert (response.status_code, slug(response)) == (422, "not-assigned")


def test_draft_entry_is_deleted_and_gone(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))

    response = api.delete(f"{PATH}/{entry['id']}")

    assert response.status_code == 204
    assert api.get(f"{PATH}/{entry['id']}").status_code == 404
    assert api.get(PATH).json["items"] == []
    deleted = api.events("psa.time_entry.deleted")[0]
    assert (deleted["subject"], deleted["data"]["status"]) == (entry["id"], "DELETED")


@pytest.mark.parametrize("actions", [("submit",), ("submit", "return"), ("submit", "recall"),
                                     ("submit", "approve"), ("submit", "approve", "reopen")])
def test_only_draft_entries_can_be_deleted(api: Api, staffing: dict[str, Any], actions: tuple[str, ...]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    act(api, PATH, entry["id"], *actions)

    response = api.delete(f"{PATH}/{entry['id']}")

    assert (response.status_code, slug(response)) == (409, "invalid-transition")


def test_deleted_entry_cannot_be_submitted(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    api.delete(f"{PATH}/{entry['id']}")

    assert api.post(f"{PATH}/{entry['id']}/submit").status_code == 404


def test_transition_with_a_stale_etag_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    entry = create_entry(api, PATH, entry_body(staffing))
    act(api, PATH, entry["id"], "submit")

    response = api.post(f"{PATH}/{entry['id']}/approve", **{"If-Match": '"1"'})

    assert response.status_code == 412
    assert api.get(f"{PATH}/{entry['id']}").json["status"] == "SUBMITTED"


def test_entries_are_listed_by_status_and_date_range(api: Api, staffing: dict[str, Any]) -> None:
    early = create_entry(api, PATH, entry_body(staffing, date="2026-03-03"))
    late = create_entry(api, PATH, entry_body(staffing, date="2026-03-20"))
    act(api, PATH, late["id"], "submit")

    submitted = api.get(f"{PATH}?status=SUBMITTED").json["items"]
    in_range = api.get(f"{PATH}?date_from=2026-03-01&date_to=2026-03-10").json["items"]

    assert [entry["id"] for entry in submitted] == [late["id"]]
    assert [entry["id"] for entry in in_range] == [early["id"]]


def test_listing_by_project_or_resource_finds_the_same_entries_as_a_full_filter(api: Api,
                                                                              staffing: dict[str, Any]) -> None:
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        assert api.post(PATH, entry_body(staffing, date=day)).status_code == 201
    project_id, resource_id = staffing["project"]["id"], staffing["resource"]["id"]
    everything = api.get(PATH).json["items"]

    by_project = api.get(f"{PATH}?project_id={project_id}&date_from=2026-03-03").json["items"]
    by_resource = api.get(f"{PATH}?resource_id={resource_id}&status=DRAFT").json["items"]

    assert [e["id"] for e in by_project] == [e["id"] for e in everything if e["date"] >= "2026-03-03"]
    assert [e["id"] for e in by_resource] == [e["id"] for e in everything]
    assert len(everything) == 3
    assert api.get(f"{PATH}?project_id=PRJ-999999").json["items"] == []


def test_listing_a_project_week_finds_the_same_entries_as_a_full_filter(api: Api, staffing: dict[str, Any]) -> None:
    for day in ("2026-03-02", "2026-03-03", "2026-03-05", "2026-03-09", "2026-03-10"):
        assert api.post(PATH, entry_body(staffing, date=day)).status_code == 201
    project_id = staffing["project"]["id"]
    everything = api.get(PATH).json["items"]

    week = api.get(f"{PATH}?project_id={project_id}&date_from=2026-03-03&date_to=2026-03-09").json["items"]
    backwards = api.get(f"{PATH}?project_id={project_id}&date_from=2026-03-09&date_to=2026-03-03").json["items"]

    assert [e["id"] for e in week] == [e["id"] for e in everything if "2026-03-03" <= e["date"] <= "2026-03-09"]
    assert len(week) == 3
    assert backwards == []
