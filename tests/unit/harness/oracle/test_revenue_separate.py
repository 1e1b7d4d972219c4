"""revenue-matches-policy on change orders booked as separate contracts (R5 branch 1): each by its own terms."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.harness.oracle.world import World, violations

Record = dict[str, Any]


def _before_the_run(world: World, kind: str, data: Record) -> None:
    run = next(index for index, (fact_kind, _) in enumerate(world.facts) if fact_kind == "revenue_run")
    world.facts.insert(run, (kind, data))


def _separate(world: World, opportunity_id: str, amendment_id: str, contract_id: str, amount: str, effective: str,
              **contract: Any) -> Record:
    """Approve a separate change order (distinct, at standalone price) before the revenue run and book it as a
    contract of its own cloned from the deal's; return that contract."""
    won = world.fact("deal_won", opportunity_id=opportunity_id)
    _before_the_run(world, "contract_amended", {
        "opportunity_id": opportunity_id, "amendment_id": amendment_id, "contract_version": 2,
        "contract_amount": f"{float(won['amount']) + float(amount):.2f}", "amount_change": amount,
        "effective_date": effective, "distinct": True, "priced_at_standalone": True})
    world.records("crm", "amendments").append({"id": amendment_id, "opportunity_id": opportunity_id,
                                               "status": "APPROVED", "contract_version": 2})
    own = world.record("erp", "contracts", f"CON-00000{opportunity_id[-1]}")
    booked = {**own, "id": contract_id, "source_id": amendment_id, "source_version": 2, "total_price": amount,
              "start_date": effective, **contract}
    world.records("erp", "contracts").append(booked)
    return booked


def _figure(world: World, record_id: str, contract_id: str, revenue: str, **position: str) -> Record:
    record = {"id": record_id, "revenue_run_id": "RRN-000001", "contract_id": contract_id, "period": "2026-02",
              "cumulative_revenue": revenue, **position}
    world.records("erp", "revenue_records").append(record)
    return record


def figure(world: World, contract_id: str) -> Record:
    return next(r for r in world.records("erp", "revenue_records") if r["contract_id"] == contract_id)


def _capped(world: World, amount: str = "2000.00") -> None:
    """OPP-000001 capped T&M at 1,000 with a separate change order of `amount` from 2026-01-13 (CON-000009, capped
    at its price); the 6 h on 01-13 (1,560.00) and the 240.50 expense of 01-14 posted to CON-000009, the 7.5 h of
    01-12 (1,425.94) to the own contract, which holds 425.94 over its cap.

    Own contract: min(3,226.44 approved, cap 1,000) = 1,000.00, billed 3,226.44 -> liability 2,226.44.
    Separate: 1,560.00 + 240.50 = 1,800.50 (under its cap of 2,000), nothing billed -> unbilled 1,800.50.
    """
    world.fact("deal_won", opportunity_id="OPP-000001").update(billing_model="CAPPED_TM", cap_amount="1000.00")
    own = world.record("erp", "contracts", "CON-000001")
    own.update(billing_model="CAPPED_TM", billing_plan={**own["billing_plan"], "cap_amount": "1000.00"})
    _separate(world, "OPP-000001", "AMD-000009", "CON-000009", amount, "2026-01-13",
              billing_plan={**own["billing_plan"], "cap_amount": amount})
    for transaction_id in ("BTX-000003", "BTX-000004"):
        world.record("erp", "billable_transactions", transaction_id)["contract_id"] = "CON-000009"
    figure(world, "CON-000001").update(cumulative_revenue="1000.00", contract_liability="2226.44")
    _figure(world, "RVR-000009", "CON-000009", "1800.50", unbilled_receivable="1800.50", contract_asset="0.00",
            contract_liability="0.00")


def test_a_separate_capped_contract_earns_the_value_posted_to_it(world: World) -> None:
    _capped(world)

    result = world.check()

    assert result["revenue-matches-policy"].violations == []
    assert result["time-billed-exactly-once"].violations == []


@pytest.mark.parametrize(("wrong", "why"), [
    ("2000.00", "its whole cap taken as earned"),
    ("3226.44", "every approved value of the deal, as if it had no own contract"),
    ("1560.00", "its time without the expense posted to it"),
])
def test_a_mis_stated_separate_capped_contract_is_caught(world: World, wrong: str, why: str) -> None:
    _capped(world)
    figure(world, "CON-000009")["cumulative_revenue"] = wrong

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000009"], why
    assert (result.violations[0].expected, result.violations[0].actual) == ("1800.50", wrong)


def test_a_separate_capped_contract_earns_no_more_than_its_own_cap(world: World) -> None:
    _capped(world, amount="1500.00")  # 1,800.50 posted to it, capped at 1,500.00

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["RVR-000009", "RVR-000009"]  # the revenue, then its unbilled receivable
    assert (result.violations[0].expected, result.violations[0].actual) == ("1500.00", "1800.50")


def test_value_dated_before_the_separate_contract_took_effect_is_not_its_revenue(world: World) -> None:
    _capped(world)
    world.record("erp", "billable_transactions", "BTX-000001")["contract_id"] = "CON-000009"  # 2026-01-12
    figure(world, "CON-000009").update(cumulative_revenue="2000.00", unbilled_receivable="2000.00")

    result = world.check()["revenue-matches-policy"]

    assert next(v.expected for v in result.violations if v.record_id == "RVR-000009") == "1800.50"


def test_a_separate_contract_with_revenue_due_and_no_figure_is_caught(world: World) -> None:
    _capped(world)
    world.records("erp", "revenue_records").remove(figure(world, "CON-000009"))

    result = world.check()["revenue-matches-policy"]

    assert violations(result) == ["CON-000009"]
    assert result.violations[0].expected == "1800.50"


def _retainer(world: World) -> None:
    """OPP-000003: a one-month retainer (January, 5,000) extended by two months at standalone price (10,000, approved
    2026-01-16, change-orders seed 505's shape), booked as CON-000005 from 2026-02-01 to 2026-03-31.

    Own contract to February: 5,000.00 (January only). Separate: February's 5,000.00.
    """
    world.fact("deal_won", opportunity_id="OPP-000003").update(service_end="2026-01-31", amount="5000.00")
    _separate(world, "OPP-000003", "AMD-000005", "CON-000005", "10000.00", "2026-01-16")
    own = figure(world, "CON-000003")
    own["cumulative_revenue"] = "5000.00"
    for name in ("contract_asset", "contract_liability"):
        own.pop(name)
    _figure(world, "RVR-000005", "CON-000005", "5000.00")


def test_a_separate_retainer_earns_its_months_after_the_deals_own_service(world: World) -> None:
    _retainer(world)

    assert world.check()["revenue-matches-policy"].violations == []


@pytest.mark.parametrize(("contract_id", "wrong", "expected", "why"), [
    ("CON-000005", "10000.00", "5000.00", "both months taken at once"),
    ("CON-000005", "0.00", "5000.00", "its months not started"),
    ("CON-000003", "10000.00", "5000.00", "the deal's own contract extended by the separate one"),
])
def test_a_mis_stated_retainer_change_order_is_caught(world: World, contract_id: str, wrong: str, expected: str,
                                                      why: str) -> None:
    _retainer(world)
    figure(world, contract_id)["cumulative_revenue"] = wrong

    result = world.check()["revenue-matches-policy"]

    assert [(v.expected, v.actual) for v in result.violations] == [(expected, wrong)], why


def test_a_separate_retainer_that_is_not_whole_months_is_noted_not_failed(world: World) -> None:
    _retainer(world)
    world.fact("contract_amended", amendment_id="AMD-000005")["amount_change"] = "7500.00"

    result = world.check()["revenue-matches-policy"]

    assert result.violations == []
    assert any("CON-000005" in note and "whole number of monthly fees" in note for note in result.notes)


def _fixed_fee(world: World) -> None:
    """OPP-000002 (fixed fee) with a separate change order of 5,000 from 2026-02-02 adding milestone MIL-000003
    "Change order 2", completed 2026-02-10 without acceptance: CON-000006, recognized when it is done."""
    _before_the_run(world, "milestone_completed", {
        "milestone_id": "MIL-000003", "project_id": "PRJ-000002", "opportunity_id": "OPP-000002",
        "name": "Change order 2", "amount": "5000.00", "requires_acceptance": False, "completed_on": "2026-02-10"})
    _separate(world, "OPP-000002", "AMD-000006", "CON-000006", "5000.00", "2026-02-02",
              revenue_policy="POINT_IN_TIME",
              billing_plan={"milestones": [{"id": "M1", "name": "Change order 2", "amount": "5000.00",
                                            "status": "COMPLETED", "requires_acceptance": False,
                                            "source_system": "psa", "source_id": "MIL-000003",
                                            "source_version": 1}],
                            "retainer": None, "cap_amount": None, "eac": None})
    _figure(world, "RVR-000006", "CON-000006", "5000.00")


def test_a_separate_fixed_fee_contract_earns_its_milestone_when_done(world: World) -> None:
    _fixed_fee(world)

    result = world.check()["revenue-matches-policy"]

    assert [v for v in result.violations if v.record_id == "RVR-000006"] == []
    assert any("CON-000002" in note and "separate contract" in note for note in result.notes)  # own: cost unknown


def test_a_separate_fixed_fee_milestone_not_recognized_is_caught(world: World) -> None:
    _fixed_fee(world)
    figure(world, "CON-000006")["cumulative_revenue"] = "0.00"

    result = world.check()["revenue-matches-policy"]

    assert [(v.record_id, v.expected, v.actual) for v in result.violations] == [("RVR-000006", "5000.00", "0.00")]
