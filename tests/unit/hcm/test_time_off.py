"""Time off: requests, their approval lifecycle, and the rules on dates and overlaps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.hcm.conftest import Api

SUMMER = {"start_date": "2026-08-10", "end_date": "2026-08-21", "kind": "VACATION", "note": "Summer holiday"}


def request_time_off(api: Api, worker: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Request time off (two summer weeks unless told otherwise) and return it."""
    response = api.post(f"/workers/{worker['id']}/time-off", {**SUMMER, **overrides})
    assert response.status_code == 201, response.get_json()
    time_off: dict[str, Any] = response.get_json()
    return time_off


def test_request_counts_working_days_at_the_daily_capacity(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/time-off", SUMMER)

    time_off = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"/time-off/{time_off['id']}"
    assert (time_off["status"], time_off["working_days"]) == ("REQUESTED", 10)
    assert (time_off["hours_per_day"], time_off["total_hours"]) == ("7.50", "75.00")
    assert api.events()[-1]["type"] == "hcm.time_off.requested"
    assert api.events()[-1]["data"] == time_off


def test_half_days_use_the_given_hours_per_day(api: Api, worker: dict[str, Any]) -> None:
    time_off = request_time_off(api, worker, start_date="2026-03-06", end_date="2026-03-09", kind="OTHER",
                                hours_per_day="3.75")

    assert (time_off["working_days"], time_off["total_hours"]) == (2, "7.50")  # Friday and Monday


@pytest.mark.parametrize("action,status,event", [
    ("approve", "APPROVED", "hcm.time_off.approved"),
    ("reject", "REJECTED", "hcm.time_off.rejected"),
    ("cancel", "CANCELLED", "hcm.time_off.cancelled"),
])
def test_requested_time_off_can_be_decided(api: Api, worker: dict[str, Any], clock: Any, action: str, status: str,
                                           event: str) -> None:
    time_off = request_time_off(api, worker)
    clock.advance(3600)

    response = api.post(f"/time-off/{time_off['id']}/{action}", {"comment": "Checked with the project"},
                        {"If-Match": '"1"'})

    decided = response.get_json()
    assert response.status_code == 200
    assert (decided["status"], decided["decided_at"], decided["decision_comment"]) == (
        status, "2026-03-02T10:00:00Z", "Checked with the project")
    assert api.events()[-1]["type"] == event
    assert api.events()[-1]["data"] == decided


def test_approved_time_off_can_still_be_cancelled(api: Api, worker: dict[str, Any]) -> None:
    time_off = request_time_off(api, worker)
    api.post(f"/time-off/{time_off['id']}/approve")

    response = api.post(f"/time-off/{time_off['id']}/cancel")

    assert (response.status_code, response.get_json()["status"]) == (200, "CANCELLED")


@pytest.mark.parametrize("first,then", [
    ("approve", "approve"), ("approve", "reject"),
    ("reject", "approve"), ("reject", "reject"), ("reject", "cancel"),
    ("cancel", "approve"), ("cancel", "reject"), ("cancel", "cancel"),
])
def test_decided_time_off_refuses_illegal_transitions(api: Api, worker: dict[str, Any], first: str, then: str) -> None:
    time_off = request_time_off(api, worker)
    api.post(f"/time-off/{time_off['id']}/{first}")
    events_before = api.event_types()

    response = api.post(f"/time-off/{time_off['id']}/{then}")

    assert response.status_code == 409
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-transition"
    assert api.event_types() == events_before


def test_decision_with_a_stale_etag_is_412(api: Api, worker: dict[str, Any]) -> None:
    time_off = request_time_off(api, worker)

    response = api.post(f"/time-off/{time_off['id']}/approve", headers={"If-Match": '"7"'})

    assert response.status_code == 412
    assert api.get(f"/time-off/{time_off['id']}").get_json()["status"] == "REQUESTED"


def test_overlapping_request_is_a_conflict_until_the_first_is_rejected(api: Api, worker: dict[str, Any]) -> None:
    first = request_time_off(api, worker)
    overlap = {**SUMMER, "start_date": "2026-08-21", "end_date": "2026-08-28"}

    refused = api.post(f"/workers/{worker['id']}/time-off", overlap)
    api.post(f"/time-off/{first['id']}/reject")
    accepted = api.post(f"/workers/{worker['id']}/time-off", overlap)

    assert refused.status_code == 409
    assert first["id"] in refused.get_json()["detail"]
    assert accepted.status_code == 201


@pytest.mark.parametrize("start,end", [
    ("2026-08-21", "2026-08-10"),  # end before start
    ("2026-08-08", "2026-08-09"),  # a weekend only
    ("2026-08-10", "2027-08-11"),  # longer than 366 days
])
def test_impossible_date_ranges_are_refused(api: Api, worker: dict[str, Any], start: str, end: str) -> None:
    response = api.post(f"/workers/{worker['id']}/time-off", {**SUMMER, "start_date": start, "end_date": end})

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-date-range"


def test_time_off_outside_employment_is_refused(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-08-14"})

    before_hire = api.post(f"/workers/{worker['id']}/time-off", {**SUMMER, "start_date": "2026-02-27"})
    after_leaving = api.post(f"/workers/{worker['id']}/time-off", SUMMER)

    assert before_hire.get_json()["type"] == "https://firmsim.dev/problems/outside-employment"
    assert after_leaving.get_json()["field"] == "end_date"


def test_time_off_list_filters_by_status(api: Api, worker: dict[str, Any]) -> None:
    summer = request_time_off(api, worker)
    autumn = request_time_off(api, worker, start_date="2026-10-26", end_date="2026-10-30")
    api.post(f"/time-off/{summer['id']}/approve")

    def ids(query: str) -> list[str]:
        return [item["id"] for item in api.get(f"/workers/{worker['id']}/time-off{query}").get_json()["items"]]

    assert ids("") == [summer["id"], autumn["id"]]
    assert ids("?status=APPROVED") == [summer["id"]]
    assert ids("?status=REQUESTED") == [autumn["id"]]


def test_time_off_of_an_unknown_record_is_404(api: Api) -> None:
    assert api.post("/workers/WRK-000404/time-off", SUMMER).status_code == 404
    assert api.post("/time-off/TOF-000404/approve").status_code == 404
