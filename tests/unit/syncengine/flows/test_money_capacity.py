"""Capped T&M with a change order booked as a separate capped contract: time beyond the own cap fills it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from harness.runner.world import World
from syncengine.flows import change_orders
from tests.unit.syncengine.flows.test_money_world import (
    WITH_DEAL_FLOW,
    Deal,
    assert_conformant,
    billing_run,
    call,
    correct_time,
    log_time,
    money_world,
    open_deal,
    records,
    settle,
    staff,
)


@pytest.fixture
def world() -> Iterator[World]:
    world = money_world((*WITH_DEAL_FLOW, change_orders.FLOW))
    yield world
    assert_conformant(world)


def separate_change(world: World, deal: Deal, amount_change: str, effective: str) -> str:
    amendment = call(world, "crm", "POST", "/amendments", {
        "opportunity_id": deal.opportunity_id, "description": "Second data source", "amount_change": amount_change,
        "hours_change": "0", "distinct": True, "priced_at_standalone": True, "effective_date": effective})
    for step in ("submit", "approve"):
        call(world, "crm", "POST", f"/amendments/{amendment['id']}/{step}")
    settle(world)
    [contract] = [c for c in records(world, "erp", "contracts") if c["source_id"] == amendment["id"]]
    return str(contract["id"])


def contract_of(world: World, entry_id: str) -> str:
    return next(str(t["contract_id"]) for t in records(world, "erp", "billable_transactions")
                if t["source_id"] == entry_id and t["status"] != "REVERSED")


def billed(world: World, contract_id: str) -> Decimal:
    return sum((Decimal(t["billed_amount"]) for t in records(world, "erp", "billable_transactions")
                if t["contract_id"] == contract_id), Decimal(0))


def test_time_beyond_the_own_cap_goes_to_the_separate_contract_in_force_up_to_its_cap(world: World) -> None:
    deal = open_deal(world, billing_model="CAPPED_TM", amount="3000.00")  # cap 3,000 at 150.00 an hour
    staff(world, deal)
    added = separate_change(world, deal, "1500.00", "2026-03-09")  # 1,500 more from Monday 9 March

    def approve(on: date, hours: str) -> str:
        entry_id = log_time(world, deal, on, hours)
        settle(world)  # one at a time: the rule fills contracts in posting order
        return entry_id

    first = [approve(date(2026, 3, day), "8.00") for day in (3, 4, 5)]  # 1,200 each: the third fills the cap
    before = approve(date(2026, 3, 6), "2.00")  # own contract full, no separate contract in force yet: held
    tenth = approve(date(2026, 3, 10), "8.00")  # 1,200 on the separate contract (300 left)
    eleventh = approve(date(2026, 3, 11), "4.00")  # 600: fills it
    twelfth = approve(date(2026, 3, 12), "2.00")  # every contract full: back on the own one, held

    assert [contract_of(world, e) for e in (*first, before)] == [deal.contract_id] * 4
    assert [contract_of(world, e) for e in (tenth, eleventh, twelfth)] == [added, added, deal.contract_id]

    correct_time(world, tenth, "4.00")  # 1,200 -> 600: reversed on the separate contract, room for the new one
    settle(world)
    [reversed_] = [t for t in records(world, "erp", "billable_transactions") if t["status"] == "REVERSED"]
    assert (reversed_["source_id"], reversed_["contract_id"]) == (tenth, added)
    assert contract_of(world, tenth) == added

    billing_run(world, deal, "2026-03-31")
    assert (billed(world, deal.contract_id), billed(world, added)) == (Decimal("3000.00"), Decimal("1200.00"))
    assert world.engine is not None and world.engine.ports.ledger.dead_letters() == []
