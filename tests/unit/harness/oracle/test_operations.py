"""exceptions-surfaced and converged: bad records raise exactly one exception; nothing is left behind."""

from __future__ import annotations

from typing import Any

from tests.unit.harness.oracle.world import World, violations


def engine(world: World) -> dict[str, Any]:
    assert world.engine is not None
    return world.engine


def test_a_bad_record_that_raised_no_exception_is_caught(world: World) -> None:
    engine(world)["exceptions"] = []

    result = world.check()["exceptions-surfaced"]

    assert violations(result) == ["OPP-000004"]
    assert result.violations[0].expected == "1 missing-tax-registration exception"


def test_a_bad_record_raising_two_exceptions_is_caught(world: World) -> None:
    first = engine(world)["exceptions"][0]
    engine(world)["exceptions"].append({**first, "id": "EXC-000002", "message_id": "crm-000050/create_delivery"})

    assert violations(world.check()["exceptions-surfaced"]) == ["OPP-000004"]


def test_a_bad_record_raising_the_wrong_kind_is_caught(world: World) -> None:
    engine(world)["exceptions"][0]["reason"] = "unknown-practice"

    assert violations(world.check()["exceptions-surfaced"]) == ["OPP-000004", "EXC-000001"]


def test_an_exception_from_a_clean_record_is_caught(world: World) -> None:
    engine(world)["exceptions"].append({"id": "EXC-000002", "flow": "time_billing", "key": "project:PRJ-000001",
                                        "message_id": "psa-000101/post_time", "reason": "missing-bill-rate",
                                        "payload": {"event": {"subject": "TIM-000001"}}, "status": "RESOLVED"})

    result = world.check()["exceptions-surfaced"]

    assert violations(result) == ["EXC-000002"]
    assert result.violations[0].actual == "missing-bill-rate on project:PRJ-000001 (RESOLVED)"


def test_an_exception_naming_the_opportunity_only_in_its_payload_counts(world: World) -> None:
    engine(world)["exceptions"][0].update(key="account:ACC-000004", message_id="crm-000042/x",
                                          payload={"event": {"subject": "OPP-000004"}})

    assert world.check()["exceptions-surfaced"].violations == []


def test_without_an_engine_view_the_systems_still_show_a_bad_record_that_went_through(world: World) -> None:
    world.engine = None
    world.records("psa", "projects").append({**world.record("psa", "projects", "PRJ-000001"), "id": "PRJ-000004",
                                             "crm_opportunity_id": "OPP-000004"})

    result = world.check()["exceptions-surfaced"]

    assert violations(result) == ["PRJ-000004"]
    assert result.notes == ["no engine view: only what the systems show is checked"]


def test_a_billing_run_exception_no_bad_record_explains_is_caught(world: World) -> None:
    world.record("erp", "billing_runs", "BRN-000001")["exceptions"] = [{
        "contract_id": "CON-000001", "customer_id": "CUS-000001",
        "type": "https://firmsim.dev/problems/missing-tax-registration"}]

    assert violations(world.check()["exceptions-surfaced"]) == ["BRN-000001"]


def test_an_unexplained_dead_letter_is_caught(world: World) -> None:
    engine(world)["dead_letters"] = [{"id": "DLQ-000001", "flow": "time_billing", "key": "project:PRJ-000001",
                                      "reason": "permanent-failure", "detail": "400 from ERP"}]

    result = world.check()["converged"]

    assert violations(result) == ["DLQ-000001"]
    assert result.violations[0].message == "unexplained dead letter: 400 from ERP"


def test_an_explained_dead_letter_is_fine(world: World) -> None:
    engine(world)["dead_letters"] = [{"id": "DLQ-000001", "reason": "malformed-event", "key": "x"}]
    engine(world)["explained_dead_letters"] = {"DLQ-000001": "fault F-3 corrupted a webhook body"}

    assert world.check()["converged"].violations == []


def test_work_still_in_flight_is_caught(world: World) -> None:
    engine(world)["in_flight"] = 3

    assert violations(world.check()["converged"]) == ["in-flight"]


def test_a_fixed_record_whose_exception_is_still_open_is_caught(world: World) -> None:
    world.facts.append(("master_data_fixed", {"opportunity_id": "OPP-000004", "account_id": "ACC-000004",
                                              "kind": "tax_registration"}))

    result = world.check()["converged"]

    assert "EXC-000001" in violations(result)
    assert "OPP-000004" in violations(result)


def test_approved_work_that_never_reached_the_erp_is_caught(world: World) -> None:
    world.records("erp", "billable_transactions").remove(world.record("erp", "billable_transactions", "BTX-000004"))

    assert violations(world.check()["converged"]) == ["EXP-000001 revision 1"]


def test_a_change_order_that_never_reached_psa_is_caught(world: World) -> None:
    world.record("psa", "projects", "PRJ-000002")["contract_version"] = 1

    result = world.check()["converged"]

    assert [(v.system, v.record_id, v.expected) for v in result.violations] == [
        ("psa", "OPP-000002", "contract version 2")]


def test_a_rebooked_bad_deal_may_leave_its_exception_open(world: World) -> None:
    world.facts += [("deal_cancelled", {"opportunity_id": "OPP-000004", "effective_date": "2026-02-02",
                                        "unbilled_rule": "WRITE_OFF"}),
                    ("master_data_fixed", {"opportunity_id": "OPP-000004", "account_id": "ACC-000004",
                                           "kind": "missing_tax_registration"})]

    assert world.check()["converged"].violations == []


def test_a_currency_the_entity_does_not_use_surfaces_as_the_erp_names_it(world: World) -> None:
    world.fact("deal_won", opportunity_id="OPP-000004")["expected_exception"] = "invalid_currency_for_entity"
    engine(world)["exceptions"][0]["reason"] = "currency-not-allowed"

    assert world.check()["exceptions-surfaced"].violations == []
