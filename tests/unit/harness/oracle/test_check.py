"""The oracle's entry point: every invariant, in order, passing on a consistent firm, never crashing."""

from __future__ import annotations

from harness.oracle import check
from harness.oracle.model import INVARIANT_IDS
from tests.unit.harness.oracle.world import World, violations


def test_every_invariant_passes_on_a_consistent_firm(world: World) -> None:
    results = world.check()

    assert {invariant_id: result.violations for invariant_id, result in results.items()} == {
        invariant_id: [] for invariant_id in INVARIANT_IDS}
    assert all(result.checked > 0 for result in results.values())


def test_results_come_one_per_invariant_in_the_published_order(world: World) -> None:
    results = check(world.truth(), world.states, world.engine)

    assert [result.id for result in results] == list(INVARIANT_IDS)
    assert all(result.to_dict()["status"] == "pass" for result in results)


def test_an_empty_firm_passes_with_nothing_checked() -> None:
    results = check([], {}, {"exceptions": [], "dead_letters": [], "in_flight": 0})

    assert [result.status for result in results] == ["pass"] * len(INVARIANT_IDS)


def test_an_unreadable_truth_fact_fails_every_invariant_naming_it(world: World) -> None:
    world.fact("time_approved", time_entry_id="TIM-000001")["hours"] = "seven"

    results = world.check()

    assert all(result.status == "fail" for result in results.values())
    assert "truth fact #" in results["converged"].violations[0].actual


def test_an_unreadable_system_record_fails_its_invariant_instead_of_crashing(world: World) -> None:
    world.record("erp", "invoices", "INV-000001")["total"] = "lots"

    results = world.check()

    assert results["ar-ties-out"].status == "fail"
    assert violations(results["ar-ties-out"]) == ["ar-ties-out"]
    assert "INV-000001/total" in results["ar-ties-out"].violations[0].actual
    assert results["time-billed-exactly-once"].status == "pass"


def test_exports_can_be_given_as_a_list_and_picked_by_kind(world: World) -> None:
    results = check(world.truth(), list(world.states.values()), world.engine)

    assert [result.status for result in results] == ["pass"] * len(INVARIANT_IDS)


def test_two_systems_of_one_kind_without_a_default_are_refused_clearly(world: World) -> None:
    legacy = {**world.states["erp"], "system": "erp-legacy"}
    states = {**world.states, "erp": {**world.states["erp"], "system": "erp-new"}, "erp-legacy": legacy}

    results = check(world.truth(), states, world.engine)

    assert results[0].violations[0].system == "harness"
    assert "2 erp systems" in results[0].violations[0].actual
