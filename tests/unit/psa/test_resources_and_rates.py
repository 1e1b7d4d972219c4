"""Resources synced from HCM, their cost rates, rate cards and the bill rate of an assignment."""

from __future__ import annotations

from tests.unit.psa.builders import Api, assign, create_project, upsert_resource

WORKER = {"name": "Amara Osei", "role": "SENIOR_CONSULTANT", "legal_entity": "UK01", "practice": "OPERATIONS",
          "worker_type": "EMPLOYEE", "active": True, "source_version": 1}


def test_resource_is_created_from_its_hcm_worker_with_201(api: Api) -> None:
    response = api.put("/resources/WRK-000007", WORKER)

    assert response.status_code == 201
    resource = response.json
    assert (resource["id"], resource["worker_id"], resource["source_system"]) == ("WRK-000007", "WRK-000007", "hcm")
    assert resource["cost_rates"] == []
    assert api.event_types() == ["psa.resource.upserted"]


def test_resource_is_replaced_with_200_and_keeps_its_cost_rates(api: Api) -> None:
    upsert_resource(api)

    response = api.put("/resources/WRK-000007", {**WORKER, "role": "MANAGER", "source_version": 2})

    assert response.status_code == 200
    assert (response.json["role"], response.json["source_version"]) == ("MANAGER", 2)
    assert len(response.json["cost_rates"]) == 2


def test_repeating_the_same_worker_changes_nothing(api: Api) -> None:
    first = api.put("/resources/WRK-000007", WORKER)

    again = api.put("/resources/WRK-000007", WORKER)

    assert (again.status_code, again.json["version"]) == (200, first.json["version"])
    assert api.event_types() == ["psa.resource.upserted"]


def test_resource_with_an_unknown_practice_is_refused(api: Api) -> None:
    response = api.put("/resources/WRK-000007", {**WORKER, "practice": "LEGAL"})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "unknown-practice")


def test_cost_rates_are_replaced_sorted_by_effective_date(api: Api) -> None:
    api.put("/resources/WRK-000007", WORKER)

    response = api.put("/resources/WRK-000007/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-01", "hourly_cost": "66", "currency": "GBP", "source_version": 2},
        {"effective_from": "2025-01-01", "hourly_cost": "62.5", "currency": "GBP", "source_version": 1},
    ]})

    assert [(rate["effective_from"], rate["hourly_cost"]) for rate in response.json["cost_rates"]] == [
        ("2025-01-01", "62.50"), ("2026-01-01", "66.00")]
    assert api.event_types()[-1] == "psa.resource.cost_rates_changed"


def test_two_cost_rates_on_one_date_are_refused(api: Api) -> None:
    api.put("/resources/WRK-000007", WORKER)
    rate = {"effective_from": "2026-01-01", "hourly_cost": "66", "currency": "GBP", "source_version": 2}

    response = api.put("/resources/WRK-000007/cost-rates", {"cost_rates": [rate, rate]})

    assert (response.status_code, response.json["field"]) == (422, "cost_rates/1")


def test_cost_rates_of_an_unknown_resource_are_404(api: Api) -> None:
    response = api.put("/resources/WRK-000099/cost-rates", {"cost_rates": []})

    assert response.status_code == 404


def test_default_rate_cards_exist_for_each_currency(api: Api) -> None:
    cards = api.get("/rate-cards?default=true").json["items"]

    assert sorted(card["currency"] for card in cards) == ["EUR", "GBP", "USD"]


def test_assignment_takes_the_default_card_rate_on_its_start_date(api: Api) -> None:
    project = create_project(api)
    resource = upsert_resource(api)

    before = assign(api, project["id"], resource["id"], start_date="2026-03-02")

    assert (before["role"], before["bill_rate"], before["bill_rate_source"]) == (
        "SENIOR_CONSULTANT", "182.00", "DEFAULT_RATE_CARD")
    assert before["currency"] == "GBP"


def test_assignment_takes_the_project_rate_card_when_the_contract_has_one(api: Api) -> None:
    rates = [{"role": "SENIOR_CONSULTANT", "bill_rate": "170", "effective_from": "2026-01-01"}]
    project = create_project(api, rates=rates)
    resource = upsert_resource(api)

    assignment = assign(api, project["id"], resource["id"])

    assert (assignment["bill_rate"], assignment["bill_rate_source"]) == ("170.00", "PROJECT_RATE_CARD")
    card = api.get(f"/rate-cards/{project['rate_card_id']}").json
    assert card["project_id"] == project["id"]


def test_role_missing_from_the_project_card_falls_back_to_the_default_card(api: Api) -> None:
    project = create_project(api, rates=[{"role": "PARTNER", "bill_rate": "400", "effective_from": "2026-01-01"}])
    resource = upsert_resource(api)

    assignment = assign(api, project["id"], resource["id"], role="ANALYST")

    assert (assignment["bill_rate"], assignment["bill_rate_source"]) == ("120.00", "DEFAULT_RATE_CARD")


def test_assignment_bill_rate_override_wins(api: Api) -> None:
    project = create_project(api)
    resource = upsert_resource(api)

    assignment = assign(api, project["id"], resource["id"], bill_rate="155.5")

    assert (assignment["bill_rate"], assignment["bill_rate_source"]) == ("155.50", "OVERRIDE")


def test_assignment_before_any_rate_is_effective_is_refused(api: Api) -> None:
    project = create_project(api, start_date="2024-06-03")
    resource = upsert_resource(api)

    response = api.post("/assignments", {"project_id": project["id"], "resource_id": resource["id"],
                                         "start_date": "2024-06-03", "end_date": "2024-06-28",
                                         "hours_per_week": "40"})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "missing-bill-rate")


def test_inactive_resource_cannot_be_assigned(api: Api) -> None:
    project = create_project(api)
    resource = upsert_resource(api, active=False)

    response = api.post("/assignments", {"project_id": project["id"], "resource_id": resource["id"],
                                         "start_date": "2026-03-02", "end_date": "2026-03-31",
                                         "hours_per_week": "40"})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "resource-inactive")


def test_assignment_outside_the_project_dates_is_refused(api: Api) -> None:
    project = create_project(api)
    resource = upsert_resource(api)

    response = api.post("/assignments", {"project_id": project["id"], "resource_id": resource["id"],
                                         "start_date": "2026-05-25", "end_date": "2026-06-30",
                                         "hours_per_week": "40"})

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "invalid-dates")


def test_assignment_to_an_unknown_project_names_the_field(api: Api) -> None:
    resource = upsert_resource(api)

    response = api.post("/assignments", {"project_id": "PRJ-000404", "resource_id": resource["id"],
                                         "start_date": "2026-03-02", "end_date": "2026-03-31",
                                         "hours_per_week": "40"})

    assert (response.status_code, response.json["field"]) == (404, "project_id")


def test_assignment_end_date_can_be_shortened(api: Api) -> None:
    project = create_project(api)
    resource = upsert_resource(api)
    assignment = assign(api, project["id"], resource["id"])

    response = api.patch(f"/assignments/{assignment['id']}", {"end_date": "2026-03-13", "hours_per_week": "16"})

    assert (response.json["end_date"], response.json["hours_per_week"]) == ("2026-03-13", "16.00")
    assert api.event_types("psa.assignment.") == ["psa.assignment.created", "psa.assignment.updated"]


def test_project_rate_card_is_replaced_through_its_sync_endpoint(api: Api) -> None:
    project = create_project(api)
    path = f"/projects/{project['id']}/rate-card"
    rates = [{"role": "CONSULTANT", "bill_rate": "165", "effective_from": "2026-01-01"}]

    first = api.put(path, {"contract_version": 1, "rates": rates})
    second = api.put(path, {"contract_version": 2, "rates": [
        *rates, {"role": "CONSULTANT", "bill_rate": "175", "effective_from": "2026-04-01"}]})

    card = api.get(f"/rate-cards/{second.json['rate_card_id']}").json
    assert first.json["rate_card_id"] != project["rate_card_id"]
    assert (card["project_id"], card["contract_version"]) == (project["id"], 2)
    assert [rate["bill_rate"] for rate in card["rates"]] == ["165.00", "175.00"]
    assert api.event_types("psa.rate_card.") == ["psa.rate_card.created", "psa.rate_card.updated"]
