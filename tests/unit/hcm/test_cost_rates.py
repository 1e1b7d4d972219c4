"""Cost rates: effective-dated lookup, loaded cost from salary, and retroactive correction history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.hcm.conftest import Api


def add_rate(api: Api, worker: dict[str, Any], **body: Any) -> dict[str, Any]:
    """Add a cost rate and return it."""
    response = api.post(f"/workers/{worker['id']}/cost-rates", body)
    assert response.status_code == 201, response.get_json()
    rate: dict[str, Any] = response.get_json()
    return rate


def rate_on(api: Api, worker: dict[str, Any], day: str) -> str | None:
    """Return the hourly cost in effect on a day."""
    items = api.get(f"/workers/{worker['id']}/cost-rates?as_of={day}").get_json()["items"]
    assert len(items) <= 1
    return items[0]["hourly_cost"] if items else None


@pytest.fixture
def raised(api: Api, worker: dict[str, Any]) -> dict[str, Any]:
    """Return a worker hired at 65.00 on 2 March 2026 with a raise to 70.00 from 1 January 2027."""
    add_rate(api, worker, effective_from="2026-03-02", reason="HIRE", hourly_cost="65")
    add_rate(api, worker, effective_from="2027-01-01", reason="ANNUAL_RAISE", hourly_cost="70.00")
    return worker


def test_new_rate_is_in_the_entity_currency_and_announced_as_created(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/cost-rates",
                        {"effective_from": "2026-03-02", "reason": "HIRE", "hourly_cost": "65.5"})

    rate = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"/cost-rates/{rate['id']}"
    assert (rate["hourly_cost"], rate["currency"], rate["legal_entity"]) == ("65.50", "GBP", "UK01")
    assert (rate["revision"], rate["status"], rate["retroactive"]) == (1, "ACTIVE", False)
    assert api.get(f"/cost-rates/{rate['id']}").get_json() == rate
    assert api.events()[-1]["type"] == "hcm.cost_rate.created"
    assert api.events()[-1]["data"] == rate


@pytest.mark.parametrize("day,expected", [
    ("2026-03-01", None),
    ("2026-03-02", "65.00"),
    ("2026-12-31", "65.00"),
    ("2027-01-01", "70.00"),
    ("2030-06-15", "70.00"),
])
def test_as_of_returns_the_rate_in_effect_on_that_day(api: Api, raised: dict[str, Any], day: str,
                                                      expected: str | None) -> None:
    assert rate_on(api, raised, day) == expected


def test_salary_gives_loaded_cost_with_employee_burden_and_46_week_capacity(api: Api, worker: dict[str, Any]) -> None:
    rate = add_rate(api, worker, effective_from="2026-03-02", reason="HIRE", annual_salary="95000")

    # 95,000 × 1.30 ÷ (37.5 h × 46 weeks = 1,725 h) = 71.5942… -> 71.59
    assert rate["hourly_cost"] == "71.59"
    assert rate["basis"] == {"annual_salary": "95000.00", "burden_multiplier": "1.30", "annual_capacity_hours": 1725}


def test_salary_with_explicit_burden_and_capacity_rounds_half_up(api: Api, worker: dict[str, Any]) -> None:
    rate = add_rate(api, worker, effective_from="2026-03-02", reason="HIRE", annual_salary="1000",
                    burden_multiplier="1.125", annual_capacity_hours=1000)

    assert rate["hourly_cost"] == "1.13"  # 1.125 exactly, half-up


def test_contractor_salary_carries_no_burden(api: Api, hire: Callable[..., dict[str, Any]]) -> None:
    contractor = hire(worker_type="CONTRACTOR", legal_entity="US01", email="marcus.johnson@firmsim.example")

    rate = add_rate(api, contractor, effective_from="2026-03-02", reason="HIRE", annual_salary="184000")

    assert rate["hourly_cost"] == "100.00"  # 184,000 × 1.00 ÷ (40 × 46 = 1,840)
    assert rate["currency"] == "USD"


def test_hourly_cost_and_salary_together_are_refused_by_the_spec(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/cost-rates", {
        "effective_from": "2026-03-02", "reason": "HIRE", "hourly_cost": "65", "annual_salary": "95000"})

    assert response.status_code == 400


def test_rate_in_another_currency_is_refused(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/cost-rates",
                        {"effective_from": "2026-03-02", "reason": "HIRE", "hourly_cost": "65", "currency": "EUR"})

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/currency-not-allowed"


def test_rate_before_the_hire_date_is_refused(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/cost-rates",
                        {"effective_from": "2026-03-01", "reason": "HIRE", "hourly_cost": "65"})

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-effective-date"


def test_second_rate_for_the_same_date_needs_reason_correction(api: Api, raised: dict[str, Any]) -> None:
    response = api.post(f"/workers/{raised['id']}/cost-rates",
                        {"effective_from": "2027-01-01", "reason": "ANNUAL_RAISE", "hourly_cost": "72"})

    assert response.status_code == 409
    assert rate_on(api, raised, "2027-01-01") == "70.00"


def test_correction_supersedes_the_rate_and_keeps_the_history(api: Api, raised: dict[str, Any]) -> None:
    original = api.get(f"/workers/{raised['id']}/cost-rates?as_of=2027-01-01").get_json()["items"][0]

    correction = add_rate(api, raised, effective_from="2027-01-01", reason="CORRECTION", hourly_cost="72.00",
                          note="Raise letter said 72")

    superseded = api.get(f"/cost-rates/{original['id']}").get_json()
    assert (correction["revision"], correction["supersedes"], correction["retroactive"]) == (2, original["id"], True)
    assert (superseded["status"], superseded["superseded_by"]) == ("SUPERSEDED", correction["id"])
    assert rate_on(api, raised, "2027-03-01") == "72.00"
    history = api.get(f"/workers/{raised['id']}/cost-rates").get_json()["items"]
    assert [rate["hourly_cost"] for rate in history] == ["65.00", "70.00", "72.00"]
    current = api.get(f"/workers/{raised['id']}/cost-rates?include_superseded=false").get_json()["items"]
    assert [rate["hourly_cost"] for rate in current] == ["65.00", "72.00"]
    assert api.events()[-1]["type"] == "hcm.cost_rate.corrected"
    assert api.events()[-1]["data"] == correction


def test_correcting_a_correction_counts_revisions_up(api: Api, raised: dict[str, Any]) -> None:
    add_rate(api, raised, effective_from="2027-01-01", reason="CORRECTION", hourly_cost="72.00")

    again = add_rate(api, raised, effective_from="2027-01-01", reason="CORRECTION", hourly_cost="71.00")

    assert again["revision"] == 3
    assert rate_on(api, raised, "2027-01-01") == "71.00"


def test_backdated_rate_is_a_retroactive_correction(api: Api, raised: dict[str, Any]) -> None:
    backdated = add_rate(api, raised, effective_from="2026-09-01", reason="PROMOTION", hourly_cost="68.00")

    assert backdated["retroactive"] is True
    assert backdated["supersedes"] is None
    assert api.events()[-1]["type"] == "hcm.cost_rate.corrected"
    assert [rate_on(api, raised, day) for day in ("2026-08-31", "2026-09-01", "2027-01-01")] == [
        "65.00", "68.00", "70.00"]


def test_correction_of_a_leavers_rate_is_allowed_up_to_the_termination_date(api: Api, raised: dict[str, Any]) -> None:
    api.post(f"/workers/{raised['id']}/terminate", {"termination_date": "2027-02-28"})

    inside = api.post(f"/workers/{raised['id']}/cost-rates",
                      {"effective_from": "2027-01-01", "reason": "CORRECTION", "hourly_cost": "69"})
    after = api.post(f"/workers/{raised['id']}/cost-rates",
                     {"effective_from": "2027-03-01", "reason": "ANNUAL_RAISE", "hourly_cost": "75"})

    assert inside.status_code == 201
    assert after.status_code == 422


def test_cost_rate_history_pages_with_cursors(api: Api, worker: dict[str, Any]) -> None:
    for year in range(2026, 2031):
        add_rate(api, worker, effective_from=f"{year}-04-01", reason="ANNUAL_RAISE", hourly_cost=f"{year - 1960}")

    page = api.get(f"/workers/{worker['id']}/cost-rates?limit=3").get_json()
    rest = api.get(f"/workers/{worker['id']}/cost-rates?limit=3&cursor={page['next_cursor']}").get_json()

    assert [rate["hourly_cost"] for rate in page["items"] + rest["items"]] == [
        "66.00", "67.00", "68.00", "69.00", "70.00"]
    assert rest["next_cursor"] is None


def test_rates_of_an_unknown_worker_are_404(api: Api) -> None:
    assert api.get("/workers/WRK-000404/cost-rates?as_of=2026-03-02").status_code == 404
    assert api.get("/cost-rates/CRT-000404").status_code == 404
