"""Weekly timesheets and bulk approval or return: one result per item, one bad item sinks nothing."""

from __future__ import annotations

from typing import Any

from tests.unit.psa.builders import Api, act, create_entry, create_project, entry_body, expense_body


def timesheet(staffing: dict[str, Any], entries: list[dict[str, Any]], submit: bool = True) -> dict[str, Any]:
    return {"resource_id": staffing["resource"]["id"], "week_start": "2026-03-02", "submit": submit,
            "entries": [{"project_id": staffing["project"]["id"], **entry} for entry in entries]}


def test_timesheet_creates_and_submits_the_good_entries_around_a_bad_one(api: Api, staffing: dict[str, Any]) -> None:
    body = timesheet(staffing, [
        {"date": "2026-03-02", "hours": "8", "task_id": "TSK-000002"},
        {"date": "2026-03-10", "hours": "8"},
        {"date": "2026-03-03", "hours": "7.5", "task_id": "TSK-000404"},
        {"date": "2026-03-04", "hours": "4", "billable": False, "notes": "Internal review"},
    ])

    response = api.post("/timesheets", body)

    assert response.status_code == 200
    results = response.json["results"]
    assert [(result["index"], result["status"]) for result in results] == [(0, 201), (1, 422), (2, 404), (3, 201)]
    assert results[1]["problem"]["type"].endswith("/outside-week")
    assert results[2]["problem"]["field"] == "task_id"
    entries = api.get("/time-entries").json["items"]
    assert [(entry["id"], entry["status"], entry["date"]) for entry in entries] == [
        (results[0]["id"], "SUBMITTED", "2026-03-02"), (results[3]["id"], "SUBMITTED", "2026-03-04")]
    assert api.event_types("psa.time_entry.") == ["psa.time_entry.created", "psa.time_entry.submitted"] * 2
    assert response.json["week_end"] == "2026-03-08"


def test_timesheet_without_submit_leaves_drafts(api: Api, staffing: dict[str, Any]) -> None:
    response = api.post("/timesheets", timesheet(staffing, [{"date": "2026-03-05", "hours": "8"}], submit=False))

    entry = api.get(f"/time-entries/{response.json['results'][0]['id']}").json
    assert entry["status"] == "DRAFT"


def test_timesheet_item_for_an_unassigned_project_gets_its_own_refusal(api: Api, staffing: dict[str, Any]) -> None:
    other = create_project(api, name="Contoso strategy review", practice="STRATEGY")
    body = timesheet(staffing, [{"date": "2026-03-02", "hours": "8"}])
    body["entries"].append({"project_id": other["id"], "date": "2026-03-03", "hours": "8"})

    results = api.post("/timesheets", body).json["results"]

    assert [result["status"] for result in results] == [201, 422]
    assert results[1]["problem"]["type"].endswith("/not-assigned")


def test_timesheet_week_must_start_on_a_monday(api: Api, staffing: dict[str, Any]) -> None:
    body = {**timesheet(staffing, [{"date": "2026-03-04", "hours": "8"}]), "week_start": "2026-03-03"}

    response = api.post("/timesheets", body)

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "invalid-week")
    assert "Tuesday" in response.json["detail"]
    assert api.get("/time-entries").json["items"] == []


def test_timesheet_of_an_unknown_resource_is_404(api: Api, staffing: dict[str, Any]) -> None:
    body = {**timesheet(staffing, [{"date": "2026-03-04", "hours": "8"}]), "resource_id": "WRK-000404"}

    assert api.post("/timesheets", body).status_code == 404


def test_bulk_approve_reports_each_outcome_and_approves_the_rest(api: Api, staffing: dict[str, Any]) -> None:
    submitted = [create_entry(api, "/time-entries", entry_body(staffing, date=f"2026-03-0{day}"))["id"]
                 for day in (2, 3)]
    for entry_id in submitted:
        act(api, "/time-entries", entry_id, "submit")
    draft = create_entry(api, "/time-entries", entry_body(staffing, date="2026-03-04"))["id"]

    response = api.post("/time-entries/bulk-approve", {"ids": [submitted[0], draft, "TIM-000404", submitted[1]]})

    assert response.status_code == 200
    assert [(r["index"], r["id"], r["status"]) for r in response.json["results"]] == [
        (0, submitted[0], 200), (1, draft, 409), (2, "TIM-000404", 404), (3, submitted[1], 200)]
    assert response.json["results"][1]["problem"]["type"].endswith("/invalid-transition")
    assert [api.get(f"/time-entries/{entry_id}").json["status"] for entry_id in (*submitted, draft)] == [
        "APPROVED", "APPROVED", "DRAFT"]
    assert [event["subject"] for event in api.events("psa.time_entry.approved")] == submitted


def test_bulk_approve_item_refused_by_a_business_rule_rolls_back_alone(api: Api, staffing: dict[str, Any]) -> None:
    early = create_entry(api, "/time-entries", entry_body(staffing, date="2026-03-02"))["id"]
    late = create_entry(api, "/time-entries", entry_body(staffing, date="2026-03-20"))["id"]
    for entry_id in (early, late):
        act(api, "/time-entries", entry_id, "submit")
    api.put(f"/resources/{staffing['resource']['id']}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-03-16", "hourly_cost": "66.00", "currency": "GBP", "source_version": 3}]})

    results = api.post("/time-entries/bulk-approve", {"ids": [early, late]}).json["results"]

    assert [result["status"] for result in results] == [422, 200]
    assert results[0]["problem"]["type"].endswith("/missing-cost-rate")
    actuals = api.get(f"/projects/{staffing['project']['id']}/cost-actuals?period=2026-03").json
    assert actuals["hours"]["in_period"] == "7.50"


def test_bulk_return_gives_every_entry_the_reason(api: Api, staffing: dict[str, Any]) -> None:
    entry_id = create_entry(api, "/time-entries", entry_body(staffing))["id"]
    act(api, "/time-entries", entry_id, "submit")
    approved = create_entry(api, "/time-entries", entry_body(staffing, date="2026-03-05"))["id"]
    act(api, "/time-entries", approved, "submit", "approve")

    response = api.post("/time-entries/bulk-return", {"ids": [entry_id, approved], "reason": "Use task 2.1"})

    assert [result["status"] for result in response.json["results"]] == [200, 409]
    entry = api.get(f"/time-entries/{entry_id}").json
    assert (entry["status"], entry["return_reason"]) == ("RETURNED", "Use task 2.1")


def test_bulk_approve_and_return_of_expenses(api: Api, staffing: dict[str, Any]) -> None:
    first, second = (create_entry(api, "/expenses", expense_body(staffing))["id"] for _ in range(2))
    for expense_id in (first, second):
        act(api, "/expenses", expense_id, "submit")

    approved = api.post("/expenses/bulk-approve", {"ids": [first, "EXP-000404"]}).json["results"]
    returned = api.post("/expenses/bulk-return", {"ids": [first, second], "reason": "Attach receipt"}).json["results"]

    assert [result["status"] for result in approved] == [200, 404]
    assert [result["status"] for result in returned] == [409, 200]
    assert api.get(f"/expenses/{second}").json["status"] == "RETURNED"


def test_bulk_request_with_duplicate_ids_is_refused(api: Api) -> None:
    response = api.post("/time-entries/bulk-approve", {"ids": ["TIM-000001", "TIM-000001"]})

    assert response.status_code == 400


def test_other_methods_on_a_bulk_path_are_405_not_taken_for_an_entry_id(api: Api) -> None:
    patched = api.patch("/time-entries/bulk-approve", {"hours": "1"})
    options = api.client.options("/expenses/bulk-return")

    assert (patched.status_code, patched.mimetype) == (405, "application/problem+json")
    assert patched.headers["Allow"] == "POST, OPTIONS"
    assert (options.status_code, options.headers["Allow"]) == (200, "POST, OPTIONS")
