"""revenue-matches-policy: each contract's revenue at the last run, recomputed from truth, to the cent."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.unit.harness.oracle.world import World, violations


def figure(world: World, contract_id: str) -> dict[str, str]:
    return next(r for r in world.records("erp", "revenue_records") if r["contract_id"] == contract_id)


def test_revenue_off_by_a_cent_names_the_figure(world: World) -> None:
    figure(world, "CON-000002")["cumulative_revenue"] = "8062.51"

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000002"]
    assert (result.violations[0].expected, result.violations[0].actual) == ("8062.50", "8062.51")


def test_a_cost_to_cost_difference_shows_both_measures(world: World) -> None:
    figure(world, "CON-000002").update(cumulative_revenue="8312.48", cumulative_cost="3324.99",
                                       estimate_at_completion="24000.00")

    message = world.check()["revenue-matches-policy"].violations[0].message

    assert message.endswith("truth: labour cost 3225.00 / EAC 24000.00, ERP: cost 3324.99 / EAC 24000.00")


@pytest.mark.parametrize(("contract_id", "wrong", "why"), [
    ("CON-000002", "6718.75", "change order ignored: 50,000 x 3,225 / 24,000"),
    ("CON-000002", "8000.00", "retroactive cost-rate correction ignored: 3,200 / 24,000 x 60,000"),
    ("CON-000002", "8312.48", "reimbursable expense counted as cost: 3,324.99 / 24,000 x 60,000"),
    ("CON-000001", "3746.44", "reopened revision valued instead of its correction"),
    ("CON-000003", "15000.00", "retainer billed in advance taken as earned"),
])
def test_each_kind_of_revenue_error_is_caught(world: World, contract_id: str, wrong: str, why: str) -> None:
    figure(world, contract_id)["cumulative_revenue"] = wrong

    result = world.check()["revenue-matches-policy"]

    assert [v.actual for v in result.violations] == [wrong], why


def test_a_contract_with_revenue_due_and_no_figure_is_caught(world: World) -> None:
    world.records("erp", "revenue_records").remove(figure(world, "CON-000001"))

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["CON-000001"]
    assert result.violations[0].expected == "3226.44"


def test_work_approved_after_the_run_belongs_to_the_next_run(world: World) -> None:
    world.facts.append(("time_approved", {
        "time_entry_id": "TIM-000006", "revision": 1, "project_id": "PRJ-000001", "opportunity_id": "OPP-000001",
        "resource_id": "WRK-000001", "role": "CONSULTANT", "date": "2026-02-27", "hours": "8", "billable": True,
        "bill_rate": "190.125", "amount": "1521.00", "currency": "USD"}))

    assert world.check()["revenue-matches-policy"].violations == []


def test_a_wrong_contract_position_is_caught(world: World) -> None:
    figure(world, "CON-000001")["unbilled_receivable"] = "10.00"

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000001"]
    assert result.violations[0].expected == {"contract_asset": "0.00", "contract_liability": "0.00",
                                             "unbilled_receivable": "0.00"}


def test_a_fixed_fee_contract_recognized_under_another_policy_is_caught(world: World) -> None:
    world.record("erp", "contracts", "CON-000002")["revenue_policy"] = "POINT_IN_TIME"

    assert violations(world.check()["revenue-matches-policy"]) == ["CON-000002"]


def test_without_an_estimate_at_completion_the_contract_is_noted_not_failed(world: World) -> None:
    world.facts = [(kind, data) for kind, data in world.facts if kind != "estimate_set"]

    result = world.check()["revenue-matches-policy"]

    assert result.violations == []
    assert result.checked == 3  # T&M, retainer, and the fixed fee's pass-through expenses (no estimate needed)
    assert any("CON-000002" in note and "no estimate at completion" in note for note in result.notes)


def test_labour_costed_in_another_currency_is_noted_not_failed(world: World) -> None:
    world.fact("cost_rate_set", cost_rate_id="CRT-000003")["currency"] = "GBP"

    result = world.check()["revenue-matches-policy"]

    assert result.violations == []
    assert any("truth has no FX rate" in note for note in result.notes)


def test_no_revenue_run_means_nothing_to_compare(world: World) -> None:
    world.facts = [(kind, data) for kind, data in world.facts if kind != "revenue_run"]

    result = world.check()["revenue-matches-policy"]

    assert (result.violations, result.checked) == ([], 0)
    assert result.notes == ["no revenue run for US01 in truth; its revenue is not checked",
                            "nothing in this run exercised this invariant (it passes vacuously)"]


def test_figures_nested_in_revenue_runs_are_read_too(world: World) -> None:
    records = world.states["erp"]["records"].pop("revenue_records")
    world.records("erp", "revenue_runs").append({"id": "RRN-000001", "legal_entity": "US01", "period": "2026-02",
                                                 "results": records})
    assert world.check()["revenue-matches-policy"].violations == []

    records[1]["cumulative_revenue"] = "1.00"
    assert violations(world.check()["revenue-matches-policy"]) == ["RVR-000002"]


def _approve_shortly_before_the_run(world: World, minutes: int) -> None:
    """Approve 8 h of February work on OPP-000001 `minutes` before the revenue run starts."""
    run = next(index for index, (kind, _) in enumerate(world.facts) if kind == "revenue_run")
    world.facts.insert(run, ("time_approved", {
        "time_entry_id": "TIM-000006", "revision": 1, "project_id": "PRJ-000001", "opportunity_id": "OPP-000001",
        "resource_id": "WRK-000001", "role": "CONSULTANT", "date": "2026-02-27", "hours": "8", "billable": True,
        "bill_rate": "190.125", "amount": "1521.00", "currency": "USD"}))
    run_position = run + 2
    world.stamps[run_position - 1] = datetime.fromisoformat(world.stamp(run_position)) - timedelta(minutes=minutes)
    for name in ("unbilled_receivable", "contract_asset", "contract_liability"):
        figure(world, "CON-000001").pop(name)


@pytest.mark.parametrize("shown", ["3226.44", "4747.44"])
def test_work_approved_minutes_before_the_run_may_or_may_not_be_in_it(world: World, shown: str) -> None:
    _approve_shortly_before_the_run(world, minutes=30)
    unbilled = Decimal(shown) - Decimal("3226.44")
    figure(world, "CON-000001").update(cumulative_revenue=shown, unbilled_receivable=f"{unbilled:f}")

    assert world.check()["revenue-matches-policy"].violations == []


def test_work_approved_hours_before_the_run_must_be_in_it(world: World) -> None:
    _approve_shortly_before_the_run(world, minutes=180)

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000001"]
    assert (result.violations[0].expected, result.violations[0].actual) == ("4747.44", "3226.44")


def test_a_figure_matching_neither_view_of_the_settling_work_names_both(world: World) -> None:
    _approve_shortly_before_the_run(world, minutes=30)
    figure(world, "CON-000001")["cumulative_revenue"] = "4000.00"

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000001"]
    assert "(or 3226.44 without the facts still settling)" in result.violations[0].message


def _amend_retainer(world: World, amount_change: str, *, separate: bool = False) -> None:
    run = next(index for index, (kind, _) in enumerate(world.facts) if kind == "revenue_run")
    world.facts.insert(run, ("contract_amended", {
        "opportunity_id": "OPP-000003", "amendment_id": "AMD-000002", "contract_version": 2,
        "contract_amount": f"{30000 + Decimal(amount_change):f}", "amount_change": amount_change,
        "effective_date": "2026-02-16", "distinct": separate, "priced_at_standalone": separate}))
    for name in ("contract_asset", "contract_liability"):
        figure(world, "CON-000003").pop(name)


def test_a_retainer_extended_at_its_fee_still_earns_the_fee_each_month(world: World) -> None:
    _amend_retainer(world, "10000.00")  # two more months at 5,000

    assert world.check()["revenue-matches-policy"].violations == []


def test_a_retainer_lump_sum_is_caught_up_over_the_whole_service(world: World) -> None:
    _amend_retainer(world, "2500.00")  # not a whole number of months: 2,500 x 2 of 6 months by February

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000003"]
    assert result.violations[0].expected == "10833.33"


def test_a_retainer_change_order_that_is_a_separate_contract_leaves_the_deals_contract_untouched(
        world: World) -> None:
    # change-orders seed 505: a one-month retainer extended by a month at standalone price (its own ERP
    # contract, R5 branch 1); the oracle expected the deal's contract to earn the second month too.
    _amend_retainer(world, "2500.00", separate=True)

    assert world.check()["revenue-matches-policy"].violations == []


def test_a_deal_that_never_got_a_contract_still_owes_its_revenue(world: World) -> None:
    world.records("erp", "contracts").remove(world.record("erp", "contracts", "CON-000003"))
    world.records("erp", "revenue_records").remove(figure(world, "CON-000003"))

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["OPP-000003"]
    assert result.violations[0].expected == "10000.00"


def _pass_through(world: World) -> dict[str, str]:
    return next(r for r in world.records("erp", "revenue_records") if r.get("stream") == "PASS_THROUGH_EXPENSES")


@pytest.mark.parametrize(("liability", "caught"), [("11937.50", False), ("12037.49", True)])
def test_expenses_billed_beside_a_fixed_fee_stay_out_of_its_contract_position(world: World, liability: str,
                                                                              caught: bool) -> None:
    # Earned 60,000 x 3,225 / 24,000 = 8,062.50; fee billed: Design 20,000 (INV-000002 also bills the
    # 99.99 expense, which is no part of the fee) -> contract liability 11,937.50, not 12,037.49.
    figure(world, "CON-000002").update(contract_asset="0.00", contract_liability=liability,
                                       unbilled_receivable="0.00")

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == (["RVR-000002"] if caught else [])
    if caught:
        assert result.violations[0].expected == {"contract_asset": "0.00", "contract_liability": "11937.50",
                                                 "unbilled_receivable": "0.00"}


def _approve_expense_before_the_run(world: World) -> None:
    """Approve a 50.00 billable expense on the fixed fee in February, before the run (so not yet billed)."""
    run = next(index for index, (kind, _) in enumerate(world.facts) if kind == "revenue_run")
    world.facts.insert(run, ("expense_approved", {
        "expense_id": "EXP-000003", "revision": 1, "project_id": "PRJ-000002", "opportunity_id": "OPP-000002",
        "resource_id": "WRK-000002", "date": "2026-02-12", "amount": "50.00", "currency": "USD", "billable": True}))


def test_an_unbilled_approved_expense_is_an_unbilled_receivable(world: World) -> None:
    _approve_expense_before_the_run(world)
    _pass_through(world).update(cumulative_revenue="149.99", unbilled_receivable="50.00")

    assert world.check()["revenue-matches-policy"].violations == []


@pytest.mark.parametrize("stated", [{"contract_asset": "50.00", "unbilled_receivable": "0.00"},
                                    {"unbilled_receivable": "0.00", "contract_liability": "0.00"}])
def test_an_unbilled_approved_expense_shown_as_a_contract_asset_or_not_at_all_is_caught(
        world: World, stated: dict[str, str]) -> None:
    _approve_expense_before_the_run(world)
    _pass_through(world).update(cumulative_revenue="149.99", **stated)

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000004"]
    assert result.violations[0].expected["unbilled_receivable"] == "50.00"
    assert "(pass-through expenses)" in result.violations[0].message


def test_pass_through_expenses_with_no_figure_are_caught(world: World) -> None:
    world.records("erp", "revenue_records").remove(_pass_through(world))

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["CON-000002"]
    assert result.violations[0].expected == "99.99"
    assert "no pass-through expense revenue" in result.violations[0].message
