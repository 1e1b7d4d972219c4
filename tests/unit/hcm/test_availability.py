"""Availability: capacity minus approved time off, per ISO week."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.hcm.conftest import Api


def availability(api: Api, worker: dict[str, Any], start: str, end: str) -> dict[str, Any]:
    """Return a worker's availability between two days."""
    response = api.get(f"/workers/{worker['id']}/availability?from={start}&to={end}")
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def weeks(body: dict[str, Any]) -> list[tuple[str, int, str, str, str]]:
    """Return each week as (week, working days, capacity, time off, available)."""
    return [(week["week"], week["working_days"], week["capacity_hours"], week["time_off_hours"],
             week["available_hours"]) for week in body["weeks"]]


def book(api: Api, worker: dict[str, Any], start: str, end: str, approve: bool = True, **extra: Any) -> None:
    """Request time off and approve it unless told not to."""
    time_off = api.post(f"/workers/{worker['id']}/time-off",
                        {"start_date": start, "end_date": end, "kind": "VACATION", **extra}).get_json()
    if approve:
        assert api.post(f"/time-off/{time_off['id']}/approve").status_code == 200


def test_partial_weeks_count_only_working_days_in_the_range(api: Api, worker: dict[str, Any]) -> None:
    body = availability(api, worker, "2026-03-04", "2026-03-17")  # Wednesday to the Tuesday a week later

    assert weeks(body) == [
        ("2026-W10", 3, "22.50", "0.00", "22.50"),
        ("2026-W11", 5, "37.50", "0.00", "37.50"),
        ("2026-W12", 2, "15.00", "0.00", "15.00"),
    ]
    assert (body["capacity_hours"], body["available_hours"], body["weekly_capacity_hours"]) == (
        "75.00", "75.00", "37.50")


def test_approved_time_off_reduces_availability_but_requested_does_not(api: Api, worker: dict[str, Any]) -> None:
    book(api, worker, "2026-03-09", "2026-03-11")
    book(api, worker, "2026-03-16", "2026-03-20", approve=False)

    body = availability(api, worker, "2026-03-09", "2026-03-22")

    assert weeks(body) == [
        ("2026-W11", 5, "37.50", "22.50", "15.00"),
        ("2026-W12", 5, "37.50", "0.00", "37.50"),
    ]
    assert (body["time_off_hours"], body["available_hours"]) == ("22.50", "52.50")


def test_cancelled_time_off_gives_the_hours_back(api: Api, worker: dict[str, Any]) -> None:
    book(api, worker, "2026-03-09", "2026-03-13")
    time_off_id = api.get(f"/workers/{worker['id']}/time-off").get_json()["items"][0]["id"]
    api.post(f"/time-off/{time_off_id}/cancel")

    assert weeks(availability(api, worker, "2026-03-09", "2026-03-13")) == [("2026-W11", 5, "37.50", "0.00", "37.50")]


def test_time_off_beyond_a_days_capacity_counts_only_up_to_it(api: Api, worker: dict[str, Any]) -> None:
    book(api, worker, "2026-03-09", "2026-03-09", hours_per_day="12")

    assert weeks(availability(api, worker, "2026-03-09", "2026-03-13")) == [("2026-W11", 5, "37.50", "7.50", "30.00")]


def test_no_capacity_before_hire_or_after_termination(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-03-11"})

    body = availability(api, worker, "2026-02-23", "2026-03-15")

    assert weeks(body) == [
        ("2026-W09", 0, "0.00", "0.00", "0.00"),
        ("2026-W10", 5, "37.50", "0.00", "37.50"),
        ("2026-W11", 3, "22.50", "0.00", "22.50"),
    ]


def test_weeks_are_labelled_by_iso_year_across_new_year(api: Api, worker: dict[str, Any]) -> None:
    body = availability(api, worker, "2026-12-28", "2027-01-08")

    assert [(week["week"], week["week_start"]) for week in body["weeks"]] == [
        ("2026-W53", "2026-12-28"), ("2027-W01", "2027-01-04")]


@pytest.mark.parametrize("start,end", [("2026-03-10", "2026-03-09"), ("2026-03-02", "2028-03-03")])
def test_backwards_or_overlong_ranges_are_refused(api: Api, worker: dict[str, Any], start: str, end: str) -> None:
    response = api.get(f"/workers/{worker['id']}/availability?from={start}&to={end}")

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-date-range"


def test_range_at_the_end_of_the_calendar_does_not_overflow(api: Api, worker: dict[str, Any]) -> None:
    body = availability(api, worker, "9999-12-20", "9999-12-31")

    assert [week["week_start"] for week in body["weeks"]] == ["9999-12-20", "9999-12-27"]


def test_missing_range_is_a_validation_error(api: Api, worker: dict[str, Any]) -> None:
    response = api.get(f"/workers/{worker['id']}/availability?from=2026-03-02")

    assert response.status_code == 400
    assert response.get_json()["field"] == "to"
