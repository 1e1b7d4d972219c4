"""Any interleaving, duplication and redelivery of a set of PSA events yields the same ERP end state (the
live billable transactions and their amounts) as delivering them once, in order.

The PSA activity happens once: entries approved, reopened, returned and re-approved across two
projects. Each hypothesis example then starts from a freshly reset ERP and a fresh engine (no feed
polling) and drives the engine directly: `engine.submit(...)` of the recorded feed events in the
order hypothesis picks, repeated or redelivered (`replay=True` passes intake, so tracking must catch
it), interleaved with dispatching the head of any ready key.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from harness.runner.world import ENGINE_TOKEN, World
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.flows import time_expense_billing
from syncengine.runtime.engine import Engine
from tests.unit.syncengine.flows.test_money_world import (
    Deal,
    assert_conformant,
    call,
    correct_time,
    link_deal,
    live_transactions,
    log_time,
    money_world,
    open_deal,
    recreate_erp_side,
    spend,
    staff,
)


@dataclass
class Scene:
    """The systems after the PSA activity, the deals, and the PSA events the billing flow consumes."""

    world: World
    deals: list[Deal]
    events: list[dict[str, Any]]
    expected: list[tuple[str, int, str]]


def _activity(world: World) -> tuple[list[Deal], list[tuple[str, int, str]]]:
    """Approve, reopen, return and re-approve entries; return the deals and the live postings due."""
    north = open_deal(world)
    staff(world, north)
    south = open_deal(world, name="Contoso")
    staff(world, south, worker="WRK-000002")
    corrected = log_time(world, north, date(2026, 3, 3), "8.00")
    correct_time(world, corrected, "6.00")
    withdrawn = log_time(world, north, date(2026, 3, 4), "4.00")
    call(world, "psa", "POST", f"/time-entries/{withdrawn}/reopen", {"reason": "Not worked after all"})
    bounced = log_time(world, north, date(2026, 3, 5), "2.00")
    call(world, "psa", "POST", f"/time-entries/{bounced}/reopen", {"reason": "Wrong task"})
    call(world, "psa", "POST", f"/time-entries/{bounced}/submit")
    call(world, "psa", "POST", f"/time-entries/{bounced}/return", {"reason": "Split it"})
    call(world, "psa", "PATCH", f"/time-entries/{bounced}", {"hours": "3.00"})
    call(world, "psa", "POST", f"/time-entries/{bounced}/submit")
    call(world, "psa", "POST", f"/time-entries/{bounced}/approve")
    correct_time(world, bounced, "5.00")
    other = log_time(world, south, date(2026, 3, 3), "7.00")
    receipt = spend(world, north, date(2026, 3, 4), "84.20")
    call(world, "psa", "POST", f"/expenses/{receipt}/reopen", {"reason": "Refund of one ticket"})
    call(world, "psa", "PATCH", f"/expenses/{receipt}", {"amount": "42.10"})
    call(world, "psa", "POST", f"/expenses/{receipt}/submit")
    call(world, "psa", "POST", f"/expenses/{receipt}/approve")
    expected = sorted([(corrected, 2, "900.00"), (bounced, 3, "750.00"), (other, 1, "1050.00"),
                       (receipt, 2, "42.10")])
    return [north, south], expected


@functools.cache
def scene() -> Scene:
    """Build the scene once per test session (the PSA's state and feed never change afterwards)."""
    world = money_world(flows=None)
    deals, expected = _activity(world)
    events = [event for event in world.context("psa").feed.all() if event["type"] in time_expense_billing.HANDLERS]
    return Scene(world, deals, events, expected)


def fresh_engine(current: Scene) -> Engine:
    """Reset the ERP to the deals' customers and contracts, and build an engine that reads no feed."""
    world = current.world
    response = world.apps["erp"].test_client().post("/admin/reset")
    assert response.status_code == 200
    for deal in current.deals:
        recreate_erp_side(world, deal)
    engine = bootstrap(EngineConfig(
        systems=tuple(SystemConfig(kind, app=app, token=ENGINE_TOKEN, poll=False) for kind, app in world.apps.items()),
        clock=world.clock, flows=(time_expense_billing.FLOW,)))
    for deal in current.deals:
        link_deal(engine.ports.ledger, deal)
    return engine


def run_to_idle(engine: Engine) -> None:
    """Dispatch every ready key until nothing is left (no faults here, so nothing retries)."""
    for _ in range(10_000):
        keys = engine.runnable_keys()
        if not keys:
            return
        engine.dispatch(keys[0])
    raise AssertionError("the engine did not go idle")


def test_delivering_every_event_once_in_order_posts_what_the_psa_approved() -> None:
    current = scene()
    engine = fresh_engine(current)
    for event in current.events:
        engine.submit("psa", event)
    run_to_idle(engine)

    assert live_transactions(current.world) == current.expected
    assert (engine.ports.ledger.dead_letters(), engine.ports.ledger.exceptions()) == ([], [])
    assert_conformant(current.world)


class ShuffledDelivery(RuleBasedStateMachine):
    """Deliver the scene's events in any order, any number of times, interleaved with dispatching."""

    def __init__(self) -> None:
        super().__init__()
        self.scene = scene()
        self.engine = fresh_engine(self.scene)
        self.delivered: set[int] = set()

    @rule(data=st.data(), redeliver=st.booleans())
    def deliver(self, data: st.DataObject, redeliver: bool) -> None:
        index = data.draw(st.integers(0, len(self.scene.events) - 1), label="event")
        self.engine.submit("psa", self.scene.events[index], replay=redeliver)
        self.delivered.add(index)

    @precondition(lambda self: bool(self.engine.runnable_keys()))
    @rule(data=st.data())
    def dispatch(self, data: st.DataObject) -> None:
        self.engine.dispatch(data.draw(st.sampled_from(self.engine.runnable_keys()), label="key"))

    def teardown(self) -> None:
        for index in reversed(range(len(self.scene.events))):
            if index not in self.delivered:
                self.engine.submit("psa", self.scene.events[index])
        run_to_idle(self.engine)
        assert live_transactions(self.scene.world) == self.scene.expected
        assert (self.engine.ports.ledger.dead_letters(), self.engine.ports.ledger.exceptions()) == ([], [])
        assert_conformant(self.scene.world)


TestShuffledDelivery = ShuffledDelivery.TestCase
TestShuffledDelivery.settings = settings(max_examples=30, stateful_step_count=40, deadline=None,
                                         suppress_health_check=list(HealthCheck))
