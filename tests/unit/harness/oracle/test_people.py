"""cost-rates-aligned and credit-status-aligned: HCM truth in PSA, ERP credit holds in CRM and PSA."""

from __future__ import annotations

from tests.unit.harness.oracle.world import World, violations


def test_a_retroactive_correction_that_never_reached_psa_is_caught(world: World) -> None:
    world.record("psa", "resources", "WRK-000001")["cost_rates"][0]["hourly_cost"] = "80.00"

    result = world.check()["cost-rates-aligned"]

    assert violations(result) == ["WRK-000001"]
    assert result.violations[0].system == "psa"
    assert result.violations[0].expected == [["2026-01-01", "82.50", "USD"]]


def test_a_superseded_rate_still_active_in_hcm_is_caught(world: World) -> None:
    world.record("hcm", "cost_rates", "CRT-000002")["status"] = "SUPERSEDED"
    world.record("hcm", "cost_rates", "CRT-000001")["status"] = "ACTIVE"

    result = world.check()["cost-rates-aligned"]

    assert [(v.system, v.record_id) for v in result.violations] == [("hcm", "WRK-000001")]


def test_a_hired_worker_missing_from_psa_is_caught(world: World) -> None:
    world.records("psa", "resources").pop()

    assert violations(world.check()["cost-rates-aligned"]) == ["WRK-000002"]


def test_a_new_rate_missing_from_psa_is_caught(world: World) -> None:
    world.facts.append(("cost_rate_set", {"worker_id": "WRK-000002", "cost_rate_id": "CRT-000004",
                                          "effective_from": "2026-04-01", "hourly_cost": "125.00", "currency": "USD",
                                          "reason": "PROMOTION", "retroactive": False}))
    world.records("hcm", "cost_rates").append({"id": "CRT-000004", "worker_id": "WRK-000002", "status": "ACTIVE",
                                               "effective_from": "2026-04-01", "hourly_cost": "125.00",
                                               "currency": "USD"})

    assert violations(world.check()["cost-rates-aligned"]) == ["WRK-000002"]


def test_a_wrong_credit_hold_in_crm_names_the_account(world: World) -> None:
    world.record("crm", "accounts", "ACC-000003")["credit_hold"] = False

    result = world.check()["credit-status-aligned"]

    assert violations(result) == ["ACC-000003"]
    assert (result.violations[0].expected, result.violations[0].actual) == (True, False)


def test_a_project_still_on_hold_after_release_is_caught(world: World) -> None:
    world.record("erp", "customers", "CUS-000002")["credit_hold"] = False
    world.record("crm", "accounts", "ACC-000003")["credit_hold"] = False

    assert violations(world.check()["credit-status-aligned"]) == ["PRJ-000002"]


def test_a_project_never_told_of_a_hold_is_caught(world: World) -> None:
    world.record("psa", "projects", "PRJ-000002")["billing_status"] = None

    assert violations(world.check()["credit-status-aligned"]) == ["PRJ-000002"]


def test_a_project_linked_to_its_customer_by_number_alone_is_checked(world: World) -> None:
    project = world.record("psa", "projects", "PRJ-000002")
    project["erp_contract_id"], project["erp_customer_number"], project["billing_status"] = None, "CUS-000002", None

    assert violations(world.check()["credit-status-aligned"]) == ["PRJ-000002"]


def test_a_project_linked_by_contract_and_by_customer_number_is_checked_once(world: World) -> None:
    project = world.record("psa", "projects", "PRJ-000002")
    project["erp_customer_number"], project["billing_status"] = "CUS-000002", None

    assert violations(world.check()["credit-status-aligned"]) == ["PRJ-000002"]
