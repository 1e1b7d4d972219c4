"""Time and expenses to billing, end to end: PSA approvals become ERP billable transactions once."""

from __future__ import annotations

from datetime import date

import pytest

from harness.runner.world import World
from syncengine.mapping import psa_work
from syncengine.runtime.dispatch import AttemptOutcome
from syncengine.runtime.registry import Delivery
from tests.unit.syncengine.flows.test_money_world import (
    billing_run,
    call,
    correct_time,
    engine_of,
    live_transactions,
    log_time,
    open_deal,
    records,
    settle,
    spend,
    staff,
)


@pytest.mark.parametrize("billing_model", ["TIME_AND_MATERIALS", "CAPPED_TM"])
def test_approved_time_becomes_exactly_one_billable_transaction(world: World, billing_model: str) -> None:
    deal = open_deal(world, billing_model=billing_model)
    staff(world, deal)
    entry_id = log_time(world, deal, date(2026, 3, 3), "7.50")
    settle(world)

    [transaction] = records(world, "erp", "billable_transactions")
    assert (transaction["contract_id"], transaction["kind"], transaction["status"]) == (deal.contract_id, "TIME",
                                                                                       "UNBILLED")
    assert (transaction["source_system"], transaction["source_id"], transaction["source_version"]) == (
        "psa", entry_id, 1)
    assert (transaction["date"], transaction["quantity"], transaction["rate"], transaction["amount"]) == (
        "2026-03-03", "7.50", "150.00", "1125.00")
    assert transaction["external_id"] == f"psa:{entry_id}:v1"
    ledger = engine_of(world).ports.ledger
    assert ledger.external_id("billable_transaction", "erp", f"time:{entry_id}:1") == transaction["id"]


def test_duplicate_and_replayed_events_post_nothing_twice(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    log_time(world, deal, date(2026, 3, 3), "8.00")
    spend(world, deal, date(2026, 3, 3), "84.20")
    settle(world)
    engine = engine_of(world)
    approvals = [event for event in world.context("psa").feed.all() if event["type"].endswith(".approved")]

    for event in approvals:
        assert engine.submit("psa", event) == 0  # the same event id again: dropped at intake
        engine.submit("psa", event, replay=True)  # redelivered on purpose: skipped by tracking
    engine.replay("psa", None)
    settle(world)

    assert live_transactions(world) == sorted([(records(world, "psa", "time_entries")[0]["id"], 1, "1200.00"),
                                               (records(world, "psa", "expenses")[0]["id"], 1, "84.20")])
    assert engine.snapshot().duplicate_events >= len(approvals)
    assert engine.snapshot().flows["time_expense_billing"].duplicates >= len(approvals)


def test_entry_reopened_after_invoicing_is_credited_and_rebilled_once(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    entry_id = log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    first_run = billing_run(world, deal, "2026-03-31")
    assert first_run["invoiced_total"] == "1200.00"

    correct_time(world, entry_id, "6.00")
    settle(world)
    second_run = billing_run(world, deal, "2026-04-30")
    third_run = billing_run(world, deal, "2026-05-31")

    first, second = sorted(records(world, "erp", "billable_transactions"), key=lambda t: t["source_version"])
    assert (first["source_version"], first["status"], first["amount"]) == (1, "REVERSED", "1200.00")
    assert first["reversal_source_version"] == 2
    assert (second["source_version"], second["status"], second["amount"]) == (2, "BILLED", "900.00")
    [credit_memo] = records(world, "erp", "credit_memos")
    assert (credit_memo["invoice_id"], credit_memo["net_total"]) == (first_run["invoice_ids"][0], "1200.00")
    assert second_run["credit_memo_ids"] == [credit_memo["id"]]
    assert second_run["invoiced_total"] == "900.00"
    assert (third_run["invoice_ids"], third_run["credit_memo_ids"]) == ([], [])
    balance = call(world, "erp", "GET", f"/contracts/{deal.contract_id}/balance")
    assert (balance["billed_net"], balance["unbilled"], balance["pending_credit"]) == ("900.00", "0.00", "0.00")


def test_an_entry_taken_back_for_correction_leaves_nothing_billable(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    entry_id = log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    call(world, "psa", "POST", f"/time-entries/{entry_id}/reopen", {"reason": "Wrong project"})
    call(world, "psa", "POST", f"/time-entries/{entry_id}/submit")
    call(world, "psa", "POST", f"/time-entries/{entry_id}/return", {"reason": "Book it to the other project"})
    settle(world)

    assert live_transactions(world) == []
    [transaction] = records(world, "erp", "billable_transactions")
    assert transaction["status"] == "REVERSED"


def test_billable_expenses_are_posted_and_non_billable_ones_are_not(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    expense_id = spend(world, deal, date(2026, 3, 4), "412.30")
    spend(world, deal, date(2026, 3, 4), "25.00", billable=False)
    settle(world)

    assert live_transactions(world) == [(expense_id, 1, "412.30")]
    [transaction] = records(world, "erp", "billable_transactions")
    assert (transaction["kind"], transaction["quantity"], transaction["rate"]) == ("EXPENSE", "1", "412.30")


@pytest.mark.parametrize("billing_model", ["FIXED_FEE", "RETAINER"])
def test_a_fee_based_contract_bills_its_expenses_but_not_its_hours(world: World, billing_model: str) -> None:
    milestones = [("Go live", "100000.00", False)] if billing_model == "FIXED_FEE" else []
    deal = open_deal(world, billing_model=billing_model, milestones=milestones)
    staff(world, deal)
    log_time(world, deal, date(2026, 3, 3), "8.00")
    expense_id = spend(world, deal, date(2026, 3, 4), "412.30")
    settle(world)

    assert live_transactions(world) == [(expense_id, 1, "412.30")]
    assert [t["kind"] for t in records(world, "erp", "billable_transactions")] == ["EXPENSE"]
    ledger = engine_of(world).ports.ledger
    assert (ledger.exceptions(), ledger.dead_letters()) == ([], [])


def test_a_week_approved_at_once_is_posted_in_one_batch(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    entries = [log_time(world, deal, date(2026, 3, day), "8.00", approve=False) for day in range(2, 7)]
    call(world, "psa", "POST", "/time-entries/bulk-approve", {"ids": entries})
    settle(world)

    assert [source_id for source_id, _, _ in live_transactions(world)] == sorted(entries)
    erp_calls = world.context("erp").calls
    assert erp_calls[("postBillableTransactionBatch", 200)] == 1
    assert erp_calls[("createBillableTransaction", 201)] == 0
    assert engine_of(world).snapshot().flows["time_expense_billing"].processed == len(entries)


def test_work_dated_after_the_contract_ended_is_not_billed_and_raises_nothing(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    call(world, "erp", "POST", f"/contracts/{deal.contract_id}/terminate",
         {"effective_date": "2026-03-04", "unbilled_rule": "BILL", "reason": "Customer cancelled"})
    before = log_time(world, deal, date(2026, 3, 4), "8.00")
    log_time(world, deal, date(2026, 3, 5), "8.00")
    settle(world)

    assert live_transactions(world) == [(before, 1, "1200.00")]
    ledger = engine_of(world).ports.ledger
    assert (ledger.exceptions(), ledger.dead_letters()) == ([], [])


def test_a_corrected_entry_and_a_bulk_approved_week_handled_as_one_batch_cost_one_post(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    corrected = log_time(world, deal, date(2026, 3, 2), "8.00")
    settle(world)
    engine = engine_of(world)
    deliveries: list[Delivery] = []
    engine.outlet = deliveries.append
    correct_time(world, corrected, "6.00")
    entries = [log_time(world, deal, date(2026, 3, day), "8.00", approve=False) for day in range(2, 7)]
    call(world, "psa", "POST", "/time-entries/bulk-approve", {"ids": entries})
    engine.poll("psa")
    erp_calls, psa_calls = world.context("erp").calls, world.context("psa").calls
    posts_before, lists_before = erp_calls[("postBillableTransactionBatch", 200)], psa_calls[("listTimeEntries", 200)]

    batch = [delivery for delivery in deliveries if delivery.route.flow == "time_expense_billing"]
    results = engine.dispatcher.attempt_batch(batch)

    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED] * len(batch)
    assert erp_calls[("postBillableTransactionBatch", 200)] - posts_before == 1
    assert psa_calls[("listTimeEntries", 200)] == lists_before, "the run's own entries are the week's siblings"
    assert live_transactions(world) == sorted([(corrected, 2, "900.00"), *((entry, 1, "1200.00") for entry in entries)])
    ledger = engine.ports.ledger
    assert ledger.external_id("reversal", "erp", f"time:{corrected}:1") is not None
    assert len(ledger.external_ids("billable_transaction", "erp", [f"time:{e}:1" for e in entries])) == 5
    engine.outlet = None
    engine.replay("psa", None)
    settle(world)
    assert erp_calls[("postBillableTransactionBatch", 200)] - posts_before == 1, "a replay posts nothing again"
    assert (ledger.exceptions(), ledger.dead_letters()) == ([], [])


def test_a_run_of_two_bulk_approved_weeks_posts_each_week_once_without_listing_them(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    engine = engine_of(world)
    deliveries: list[Delivery] = []
    engine.outlet = deliveries.append
    weeks = [[log_time(world, deal, date(2026, 3, day), "8.00", approve=False) for day in days]
             for days in ((2, 3, 4), (9, 10))]
    call(world, "psa", "POST", "/time-entries/bulk-approve", {"ids": weeks[0] + weeks[1]})
    engine.poll("psa")
    erp_calls, psa_calls = world.context("erp").calls, world.context("psa").calls
    posts_before, lists_before = erp_calls[("postBillableTransactionBatch", 200)], psa_calls[("listTimeEntries", 200)]

    results = engine.dispatcher.attempt_batch([d for d in deliveries if d.route.flow == "time_expense_billing"])

    assert {result.outcome for result in results} == {AttemptOutcome.PROCESSED}
    assert erp_calls[("postBillableTransactionBatch", 200)] - posts_before == 2, "one post per week"
    assert psa_calls[("listTimeEntries", 200)] == lists_before
    assert live_transactions(world) == sorted((entry, 1, "1200.00") for entry in weeks[0] + weeks[1])



def test_an_approval_handled_alone_reads_none_of_its_weeks_posted_entries(world: World,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    deal = open_deal(world)
    staff(world, deal)
    posted = []
    for day in (2, 3):
        posted.append(log_time(world, deal, date(2026, 3, day), "8.00"))
        settle(world)
    read: list[str] = []
    reading = psa_work.work_entry
    monkeypatch.setattr(psa_work, "work_entry", lambda *args: read.append(args[2]["id"]) or reading(*args))
    entry_id = log_time(world, deal, date(2026, 3, 4), "8.00")
    settle(world)

    assert [source_id for source_id, _, _ in live_transactions(world)] == sorted([*posted, entry_id])
    assert set(read) <= {entry_id}, "the week's listing leaves out the entry itself and its posted siblings"
