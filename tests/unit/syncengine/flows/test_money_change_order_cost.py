"""A change order taking effect inside a month: the ERP gets the project's cost to the day before it,
kept right as late approvals come in, so revenue closes the old terms on the work done under them (R5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from harness.runner.world import World
from syncengine.flows import change_orders, opportunity_to_project
from tests.unit.syncengine.flows.test_money_world import (
    MONEY_FLOWS,
    Deal,
    assert_conformant,
    call,
    engine_of,
    log_time,
    money_world,
    open_deal,
    records,
    settle,
    staff,
)


@pytest.fixture
def world() -> Iterator[World]:
    """Systems and an engine with the deal, change-order and money flows."""
    world = money_world((opportunity_to_project.FLOW, change_orders.FLOW, *MONEY_FLOWS))
    yield world
    assert_conformant(world)


@pytest.fixture
def deal(world: World) -> Deal:
    """A fixed fee of 100,000 (cost to cost), the PSA's estimate at completion 50,000, one consultant at 500.00/h."""
    deal = open_deal(world, billing_model="FIXED_FEE", amount="100000.00",
                     milestones=[("Delivery", "100000.00", False)])
    staff(world, deal, hourly_cost="500.00")
    call(world, "psa", "PUT", f"/projects/{deal.project_id}/estimate", {"eac_cost": "50000.00",
                                                                        "as_of": "2026-03-02"})
    return deal


def approve_change_order(world: World, deal: Deal, effective_date: str, hours_change: str = "0") -> None:
    """A change adding distinct services below their standalone price: +20,000, accounted prospectively."""
    amendment = call(world, "crm", "POST", "/amendments", {
        "opportunity_id": deal.opportunity_id, "description": "Second site", "amount_change": "20000.00",
        "hours_change": hours_change, "distinct": True, "priced_at_standalone": False, "effective_date": effective_date,
        "billing_milestones": [{"name": "Second site", "amount": "20000.00", "due_date": "2026-06-30",
                                "requires_acceptance": False}]})
    for step in ("submit", "approve"):
        call(world, "crm", "POST", f"/amendments/{amendment['id']}/{step}")


def cost_actuals(world: World) -> list[tuple[str, str, int]]:
    return sorted((actual["as_of"], actual["cumulative_cost"], actual["source_version"])
                  for actual in records(world, "erp", "cost_actuals"))


def march_revenue(world: World) -> dict[str, Any]:
    run = call(world, "erp", "POST", "/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})
    assert run["exceptions"] == []
    [result] = run["results"]
    return dict(result)


def test_mid_month_prospective_change_closes_the_old_terms_on_the_cost_to_its_eve(world: World, deal: Deal) -> None:
    for day in (3, 9):
        log_time(world, deal, date(2026, 3, day), "10.00")
    settle(world)
    approve_change_order(world, deal, "2026-03-16")
    settle(world)
    at_the_change = cost_actuals(world)
    log_time(world, deal, date(2026, 3, 12), "10.00")  # work before the change, approved after it
    for day in (17, 20):
        log_time(world, deal, date(2026, 3, day), "10.00")
    settle(world)

    assert at_the_change == [("2026-03-15", "10000.00", 1), ("2026-03-31", "10000.00", 1)]
    assert cost_actuals(world) == [("2026-03-15", "15000.00", 2), ("2026-03-31", "25000.00", 2)]
    march = march_revenue(world)
    # To 15 March: 100,000 x 15,000 / 50,000 = 30,000. Pool: 70,000 unrecognized + 20,000 = 90,000 over
    # the 35,000 of cost left; by 31 March 10,000 of it is spent: 30,000 + 90,000 x 10/35 = 55,714.29.
    # (On the cost to the month before, 0: 120,000 x 25,000 / 50,000 = 60,000.00.)
    assert (march["cumulative_revenue"], march["estimate_at_completion"]) == ("55714.29", "50000.00")
    assert [(a["effective_date"], a["kind"]) for a in march["adjustments"]] == [("2026-03-16", "PROSPECTIVE")]
    assert engine_of(world).ports.ledger.exceptions() == []
    assert engine_of(world).ports.ledger.dead_letters() == []


def test_change_on_the_first_of_a_month_needs_no_figure_inside_a_month(world: World, deal: Deal) -> None:
    log_time(world, deal, date(2026, 3, 3), "10.00")
    settle(world)
    approve_change_order(world, deal, "2026-04-01")
    settle(world)

    assert cost_actuals(world) == [("2026-03-31", "5000.00", 1)]
    assert [version["effective_date"] for version in records(world, "erp", "contract_versions")][-1] == "2026-04-01"


def test_change_before_any_cost_posts_a_zero_to_its_eve_that_later_approvals_fill(world: World, deal: Deal) -> None:
    approve_change_order(world, deal, "2026-03-16")
    settle(world)
    at_the_change = cost_actuals(world)
    log_time(world, deal, date(2026, 3, 4), "4.00")
    settle(world)

    # The zero marks the day, so the approval dated before it reaches that figure as well as March's.
    assert at_the_change == [("2026-03-15", "0.00", 1)]
    assert cost_actuals(world) == [("2026-03-15", "2000.00", 2), ("2026-03-31", "2000.00", 1)]


def test_change_order_keeps_the_project_managers_estimate_at_completion(world: World, deal: Deal) -> None:
    settle(world)
    approve_change_order(world, deal, "2026-03-16", hours_change="200")
    settle(world)

    contract = call(world, "erp", "GET", f"/contracts/{deal.contract_id}")
    estimates = [(e["effective_date"], e["eac"], e["source_system"]) for e in records(world, "erp", "estimates")]
    # the planning figure of the deal's terms at signing, then the PM's; the change order adds none
    assert estimates[1:] == [("2026-03-02", "50000.00", "psa")]
    assert (contract["source_version"], contract["billing_plan"]["eac"]) == (2, "50000.00")


def test_change_order_before_any_estimate_of_the_project_manager_carries_the_planning_one(world: World) -> None:
    deal = open_deal(world, billing_model="FIXED_FEE", amount="100000.00",
                     milestones=[("Delivery", "100000.00", False)])
    planning = call(world, "erp", "GET", f"/contracts/{deal.contract_id}")["billing_plan"]["eac"]
    approve_change_order(world, deal, "2026-03-16", hours_change="200")
    settle(world)

    contract = call(world, "erp", "GET", f"/contracts/{deal.contract_id}")
    assert contract["source_version"] == 2
    assert Decimal(contract["billing_plan"]["eac"]) > Decimal(planning)  # 200 more planned hours


def test_a_retroactive_rate_correction_restates_the_cost_to_the_eve_as_well(world: World, deal: Deal) -> None:
    for day in (3, 17):
        log_time(world, deal, date(2026, 3, day), "10.00")
    approve_change_order(world, deal, "2026-03-16")
    settle(world)
    before = cost_actuals(world)

    call(world, "psa", "PUT", f"/resources/{deal.resources[0]}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-01", "hourly_cost": "450.00", "currency": "USD", "source_version": 2}]})
    settle(world)

    assert before == [("2026-03-15", "5000.00", 1), ("2026-03-31", "10000.00", 1)]
    assert cost_actuals(world) == [("2026-03-15", "4500.00", 2), ("2026-03-31", "9000.00", 2)]
