"""Time billing under failure: lost responses, an ERP outage, a 429 storm, poison events, business
exceptions. Whatever happens, each approved revision ends posted exactly once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from harness.runner.world import World
from syncengine.ledger.records import ExceptionStatus
from tests.unit.syncengine.flows.test_money_world import (
    MONEY_FLOWS,
    add_fault,
    assert_conformant,
    call,
    correct_time,
    engine_of,
    live_transactions,
    log_time,
    money_world,
    open_deal,
    open_deal_by_hand,
    records,
    settle,
    staff,
)


def created_at(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))


def test_a_lost_response_on_the_batch_posting_never_posts_twice(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    add_fault(world, "erp", "lost_response", duration_s=5, operations=["postBillableTransactionBatch"])
    entry_id = log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)

    assert live_transactions(world) == [(entry_id, 1, "1200.00")]
    assert world.context("erp").faults.injected["lost_response"] == 1
    snapshot = engine_of(world).snapshot()
    assert snapshot.api_calls["erp"]["lost-response"] == 1
    assert snapshot.flows["time_expense_billing"].retries >= 1
    assert engine_of(world).ports.ledger.dead_letters() == []


def test_a_retried_batch_that_grew_meanwhile_still_posts_each_entry_once(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    add_fault(world, "erp", "lost_response", duration_s=20, operations=["postBillableTransactionBatch"])
    first = log_time(world, deal, date(2026, 3, 3), "8.00")
    engine_of(world).poll("psa")
    world.run_until(world.env.now + 10)  # the first batch committed, its answer lost; the retry waits 30 s
    second = log_time(world, deal, date(2026, 3, 4), "4.00")
    settle(world)

    assert live_transactions(world) == sorted([(first, 1, "1200.00"), (second, 1, "600.00")])
    erp_calls = world.context("erp").calls
    assert erp_calls[("postBillableTransactionBatch", 200)] == 2  # the lost one, and the retry with both


def test_an_erp_outage_mid_flow_recovers_and_loses_nothing(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    corrected = log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    add_fault(world, "erp", "outage", duration_s=300)
    correct_time(world, corrected, "6.00")
    during = log_time(world, deal, date(2026, 3, 4), "5.00")
    world.run_until(world.env.now + 200)
    assert live_transactions(world) == [(corrected, 1, "1200.00")]  # nothing moves while the ERP is down

    settle(world)

    assert live_transactions(world) == sorted([(corrected, 2, "900.00"), (during, 1, "750.00")])
    ledger = engine_of(world).ports.ledger
    assert (ledger.dead_letters(), ledger.exceptions()) == ([], [])
    assert engine_of(world).snapshot().api_calls["erp"]["503"] >= 1


def test_a_429_storm_is_waited_out_as_retry_after_says_and_counted(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    storm = world.clock.now()
    add_fault(world, "erp", "throttle", duration_s=40, retry_after=45)
    entry_id = log_time(world, deal, date(2026, 3, 3), "8.00")
    engine_of(world).poll("psa")  # read the approval while the storm lasts
    settle(world)

    [transaction] = records(world, "erp", "billable_transactions")
    assert transaction["source_id"] == entry_id
    assert created_at(transaction) >= storm + timedelta(seconds=45)
    snapshot = engine_of(world).snapshot()
    assert snapshot.flows["time_expense_billing"].retries == 1  # throttled once, then it waited Retry-After
    assert snapshot.throttled_calls >= 1
    assert snapshot.throttled_calls == sum(count for (_, status), count in world.context("erp").calls.items()
                                           if status == 429)


def test_a_long_429_storm_on_many_entries_still_posts_each_once(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    add_fault(world, "erp", "throttle", duration_s=600, probability=0.6, retry_after=20)
    entries = [log_time(world, deal, date(2026, 3, day), "8.00") for day in range(2, 7)]
    for day in range(9, 14):
        world.run_until(world.env.now + 60)
        entries.append(log_time(world, deal, date(2026, 3, day), "2.00"))
    settle(world)

    assert [source_id for source_id, _, _ in live_transactions(world)] == sorted(entries)
    snapshot = engine_of(world).snapshot()
    assert snapshot.throttled_calls == sum(count for (_, status), count in world.context("erp").calls.items()
                                           if status == 429)
    assert snapshot.throttled_calls > 0
    assert engine_of(world).ports.ledger.dead_letters() == []


def poison(event: dict[str, Any], event_id: str, **data: Any) -> dict[str, Any]:
    """Return a copy of a feed event with another id and some of its data spoiled."""
    return {**event, "id": event_id, "sequence": 999_000, "data": {**event["data"], **data}}


def test_a_poison_event_is_dead_lettered_while_the_others_flow(world: World) -> None:
    deal = open_deal(world)
    staff(world, deal)
    first = log_time(world, deal, date(2026, 3, 3), "8.00", approve=False)
    approved = call(world, "psa", "POST", f"/time-entries/{first}/approve")
    template = next(event for event in world.context("psa").feed.all() if event["type"] == "psa.time_entry.approved")
    engine = engine_of(world)
    spoiled = [{**approved["approvals"][0], "bill_amount": 1200.0}]  # money as a float
    engine.submit("psa", poison(template, "psa-poison-1", approvals=spoiled, version=approved["version"] + 10))
    engine.submit("psa", poison(template, "psa-poison-2", project_id=None))
    second = log_time(world, deal, date(2026, 3, 4), "2.00")
    settle(world)

    assert live_transactions(world) == sorted([(first, 1, "1200.00"), (second, 1, "300.00")])
    letters = {letter.message_id.split("/")[0]: letter for letter in engine.ports.ledger.dead_letters()}
    assert set(letters) >= {"psa:psa-poison-1", "psa:psa-poison-2"}
    assert letters["psa:psa-poison-1"].reason == "malformed-amount"
    assert letters["psa:psa-poison-2"].reason == "missing-ordering-key"
    assert engine.ports.ledger.exceptions() == []


def test_time_on_a_project_without_a_contract_raises_one_exception_and_is_posted_once_fixed() -> None:
    world = money_world(MONEY_FLOWS)  # deals set up by hand, so one can miss its project's link
    deal = open_deal(world)
    staff(world, deal)
    unlinked = open_deal_by_hand(world, name="Contoso", link_project=False)
    staff(world, unlinked, worker="WRK-000002")
    stray = log_time(world, unlinked, date(2026, 3, 3), "3.00")
    settled = log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)

    ledger = engine_of(world).ports.ledger
    [exception] = ledger.exceptions()
    assert (exception.reason, exception.key, exception.status) == ("unknown-contract", f"project:{unlinked.project_id}",
                                                                   ExceptionStatus.OPEN)
    assert live_transactions(world) == [(settled, 1, "1200.00")]

    ledger.link("project", "psa", unlinked.project_id, unlinked.key)  # the deal team links the project
    engine_of(world).redrive(exception.id)
    settle(world)

    assert live_transactions(world) == sorted([(settled, 1, "1200.00"), (stray, 1, "450.00")])
    assert ledger.exception(exception.id).status == ExceptionStatus.RESOLVED
    assert_conformant(world)
