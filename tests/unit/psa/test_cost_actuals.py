"""Cost actuals: approved cost of time and expenses by period, in-period and cumulative, per currency."""

from __future__ import annotations

from typing import Any

from tests.unit.psa.builders import Api, act, assign, create_entry, entry_body, expense_body


def actuals(api: Api, staffing: dict[str, Any], period: str) -> dict[str, Any]:
    response = api.get(f"/projects/{staffing['project']['id']}/cost-actuals?period={period}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json
    return result


def approve(api: Api, path: str, body: dict[str, Any]) -> str:
    entry_id = str(create_entry(api, path, body)["id"])
    act(api, path, entry_id, "submit", "approve")
    return entry_id


def test_project_without_approved_work_has_no_cost(api: Api, staffing: dict[str, Any]) -> None:
    create_entry(api, "/time-entries", entry_body(staffing))

    result = actuals(api, staffing, "2026-03")

    assert (result["period_start"], result["period_end"]) == ("2026-03-01", "2026-03-31")
    assert result["hours"] == {"in_period": "0.00", "cumulative": "0.00"}
    assert result["costs"] == []


def test_approved_time_and_expenses_are_summed_by_period_and_currency(api: Api, staffing: dict[str, Any]) -> None:
    assign(api, staffing["project"]["id"], staffing["resource"]["id"], start_date="2026-04-01",
           end_date="2026-04-30")
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-06", hours="8"))
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-09", hours="7.5"))
    approve(api, "/time-entries", entry_body(staffing, date="2026-04-01", hours="4"))
    approve(api, "/expenses", expense_body(staffing, date="2026-03-03", amount="184.60", currency="EUR"))
    approve(api, "/expenses", expense_body(staffing, date="2026-04-02", amount="38.20", currency="GBP"))
    create_entry(api, "/time-entries", entry_body(staffing, date="2026-03-10", hours="8"))

    march = actuals(api, staffing, "2026-03")
    april = actuals(api, staffing, "2026-04")

    assert march["hours"] == {"in_period": "15.50", "cumulative": "15.50"}
    assert march["costs"] == [
        {"currency": "EUR", "in_period": {"time": "0.00", "expenses": "184.60", "total": "184.60"},
         "cumulative": {"time": "0.00", "expenses": "184.60", "total": "184.60"}},
        {"currency": "GBP", "in_period": {"time": "975.00", "expenses": "0.00", "total": "975.00"},
         "cumulative": {"time": "975.00", "expenses": "0.00", "total": "975.00"}}]
    assert april["hours"] == {"in_period": "4.00", "cumulative": "19.50"}
    assert april["costs"][1] == {"currency": "GBP",
                                 "in_period": {"time": "264.00", "expenses": "38.20", "total": "302.20"},
                                 "cumulative": {"time": "1239.00", "expenses": "38.20", "total": "1277.20"}}
    assert april["costs"][0]["in_period"]["total"] == "0.00"


def test_earlier_period_does_not_see_later_cost(api: Api, staffing: dict[str, Any]) -> None:
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-06", hours="8"))

    february = actuals(api, staffing, "2026-02")

    assert february["hours"]["cumulative"] == "0.00"
    assert february["costs"] == []


def test_reopened_entry_counts_nothing_until_reapproved(api: Api, staffing: dict[str, Any]) -> None:
    entry_id = approve(api, "/time-entries", entry_body(staffing, date="2026-03-06", hours="8"))

    act(api, "/time-entries", entry_id, "reopen")
    while_reopened = actuals(api, staffing, "2026-03")
    api.patch(f"/time-entries/{entry_id}", {"hours": "6"})
    act(api, "/time-entries", entry_id, "submit", "approve")
    after = actuals(api, staffing, "2026-03")

    assert while_reopened["hours"]["in_period"] == "0.00"
    assert while_reopened["costs"][0]["in_period"]["time"] == "0.00"
    assert after["hours"]["in_period"] == "6.00"
    assert after["costs"][0]["in_period"]["time"] == "360.00"


def test_reopened_entry_moved_to_another_month_moves_its_cost(api: Api, staffing: dict[str, Any]) -> None:
    assign(api, staffing["project"]["id"], staffing["resource"]["id"], start_date="2026-04-01",
           end_date="2026-04-30")
    entry_id = approve(api, "/time-entries", entry_body(staffing, date="2026-03-31", hours="8"))

    act(api, "/time-entries", entry_id, "reopen")
    api.patch(f"/time-entries/{entry_id}", {"date": "2026-04-01"})
    act(api, "/time-entries", entry_id, "submit", "approve")

    assert actuals(api, staffing, "2026-03")["hours"]["in_period"] == "0.00"
    assert actuals(api, staffing, "2026-04")["hours"] == {"in_period": "8.00", "cumulative": "8.00"}


def test_cost_actuals_of_an_unknown_project_are_404(api: Api) -> None:
    assert api.get("/projects/PRJ-000404/cost-actuals?period=2026-03").status_code == 404


def test_period_must_be_a_calendar_month(api: Api, staffing: dict[str, Any]) -> None:
    response = api.get(f"/projects/{staffing['project']['id']}/cost-actuals?period=2026-13")

    assert (response.status_code, response.json["field"]) == (400, "period")


def through(api: Api, staffing: dict[str, Any], period: str, day: str) -> dict[str, Any]:
    response = api.get(f"/projects/{staffing['project']['id']}/cost-actuals?period={period}&through={day}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json
    return result


def test_cost_through_a_day_counts_only_work_dated_up_to_it(api: Api, staffing: dict[str, Any]) -> None:
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-06", hours="8"))
    reopened = approve(api, "/time-entries", entry_body(staffing, date="2026-03-09", hours="2"))
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-16", hours="6"))
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-17", hours="4"))
    act(api, "/time-entries", reopened, "reopen")

    eve = through(api, staffing, "2026-03", "2026-03-16")
    whole = actuals(api, staffing, "2026-03")

    # to the 16th: 8 h x 60.00 (6 March) + 6 h x 66.00 (rate from 9 March); the reopened 2 h count nothing
    # and the 17th's 4 h only in the month
    assert (eve["through"], eve["period_end"]) == ("2026-03-16", "2026-03-31")
    assert eve["hours"] == {"in_period": "14.00", "cumulative": "14.00"}
    assert eve["costs"][0]["cumulative"] == {"time": "876.00", "expenses": "0.00", "total": "876.00"}
    assert (whole["through"], whole["hours"]["cumulative"]) == ("2026-03-31", "18.00")


def test_cost_through_a_day_keeps_earlier_periods_whole(api: Api, staffing: dict[str, Any]) -> None:
    assign(api, staffing["project"]["id"], staffing["resource"]["id"], start_date="2026-04-01",
           end_date="2026-04-30")
    approve(api, "/time-entries", entry_body(staffing, date="2026-03-31", hours="8"))
    approve(api, "/time-entries", entry_body(staffing, date="2026-04-02", hours="5"))

    first_of_april = through(api, staffing, "2026-04", "2026-04-01")
    second_of_april = through(api, staffing, "2026-04", "2026-04-02")

    assert first_of_april["hours"] == {"in_period": "0.00", "cumulative": "8.00"}
    assert second_of_april["hours"] == {"in_period": "5.00", "cumulative": "13.00"}


def test_cost_through_a_day_outside_the_period_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    path = f"/projects/{staffing['project']['id']}/cost-actuals?period=2026-03"

    outside = api.get(f"{path}&through=2026-04-01")
    malformed = api.get(f"{path}&through=2026-03-32")

    assert (outside.status_code, outside.json["type"], outside.json["field"]) == (
        422, "https://firmsim.dev/problems/invalid-date", "through")
    assert "2026-04-01" in outside.json["detail"] and "2026-03" in outside.json["detail"]
    assert (malformed.status_code, malformed.json["field"]) == (400, "through")


def test_the_ledger_keeps_periods_and_days_in_date_order_whatever_the_order_of_approvals(
        api: Api, staffing: dict[str, Any]) -> None:
    from simulators.common.app import context_of

    assign(api, staffing["project"]["id"], staffing["resource"]["id"], start_date="2026-04-01",
           end_date="2026-04-30")
    for on in ("2026-04-02", "2026-03-20", "2026-03-05", "2026-03-20", "2026-04-01", "2026-03-05"):
        approve(api, "/time-entries", entry_body(staffing, date=on, hours="1"))
    ledger = context_of(api.client.application).store.get("cost_ledgers", staffing["project"]["id"])

    assert list(ledger["periods"]) == ["2026-03", "2026-04"]
    assert list(ledger["periods"]["2026-03"]["days"]) == ["2026-03-05", "2026-03-20"]
    assert list(ledger["periods"]["2026-04"]["days"]) == ["2026-04-01", "2026-04-02"]
    assert ledger["periods"]["2026-03"]["days"]["2026-03-05"]["hours"] == "2.00"
    assert ledger["periods"]["2026-03"]["hours"] == "4.00"
