"""Recosting: a cost-rate change from HCM revalues approved time in its effective-date window."""

from __future__ import annotations

from typing import Any

from tests.unit.psa.builders import Api, act, create_entry, entry_body

MARCH_RATES = [
    {"effective_from": "2026-01-01", "hourly_cost": "60.00", "currency": "GBP", "source_version": 1},
    {"effective_from": "2026-03-09", "hourly_cost": "66.00", "currency": "GBP", "source_version": 2},
]


def approve(api: Api, staffing: dict[str, Any], **overrides: Any) -> str:
    entry_id = str(create_entry(api, "/time-entries", entry_body(staffing, **overrides))["id"])
    act(api, "/time-entries", entry_id, "submit", "approve")
    return entry_id


def replace_rates(api: Api, staffing: dict[str, Any], rates: list[dict[str, Any]]) -> None:
    response = api.put(f"/resources/{staffing['resource']['id']}/cost-rates", {"cost_rates": rates})
    assert response.status_code == 200, response.json


def time_cost(api: Api, staffing: dict[str, Any], period: str) -> dict[str, str]:
    response = api.get(f"/projects/{staffing['project']['id']}/cost-actuals?period={period}")
    assert response.status_code == 200
    return {line["currency"]: line["cumulative"]["time"] for line in response.json["costs"]}


def entry(api: Api, entry_id: str) -> dict[str, Any]:
    response = api.get(f"/time-entries/{entry_id}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json
    return result


def test_retroactive_correction_recosts_approved_time_in_its_window_only(api: Api, staffing: dict[str, Any]) -> None:
    before = approve(api, staffing, date="2026-03-04", hours="8")
    inside = approve(api, staffing, date="2026-03-10", hours="7.50")

    replace_rates(api, staffing, [MARCH_RATES[0], {**MARCH_RATES[1], "hourly_cost": "64.00", "source_version": 3}])

    assert entry(api, before)["cost_amount"] == "480.00"
    recosted = entry(api, inside)
    assert (recosted["cost_rate"], recosted["cost_amount"]) == ("64.00", "480.00")
    approval = recosted["approvals"][-1]
    assert (approval["cost_rate"], approval["cost_amount"], approval["bill_amount"]) == (
        "64.00", "480.00", recosted["bill_amount"])
    assert approval["cost_adjustments"] == [{
        "previous_cost_rate": "66.00", "previous_cost_amount": "495.00", "previous_cost_currency": "GBP",
        "cost_rate": "64.00", "cost_amount": "480.00", "cost_currency": "GBP", "rate_source_version": 3,
        "adjusted_at": approval["cost_adjustments"][0]["adjusted_at"]}]
    assert time_cost(api, staffing, "2026-03") == {"GBP": "960.00"}
    recosts = [event for event in api.events() if event["type"] == "psa.time_entry.recosted"]
    assert [event["data"]["id"] for event in recosts] == [inside]


def test_unchanged_rates_and_unapproved_time_are_not_recosted(api: Api, staffing: dict[str, Any]) -> None:
    approved = approve(api, staffing, date="2026-03-10", hours="8")
    draft = str(create_entry(api, "/time-entries", entry_body(staffing, date="2026-03-11", hours="8"))["id"])

    replace_rates(api, staffing, [*MARCH_RATES, {"effective_from": "2026-04-01", "hourly_cost": "70.00",
                                                 "currency": "GBP", "source_version": 3}])

    assert entry(api, approved)["approvals"][-1].get("cost_adjustments") is None
    assert entry(api, draft)["cost_amount"] is None
    assert "psa.time_entry.recosted" not in api.event_types()
    assert time_cost(api, staffing, "2026-03") == {"GBP": "528.00"}


def test_reopening_a_recosted_entry_reverses_its_corrected_cost(api: Api, staffing: dict[str, Any]) -> None:
    entry_id = approve(api, staffing, date="2026-03-10", hours="8")
    replace_rates(api, staffing, [MARCH_RATES[0], {**MARCH_RATES[1], "hourly_cost": "61.25", "source_version": 3}])

    act(api, "/time-entries", entry_id, "reopen")

    assert time_cost(api, staffing, "2026-03") == {"GBP": "0.00"}
    act(api, "/time-entries", entry_id, "submit", "approve")
    assert time_cost(api, staffing, "2026-03") == {"GBP": "490.00"}


def test_a_rate_moved_to_another_currency_recosts_in_that_currency(api: Api, staffing: dict[str, Any]) -> None:
    approve(api, staffing, date="2026-03-10", hours="4")

    replace_rates(api, staffing, [MARCH_RATES[0], {**MARCH_RATES[1], "hourly_cost": "75.00", "currency": "EUR",
                                                   "source_version": 3}])

    assert time_cost(api, staffing, "2026-03") == {"EUR": "300.00", "GBP": "0.00"}


def test_replaying_the_same_rates_recosts_nothing_twice(api: Api, staffing: dict[str, Any]) -> None:
    entry_id = approve(api, staffing, date="2026-03-10", hours="8")
    corrected = [MARCH_RATES[0], {**MARCH_RATES[1], "hourly_cost": "64.00", "source_version": 3}]

    replace_rates(api, staffing, corrected)
    replace_rates(api, staffing, corrected)

    assert len(entry(api, entry_id)["approvals"][-1]["cost_adjustments"]) == 1
    assert api.event_types().count("psa.time_entry.recosted") == 1
    assert time_cost(api, staffing, "2026-03") == {"GBP": "512.00"}
