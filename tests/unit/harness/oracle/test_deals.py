"""opportunity-to-project, no-duplicate-customers and contract-versions-aligned catch what they promise."""

from __future__ import annotations

from tests.unit.harness.oracle.world import World, violations


def test_a_missing_project_is_named_by_its_deal(world: World) -> None:
    world.records("psa", "projects").remove(world.record("psa", "projects", "PRJ-000002"))

    result = world.check()["opportunity-to-project"]

    assert violations(result)[0] == "OPP-000002"
    assert result.violations[0].system == "psa"
    assert result.violations[0].expected == "1 project"


def test_a_second_contract_for_one_deal_is_caught(world: World) -> None:
    world.records("erp", "contracts").append({**world.record("erp", "contracts", "CON-000001"), "id": "CON-000009"})

    result = world.check()["opportunity-to-project"]

    assert result.violations[0].record_id == "OPP-000001"
    assert result.violations[0].actual == ["CON-000001", "CON-000009"]


def test_a_project_with_the_wrong_practice_names_the_project(world: World) -> None:
    world.record("psa", "projects", "PRJ-000003")["practice"] = "STRATEGY"

    result = world.check()["opportunity-to-project"]

    assert violations(result) == ["PRJ-000003"]
    assert (result.violations[0].expected, result.violations[0].actual) == ("TECHNOLOGY", "STRATEGY")


def test_a_contract_billing_another_company_is_caught(world: World) -> None:
    world.record("erp", "contracts", "CON-000002")["customer_id"] = "CUS-000001"

    result = world.check()["opportunity-to-project"]

    assert violations(result) == ["CON-000002"]
    assert "wrong customer" in result.violations[0].message


def test_a_missing_crm_write_back_is_caught(world: World) -> None:
    world.record("crm", "opportunities", "OPP-000003")["psa_project_id"] = None

    assert violations(world.check()["opportunity-to-project"]) == ["OPP-000003"]


def test_a_bad_record_that_went_through_is_a_stray_contract(world: World) -> None:
    world.records("erp", "contracts").append({**world.record("erp", "contracts", "CON-000001"), "id": "CON-000004",
                                              "crm_opportunity_id": "OPP-000004"})

    result = world.check()["opportunity-to-project"]

    assert violations(result) == ["CON-000004"]
    assert "missing_tax_registration" in result.violations[0].message


def test_a_fixed_bad_record_must_reach_the_systems(world: World) -> None:
    world.facts.append(("master_data_fixed", {"opportunity_id": "OPP-000004", "account_id": "ACC-000004",
                                              "kind": "tax_registration"}))

    result = world.check()["opportunity-to-project"]

    assert violations(result)[:2] == ["OPP-000004", "OPP-000004"]


def test_a_cancelled_deal_needs_a_terminated_contract_and_a_cancelled_project(world: World) -> None:
    world.facts.append(("deal_cancelled", {"opportunity_id": "OPP-000003", "effective_date": "2026-03-31",
                                           "unbilled_rule": "BILL"}))

    assert violations(world.check()["opportunity-to-project"]) == ["CON-000003", "PRJ-000003"]

    world.record("erp", "contracts", "CON-000003").update(
        status="TERMINATED", termination={"effective_date": "2026-03-31", "unbilled_rule": "BILL"})
    world.record("psa", "projects", "PRJ-000003")["status"] = "CANCELLED"
    assert world.check()["opportunity-to-project"].violations == []


def test_a_duplicate_customer_names_the_second_record(world: World) -> None:
    world.records("erp", "customers").append({"id": "CUS-000003", "crm_account_id": "ACC-000002",
                                              "legal_entity": "US01", "credit_hold": False})

    result = world.check()["no-duplicate-customers"]

    assert violations(result) == ["CUS-000003"]
    assert result.violations[0].actual == ["CUS-000001", "CUS-000003"]


def test_a_duplicate_account_linked_to_the_right_customer_is_fine(world: World) -> None:
    world.record("crm", "accounts", "ACC-000002")["erp_customer_number"] = "CUS-000001"

    assert world.check()["no-duplicate-customers"].violations == []


def test_an_account_linked_to_another_company_is_caught(world: World) -> None:
    world.record("crm", "accounts", "ACC-000002")["erp_customer_number"] = "CUS-000002"

    result = world.check()["no-duplicate-customers"]

    assert violations(result) == ["ACC-000002"]
    assert result.violations[0].actual == "CUS-000002 (globex)"


def test_an_account_with_a_won_deal_must_be_linked(world: World) -> None:
    world.record("crm", "accounts", "ACC-000003")["erp_customer_number"] = None

    assert violations(world.check()["no-duplicate-customers"]) == ["ACC-000003"]


def test_an_ignored_change_order_is_caught_in_every_system_that_missed_it(world: World) -> None:
    world.record("erp", "contracts", "CON-000002").update(source_version=1, total_price="50000.00")
    world.record("psa", "projects", "PRJ-000002").update(contract_version=1, budget_amount="50000.00")

    result = world.check()["contract-versions-aligned"]

    assert violations(result) == ["CON-000002", "PRJ-000002"]
    assert result.violations[0].expected == [2, "60000.00"]
    assert result.violations[0].actual == [1, "50000.00"]


def test_a_right_version_with_the_wrong_amount_is_caught(world: World) -> None:
    world.record("crm", "opportunities", "OPP-000002")["contract_amount"] = "60000.01"

    assert violations(world.check()["contract-versions-aligned"]) == ["OPP-000002"]


def test_a_bad_deal_fixed_by_cancelling_and_rebooking_never_reaches_the_systems(world: World) -> None:
    world.facts += [("deal_cancelled", {"opportunity_id": "OPP-000004", "effective_date": "2026-02-02",
                                        "unbilled_rule": "WRITE_OFF"}),
                    ("master_data_fixed", {"opportunity_id": "OPP-000004", "account_id": "ACC-000004",
                                           "kind": "unknown_practice"})]

    assert world.check()["opportunity-to-project"].violations == []


def test_one_company_may_be_a_customer_of_each_legal_entity(world: World) -> None:
    world.records("erp", "customers").append({"id": "CUS-000003", "crm_account_id": "ACC-000001",
                                              "legal_entity": "UK01", "credit_hold": False})

    assert world.check()["no-duplicate-customers"].violations == []


def test_a_capped_deal_needs_its_cap_in_the_erp(world: World) -> None:
    world.fact("deal_won", opportunity_id="OPP-000001").update(billing_model="CAPPED_TM", cap_amount="100000.00")
    plan = world.record("erp", "contracts", "CON-000001")["billing_plan"]
    plan["cap_amount"] = "100000.00"
    assert world.check()["contract-versions-aligned"].violations == []

    plan["cap_amount"] = "90000.00"
    assert violations(world.check()["contract-versions-aligned"]) == ["CON-000001"]


def _separate_change(world: World) -> None:
    """Make truth's change order AMD-000001 (OPP-000002, +10000 to 60000) distinct and at standalone price."""
    world.fact("contract_amended", amendment_id="AMD-000001").update(distinct=True, priced_at_standalone=True)


def _book_separately(world: World) -> None:
    """Book AMD-000001 as a contract of its own holding its milestone; the deal's contract back at version 1."""
    contract = world.record("erp", "contracts", "CON-000002")
    plan = contract["billing_plan"]
    added = [milestone for milestone in plan["milestones"] if milestone["name"] == "Change order 1"]
    world.records("erp", "contracts").append({**contract, "id": "CON-000009", "source_id": "AMD-000001",
                                              "source_version": 2, "total_price": "10000.00",
                                              "billing_plan": {**plan, "milestones": added}})
    contract.update(source_version=1, total_price="50000.00",
                    billing_plan={**plan, "milestones": [m for m in plan["milestones"] if m not in added]})


def test_a_separate_change_order_booked_as_its_own_contract_leaves_the_deal_contract_untouched(world: World) -> None:
    _separate_change(world)
    _book_separately(world)

    results = world.check()

    for invariant in ("contract-versions-aligned", "opportunity-to-project", "converged",
                      "milestones-billed-exactly-once"):
        assert results[invariant].violations == [], invariant


def test_a_separate_change_order_applied_as_a_version_of_the_deal_contract_is_caught(world: World) -> None:
    _separate_change(world)

    results = world.check()

    versions = results["contract-versions-aligned"]
    assert violations(versions) == ["CON-000002", "AMD-000001"]
    assert versions.violations[0].expected == [1, "50000.00"]
    assert versions.violations[1].expected == "1 contract"
    assert "AMD-000001" in " ".join(v.message for v in results["converged"].violations)


def test_a_separate_contract_with_the_wrong_price_is_caught(world: World) -> None:
    _separate_change(world)
    _book_separately(world)
    world.record("erp", "contracts", "CON-000009")["total_price"] = "60000.00"

    result = world.check()["contract-versions-aligned"]

    assert violations(result) == ["CON-000009"]
    assert (result.violations[0].expected, result.violations[0].actual) == ({"total_price": "10000.00"},
                                                                            {"total_price": "60000.00"})


def test_a_contract_booked_from_an_ordinary_change_order_is_a_stray_contract(world: World) -> None:
    _book_separately(world)

    result = world.check()["opportunity-to-project"]

    assert violations(result) == ["CON-000009"]
    assert "not record as a separate contract" in result.violations[0].message


def test_a_cancelled_deal_whose_separate_contract_stays_active_is_caught(world: World) -> None:
    _separate_change(world)
    _book_separately(world)
    world.facts.append(("deal_cancelled", {"opportunity_id": "OPP-000002", "effective_date": "2026-03-20",
                                           "unbilled_rule": "BILL"}))
    termination = {"effective_date": "2026-03-20", "unbilled_rule": "BILL"}
    world.record("erp", "contracts", "CON-000002").update(status="TERMINATED", termination=termination)
    world.record("psa", "projects", "PRJ-000002")["status"] = "CANCELLED"

    result = world.check()["opportunity-to-project"]

    assert violations(result) == ["CON-000009"]
    assert result.violations[0].actual == ["ACTIVE", None, None]
