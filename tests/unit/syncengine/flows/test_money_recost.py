"""A retroactive cost-rate correction in HCM reaches the ERP's cost actuals: staffing pushes the rates,
the PSA recosts approved time, the cost-actuals flow posts the corrected cumulative cost once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from harness.runner.world import World
from syncengine.flows import staffing
from tests.unit.syncengine.flows.test_money_world import (
    WITH_DEAL_FLOW,
    Deal,
    assert_conformant,
    call,
    log_time,
    money_world,
    open_deal,
    records,
    settle,
)

MILESTONES = [("Design signed off", "40000.00", False), ("Platform live", "60000.00", True)]


@pytest.fixture
def world() -> Iterator[World]:
    world = money_world((*WITH_DEAL_FLOW, staffing.FLOW))
    yield world
    assert_conformant(world)


@pytest.fixture
def deal(world: World) -> Deal:
    deal = open_deal(world, billing_model="FIXED_FEE", milestones=MILESTONES)
    worker = call(world, "hcm", "POST", "/workers", {
        "worker_type": "EMPLOYEE", "first_name": "Dana", "last_name": "Whitfield", "email": "dana.w@firm.example",
        "role": "CONSULTANT", "legal_entity": "US01", "practice": "TECHNOLOGY", "hire_date": "2026-01-05"})
    add_rate(world, worker["id"], "2026-01-05", "80.00", "HIRE")
    settle(world)
    call(world, "psa", "POST", "/assignments", {
        "project_id": deal.project_id, "resource_id": worker["id"], "role": "CONSULTANT", "start_date": "2026-03-02",
        "end_date": "2026-12-31", "hours_per_week": "40.00"})
    deal.resources.append(worker["id"])
    return deal


def add_rate(world: World, worker_id: str, effective_from: str, hourly_cost: str, reason: str) -> None:
    call(world, "hcm", "POST", f"/workers/{worker_id}/cost-rates",
         {"effective_from": effective_from, "reason": reason, "hourly_cost": hourly_cost, "currency": "USD"})


def cost_actuals(world: World) -> list[tuple[str, str, int]]:
    return sorted((actual["period"], actual["cumulative_cost"], actual["source_version"])
                  for actual in records(world, "erp", "cost_actuals"))


def recost_events(world: World) -> list[dict[str, Any]]:
    feed = call(world, "psa", "GET", "/events", params={"limit": 500})
    return [event for event in feed["items"] if event["type"] == "psa.time_entry.recosted"]


def test_a_retroactive_correction_restates_the_erp_cost_of_approved_time(world: World, deal: Deal) -> None:
    log_time(world, deal, date(2026, 3, 3), "8.00")
    log_time(world, deal, date(2026, 3, 4), "4.00")
    settle(world)
    assert cost_actuals(world) == [("2026-03", "960.00", 1)]

    add_rate(world, deal.resources[0], "2026-01-05", "77.02", "CORRECTION")
    settle(world)

    assert cost_actuals(world) == [("2026-03", "924.24", 2)]
    assert len(recost_events(world)) == 2
    assert world.engine is not None and world.engine.ports.ledger.exceptions() == []


def test_a_backdated_rate_recosts_only_the_time_in_its_window(world: World, deal: Deal) -> None:
    log_time(world, deal, date(2026, 3, 3), "8.00")
    later = log_time(world, deal, date(2026, 3, 5), "5.00")
    settle(world)

    add_rate(world, deal.resources[0], "2026-03-04", "90.00", "PROMOTION")
    settle(world)

    assert [event["data"]["id"] for event in recost_events(world)] == [later]
    assert cost_actuals(world) == [("2026-03", "1090.00", 2)]  # 8 h x 80.00 + 5 h x 90.00


def test_a_redelivered_recost_posts_nothing_again(world: World, deal: Deal) -> None:
    log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    add_rate(world, deal.resources[0], "2026-01-05", "70.00", "CORRECTION")
    settle(world)
    assert cost_actuals(world) == [("2026-03", "560.00", 2)]
    assert world.engine is not None

    for event in recost_events(world):
        world.engine.submit("psa", event, replay=True)
    settle(world)

    assert cost_actuals(world) == [("2026-03", "560.00", 2)]
    assert world.engine.ports.ledger.dead_letters() == []
