"""The engine core on the simulated runtime, fed directly: ordering per key, retries in virtual
time, the exception queue with re-drive, dead letters, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import simpy

from syncengine.bootstrap import EngineConfig, bootstrap
from syncengine.domain import BusinessException, SourceEvent, TransientFailure, by_field
from syncengine.ledger import ExceptionStatus
from syncengine.ports import Ports
from syncengine.retry import Action, Backoff, RetryPolicy
from syncengine.runtime import Engine, Flow
from syncengine.runtime.sim import EnvironmentClock, SimRuntime
from tests.unit.syncengine.conftest import T0


def raw_event(sequence: int, group: str, subject: str, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"src-{sequence:06d}", "source": "urn:firmsim:src", "type": "src.step.done",
            "subject": subject, "time": "2026-03-02T09:00:00Z", "sequence": sequence,
            "datacontenttype": "application/json", "data": {"id": subject, "version": 1, "group": group, **data}}


class Steps:
    """A fake flow: records what it handled and when; fails as the test tells it to."""

    def __init__(self) -> None:
        self.handled: list[tuple[datetime, str]] = []
        self.failing: dict[str, Callable[[], Exception]] = {}

    def flow(self) -> Flow:
        def handle_step(message: SourceEvent, ports: Ports) -> None:
            make_error = self.failing.get(message.subject)
            if make_error is not None:
                raise make_error()
            if message.data.get("crash"):
                raise KeyError("customer_id")
            ports.ledger.set_applied_version(f"step:{message.subject}", message.source_version)
            self.handled.append((ports.now(), message.subject))

        return Flow("steps", {"src.step.done": [handle_step]}, by_field("group", prefix="group"))


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
def engine(env: simpy.Environment, steps: Steps) -> Engine:
    # A count-bounded policy that dead-letters, so these tests see exhaustion within a few attempts.
    policy = RetryPolicy(max_attempts=4, backoff=Backoff(base_s=10.0, multiplier=2.0, cap_s=100.0),
                         on_exhausted=Action.DEAD_LETTER)
    return bootstrap(EngineConfig(clock=EnvironmentClock(env, T0), seed=5, flows=(steps.flow(),), retry=policy))


@pytest.fixture
def runtime(env: simpy.Environment, engine: Engine) -> SimRuntime:
    return SimRuntime(env, engine)


def down() -> Exception:
    return TransientFailure("service-unavailable", "ERP is down")


def test_a_failing_key_never_blocks_the_others_and_keeps_its_own_order(
        env: simpy.Environment, engine: Engine, runtime: SimRuntime, steps: Steps) -> None:
    steps.failing["A1"] = down
    for sequence, (group, subject) in enumerate([("a", "A1"), ("b", "B1"), ("b", "B2"), ("a", "A2"),
                                                 ("b", "B3")], start=1):
        engine.submit("src", raw_event(sequence, group, subject))
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["B1", "B2", "B3", "A2"]
    assert {when for when, subject in steps.handled if subject.startswith("B")} == {T0}
    a2_at = next(when for when, subject in steps.handled if subject == "A2")
    assert a2_at - T0 >= timedelta(seconds=5 + 10 + 20)
    assert env.now == pytest.approx((a2_at - T0).total_seconds(), abs=1e-6)
    [letter] = engine.ports.ledger.dead_letters()
    assert (letter.reason, letter.key, letter.message_id) == ("retries-exhausted", "group:a",
                                                              "src:src-000001/steps.handle_step")
    snapshot = engine.snapshot()
    assert (snapshot.retries, snapshot.dead_letters, snapshot.business_events) == (3, 1, 4)
    assert runtime.idle


def test_retry_waits_repeat_exactly_with_the_same_seed() -> None:
    def run(seed: int) -> float:
        env = simpy.Environment()
        steps = Steps()
        steps.failing["A1"] = down
        engine = bootstrap(EngineConfig(clock=EnvironmentClock(env, T0), seed=seed, flows=(steps.flow(),),
                                        retry=RetryPolicy(max_attempts=8)))
        runtime = SimRuntime(env, engine)
        engine.submit("src", raw_event(1, "a", "A1"))
        env.run(until=runtime.drain())
        assert engine.snapshot().retries == 7
        return float(env.now)

    assert run(9) == run(9)
    assert run(9) != run(10)


def test_a_business_exception_is_queued_parks_its_key_and_is_redriven_after_the_fix(
        env: simpy.Environment, engine: Engine, runtime: SimRuntime, steps: Steps) -> None:
    steps.failing["A1"] = lambda: BusinessException("missing-tax-registration", "ACME has no VAT number")
    engine.submit("src", raw_event(1, "a", "A1"))
    engine.submit("src", raw_event(2, "a", "A2"))
    engine.submit("src", raw_event(3, "b", "B1"))
    env.run(until=runtime.drain())
    ledger = engine.ports.ledger
    [item] = ledger.exceptions()
    assert (item.reason, item.status, item.key, item.attempts) == ("missing-tax-registration",
                                                                   ExceptionStatus.OPEN, "group:a", 1)
    assert [subject for _, subject in steps.handled] == ["B1"]
    assert engine.snapshot().parked_keys == 1

    env.run(until=env.now + 3600)
    del steps.failing["A1"]
    engine.redrive(item.id)
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["B1", "A1", "A2"]
    assert ledger.exception(item.id).status is ExceptionStatus.RESOLVED
    assert max(engine.snapshot().flows["steps"].sync_lag_s) == 3600.0


def test_an_exception_that_fails_again_after_redrive_stays_one_exception(
        env: simpy.Environment, engine: Engine, runtime: SimRuntime, steps: Steps) -> None:
    steps.failing["A1"] = lambda: BusinessException("missing-tax-registration", "still missing")
    engine.submit("src", raw_event(1, "a", "A1"))
    env.run(until=runtime.drain())
    [item] = engine.ports.ledger.exceptions()
    engine.redrive(item.id)
    env.run(until=runtime.drain())
    [again] = engine.ports.ledger.exceptions()
    assert (again.id, again.attempts, again.status) == (item.id, 2, ExceptionStatus.OPEN)


def test_a_redriven_message_that_cannot_go_through_returns_to_the_exception_queue(
        env: simpy.Environment, engine: Engine, runtime: SimRuntime, steps: Steps) -> None:
    steps.failing["A1"] = lambda: BusinessException("missing-tax-registration", "ACME has no VAT number")
    engine.submit("src", raw_event(1, "a", "A1"))
    env.run(until=runtime.drain())
    [item] = engine.ports.ledger.exceptions()
    steps.failing["A1"] = down
    engine.redrive(item.id)
    env.run(until=runtime.drain())
    [again] = engine.ports.ledger.exceptions()
    assert (again.id, again.status, again.reason) == (item.id, ExceptionStatus.OPEN, "retries-exhausted")
    assert engine.ports.ledger.dead_letters() == []


def test_resolving_an_exception_releases_its_key(env: simpy.Environment, engine: Engine, runtime: SimRuntime,
                                                 steps: Steps) -> None:
    steps.failing["A1"] = lambda: BusinessException("unknown-practice", "LEGAL")
    engine.submit("src", raw_event(1, "a", "A1"))
    engine.submit("src", raw_event(2, "a", "A2"))
    env.run(until=runtime.drain())
    engine.resolve(engine.ports.ledger.exceptions()[0].id)
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["A2"]


def test_poison_messages_are_dead_lettered_while_the_others_flow(
        env: simpy.Environment, engine: Engine, runtime: SimRuntime, steps: Steps) -> None:
    engine.submit("src", {"id": "src-000001", "type": "src.step.done"})
    engine.submit("src", {"id": "src-000001", "type": "src.step.done"})
    engine.submit("src", ["not", "an", "event"])
    engine.submit("src", raw_event(2, "a", "A1", crash=True))
    engine.submit("src", raw_event(3, "a", "A2"))
    bad_key = raw_event(4, "a", "A3")
    del bad_key["data"]["group"]
    engine.submit("src", bad_key)
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["A2"]
    assert [(letter.flow, letter.reason) for letter in engine.ports.ledger.dead_letters()] == [
        ("intake", "malformed-event"), ("intake", "malformed-event"), ("steps", "missing-ordering-key"),
        ("steps", "unexpected-error")]
    snapshot = engine.snapshot()
    assert (snapshot.malformed_events, snapshot.duplicate_events, snapshot.dead_letters) == (2, 1, 4)


def test_duplicate_deliveries_are_harmless(env: simpy.Environment, engine: Engine, runtime: SimRuntime,
                                           steps: Steps) -> None:
    assert engine.submit("src", raw_event(1, "a", "A1")) == 1
    assert engine.submit("src", raw_event(1, "a", "A1")) == 0
    env.run(until=runtime.drain())
    assert engine.submit("src", raw_event(1, "a", "A1"), replay=True) == 1
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["A1"]
    snapshot = engine.snapshot()
    assert (snapshot.duplicate_events, snapshot.flows["steps"].duplicates, snapshot.business_events) == (1, 1, 1)


def test_events_no_flow_wants_are_ignored(engine: Engine) -> None:
    other = raw_event(1, "a", "A1")
    other["type"] = "src.other.done"
    assert engine.submit("src", other) == 0
    assert engine.snapshot().ignored_events == 1
    assert engine.idle


def test_a_handler_failure_rolls_back_its_ledger_writes(env: simpy.Environment, engine: Engine,
                                                        runtime: SimRuntime, steps: Steps) -> None:
    def flaky(message: SourceEvent, ports: Ports) -> None:
        ports.ledger.set_applied_version("step:A1", 99)
        raise TransientFailure("timeout")

    engine.registry.add(Flow("flaky", {"src.step.done": [flaky]}, by_field("group", prefix="flaky")))
    engine.submit("src", raw_event(1, "a", "A1"))
    env.run(until=runtime.drain())
    ledger = engine.ports.ledger
    assert ledger.applied_version("step:A1") == 1
    assert not ledger.already_processed("src", "A1", 1, "flaky.flaky")
    assert ledger.already_processed("src", "A1", 1, "steps.handle_step")


def default_engine(env: simpy.Environment, steps: Steps) -> tuple[Engine, SimRuntime]:
    engine = bootstrap(EngineConfig(clock=EnvironmentClock(env, T0), seed=3, flows=(steps.flow(),)))
    return engine, SimRuntime(env, engine)


def test_by_default_a_six_hour_outage_is_retried_through_and_nothing_is_dead_lettered(
        env: simpy.Environment, steps: Steps) -> None:
    engine, runtime = default_engine(env, steps)
    steps.failing["A1"] = down
    engine.submit("src", raw_event(1, "a", "A1"))
    env.process(_recover_after(env, steps, "A1", 6 * 3600))
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["A1"]
    handled_at = steps.handled[0][0]
    assert timedelta(hours=6) <= handled_at - T0 <= timedelta(hours=6, minutes=5)  # backoff capped at 5 min
    assert engine.ports.ledger.dead_letters() == [] and engine.ports.ledger.exceptions() == []
    assert engine.snapshot().retries > 60


def test_by_default_work_still_failing_after_a_day_is_parked_for_a_re_drive_not_dead_lettered(
        env: simpy.Environment, steps: Steps) -> None:
    engine, runtime = default_engine(env, steps)
    steps.failing["A1"] = down
    engine.submit("src", raw_event(1, "a", "A1"))
    engine.submit("src", raw_event(2, "a", "A2"))
    env.run(until=runtime.drain())
    [item] = engine.ports.ledger.exceptions()
    assert (item.reason, item.status, item.key) == ("retries-exhausted", ExceptionStatus.OPEN, "group:a")
    assert timedelta(hours=23) <= item.first_seen - T0 <= timedelta(hours=24)
    assert engine.ports.ledger.dead_letters() == [] and steps.handled == []  # A2 waits behind A1: order holds

    del steps.failing["A1"]
    engine.redrive(item.id)
    env.run(until=runtime.drain())
    assert [subject for _, subject in steps.handled] == ["A1", "A2"]
    assert engine.ports.ledger.exception(item.id).status is ExceptionStatus.RESOLVED


def _recover_after(env: simpy.Environment, steps: Steps, subject: str, seconds: float) -> Any:
    yield env.timeout(seconds)
    del steps.failing[subject]


def test_a_page_is_queued_whole_each_key_woken_once_and_what_came_before_a_failure_is_queued_too(
        engine: Engine) -> None:
    woken: list[tuple[str, int]] = []
    engine.listen(lambda key: woken.append((key, engine.queues.depth())))
    page = [raw_event(sequence, group, f"{group.upper()}{sequence}") for sequence, group in enumerate("abaab", 1)]
    assert engine.submit_page("src", page) == 5
    assert woken == [("group:a", 5), ("group:b", 5)], "each key woken once, with the whole page queued"
    assert [delivery.event.subject for delivery in engine.queues.prefix("group:a", 10)] == ["A1", "A3", "A4"]
    woken.clear()
    broken = [raw_event(6, "c", "C6"), raw_event(7, "d", "D7"), "not an event"]
    engine.ports.ledger.dead_letter = lambda **_: (_ for _ in ()).throw(OSError("disk full"))  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        engine.submit_page("src", broken)
    assert woken == [("group:c", 7), ("group:d", 7)]
