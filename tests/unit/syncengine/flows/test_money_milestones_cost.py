"""Milestones to ERP billing events, and PSA cost actuals and estimates to the ERP (cost-to-cost)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from harness.runner.world import World
from syncengine.domain.messages import SourceEvent
from syncengine.flows import cost_actuals
from syncengine.runtime.registry import BatchFailure
from tests.unit.syncengine.flows.test_money_world import (
    Deal,
    billing_run,
    call,
    engine_of,
    log_time,
    open_deal,
    records,
    settle,
    staff,
)

MILESTONES = [("Design signed off", "40000.00", False), ("Platform live", "60000.00", True)]


@pytest.fixture
def deal(world: World) -> Deal:
    deal = open_deal(world, billing_model="FIXED_FEE", milestones=MILESTONES)
    staff(world, deal, hourly_cost="80.00")
    return deal


def plan_milestones(world: World, deal: Deal) -> dict[str, dict[str, Any]]:
    contract = call(world, "erp", "GET", f"/contracts/{deal.contract_id}")
    return {milestone["id"]: milestone for milestone in contract["billing_plan"]["milestones"]}


def test_a_completed_milestone_is_completed_in_the_erp_and_billed_by_the_next_run(world: World, deal: Deal) -> None:
    psa_id, plan_id = deal.milestones[0]
    call(world, "psa", "POST", f"/milestones/{psa_id}/complete", {"completed_on": "2026-03-20"})
    settle(world)

    completed = plan_milestones(world, deal)[plan_id]
    assert (completed["status"], completed["completed_on"]) == ("COMPLETED", "2026-03-20")
    assert (completed["source_system"], completed["source_id"]) == ("psa", psa_id)
    run = billing_run(world, deal, "2026-03-31")

    [invoice] = records(world, "erp", "invoices")
    assert run["invoice_ids"] == [invoice["id"]]
    [line] = invoice["lines"]
    assert (line["kind"], line["milestone_id"], line["net_amount"]) == ("MILESTONE", plan_id, "40000.00")
    assert plan_milestones(world, deal)[plan_id]["status"] == "BILLED"
    assert billing_run(world, deal, "2026-04-30")["invoice_ids"] == []


def test_a_milestone_needing_acceptance_bills_only_once_accepted(world: World, deal: Deal) -> None:
    psa_id, plan_id = deal.milestones[1]
    call(world, "psa", "POST", f"/milestones/{psa_id}/complete", {"completed_on": "2026-03-20"})
    settle(world)
    assert billing_run(world, deal, "2026-03-31")["invoice_ids"] == []

    call(world, "psa", "POST", f"/milestones/{psa_id}/accept", {"accepted_on": "2026-04-02",
                                                               "accepted_by": "Hannah Okafor"})
    settle(world)

    accepted = plan_milestones(world, deal)[plan_id]
    assert (accepted["status"], accepted["accepted_on"]) == ("ACCEPTED", "2026-04-02")
    run = billing_run(world, deal, "2026-04-30")
    [invoice] = records(world, "erp", "invoices")
    assert run["invoice_ids"] == [invoice["id"]] and invoice["net_total"] == "60000.00"


def test_an_acceptance_seen_before_the_completion_still_completes_then_accepts(world: World, deal: Deal) -> None:
    psa_id, plan_id = deal.milestones[1]
    engine = engine_of(world)
    settle(world)
    cursor = engine.ports.ledger.cursor("psa")
    call(world, "psa", "POST", f"/milestones/{psa_id}/complete", {"completed_on": "2026-03-20"})
    call(world, "psa", "POST", f"/milestones/{psa_id}/accept", {"accepted_on": "2026-03-27",
                                                               "accepted_by": "Hannah Okafor"})
    events = [event for event in world.context("psa").feed.all() if event["type"].startswith("psa.milestone.")
              and event["subject"] == psa_id]
    assert cursor is not None
    engine.ports.ledger.set_cursor("psa", str(events[-1]["sequence"]))  # the feed is not read: events come as sent
    for event in reversed(events):
        engine.submit("psa", event)
    settle(world)

    milestone = plan_milestones(world, deal)[plan_id]
    assert (milestone["status"], milestone["completed_on"], milestone["accepted_on"]) == (
        "ACCEPTED", "2026-03-20", "2026-03-27")


@pytest.mark.parametrize(("completed_on", "exceptions"), [("2026-04-10", []), ("2026-03-20", ["milestone-cancelled"])])
def test_a_milestone_the_termination_cancelled_raises_only_if_it_was_done_before(
        world: World, deal: Deal, completed_on: str, exceptions: list[str]) -> None:
    call(world, "erp", "POST", f"/contracts/{deal.contract_id}/terminate",
         {"effective_date": "2026-03-31", "unbilled_rule": "BILL", "reason": "Customer cancelled"})
    psa_id, plan_id = deal.milestones[0]
    call(world, "psa", "POST", f"/milestones/{psa_id}/complete", {"completed_on": completed_on})
    settle(world)

    assert plan_milestones(world, deal)[plan_id]["status"] == "CANCELLED"
    assert [item.reason for item in engine_of(world).ports.ledger.exceptions()] == exceptions


def test_cost_actuals_follow_approvals_and_reopens_cumulatively(world: World, deal: Deal) -> None:
    first = log_time(world, deal, date(2026, 3, 3), "8.00")
    log_time(world, deal, date(2026, 3, 4), "4.00")
    settle(world)
    [actual] = records(world, "erp", "cost_actuals")
    assert (actual["period"], actual["cumulative_cost"]) == ("2026-03", "960.00")
    assert (actual["source_system"], actual["source_id"]) == ("psa", deal.project_id)

    call(world, "psa", "POST", f"/time-entries/{first}/reopen", {"reason": "Booked twice"})
    settle(world)

    [actual] = records(world, "erp", "cost_actuals")
    assert actual["cumulative_cost"] == "320.00"
    assert records(world, "erp", "billable_transactions") == []


def test_a_burst_of_approvals_is_read_once_and_a_later_one_read_again(world: World, deal: Deal) -> None:
    entries = [log_time(world, deal, date(2026, 3, day), "8.00", approve=False) for day in range(2, 7)]
    world.run_until(world.env.now + 30)
    call(world, "psa", "POST", "/time-entries/bulk-approve", {"ids": entries})
    settle(world)
    reads = world.context("psa").calls[("getProjectCostActuals", 200)]
    [actual] = records(world, "erp", "cost_actuals")
    assert (actual["cumulative_cost"], reads) == ("3200.00", 1)

    world.run_until(world.env.now + 60)
    log_time(world, deal, date(2026, 3, 9), "1.00")
    settle(world)

    [actual] = records(world, "erp", "cost_actuals")
    assert (actual["cumulative_cost"], actual["source_version"]) == ("3280.00", 2)


def test_a_burst_handled_as_one_batch_asks_the_ledger_for_the_projects_last_read_once(
        world: World, deal: Deal, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [log_time(world, deal, date(2026, 3, day), "8.00", approve=False) for day in range(2, 7)]
    settle(world)
    ledger = engine_of(world).ports.ledger
    asked: list[str] = []
    applied_version = ledger.applied_version

    def counted(key: str) -> int | None:
        asked.append(key)
        return applied_version(key)

    monkeypatch.setattr(ledger, "applied_version", counted)
    call(world, "psa", "POST", "/time-entries/bulk-approve", {"ids": entries})
    settle(world)

    assert sorted(key for key in asked if key.startswith("cost-read-")) == [
        f"cost-read-{name}:psa:{deal.project_id}" for name in ("feed", "from", "month")]
    [actual] = records(world, "erp", "cost_actuals")
    assert actual["cumulative_cost"] == "3200.00"


def test_a_malformed_message_in_a_run_of_cost_messages_is_named_to_the_dispatcher(world: World) -> None:
    without_approvals = SourceEvent("psa", "1", "psa.time_entry.approved", "TE-1", 1, datetime(2026, 3, 2, tzinfo=UTC),
                                    {"id": "TE-1", "version": 1, "project_id": "PRJ-1", "resource_id": "W-1",
                                     "status": "APPROVED", "revision": 1, "approvals": []})
    malformed = replace(without_approvals, event_id="2", data={**without_approvals.data, "revision": 0})
    with pytest.raises(BatchFailure) as raised:
        cost_actuals.handle_costs_changed([without_approvals, malformed, without_approvals], engine_of(world).ports)
    assert (raised.value.index, getattr(raised.value.error, "reason", None)) == (1, "malformed-record")


def test_cost_in_another_currency_is_converted_at_the_erps_rate(world: World, deal: Deal) -> None:
    call(world, "erp", "POST", "/fx-rates", {"from_currency": "GBP", "to_currency": "USD",
                                             "effective_date": "2026-03-01", "rate": "1.25"})
    visitor = staff(world, deal, worker="WRK-000009", hourly_cost="60.00", cost_currency="GBP")
    log_time(world, deal, date(2026, 3, 3), "8.00")
    log_time(world, deal, date(2026, 3, 3), "2.00", worker=visitor)
    settle(world)

    [actual] = records(world, "erp", "cost_actuals")
    assert actual["cumulative_cost"] == "790.00"  # 8 h x 80.00 USD + 2 h x 60.00 GBP x 1.25 on 31 March
    assert engine_of(world).ports.ledger.exceptions() == []


def test_an_estimate_change_revises_the_erp_estimate_at_completion(world: World, deal: Deal) -> None:
    call(world, "psa", "PUT", f"/projects/{deal.project_id}/estimate", {"eac_cost": "55000.00",
                                                                        "as_of": "2026-03-31"})
    settle(world)

    contract = call(world, "erp", "GET", f"/contracts/{deal.contract_id}")
    assert contract["billing_plan"]["eac"] == "55000.00"
    [estimate] = [item for item in records(world, "erp", "estimates") if item["source_system"] == "psa"]
    assert (estimate["eac"], estimate["effective_date"], estimate["source_id"]) == ("55000.00", "2026-03-31",
                                                                                    deal.project_id)


def test_time_and_materials_projects_post_no_cost_actuals(world: World) -> None:
    deal = open_deal(world, name="Contoso")
    staff(world, deal, worker="WRK-000002")
    log_time(world, deal, date(2026, 3, 3), "8.00")
    call(world, "psa", "PUT", f"/projects/{deal.project_id}/estimate", {"eac_cost": "55000.00",
                                                                        "as_of": "2026-03-31"})
    settle(world)

    assert records(world, "erp", "cost_actuals") == []
    assert len(records(world, "erp", "billable_transactions")) == 1
