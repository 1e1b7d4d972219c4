"""A fake flow against the toy system on the simulated runtime: feed polling, retries through an
outage in virtual time, lost responses, latency, drain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
import simpy
from flask import Flask

from simulators.common.app import context_of
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.domain import SourceEvent, by_subject
from syncengine.ports import Ports
from syncengine.retry import Backoff, RetryPolicy
from syncengine.runtime import Engine, Flow
from syncengine.runtime.sim import EnvironmentClock, SimRuntime
from tests.unit.common.toy import create_app
from tests.unit.syncengine.conftest import T0, add_fault

TOKEN = "firmsim-dev-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def handle_widget_created(message: SourceEvent, ports: Ports) -> None:
    """Polish every new widget (a stand-in for a real flow's read-then-write)."""
    toy = ports.client("toy")
    widget = toy.get(f"/widgets/{message.subject}")
    if widget.body["status"] == "POLISHED":
        return
    toy.post(f"/widgets/{message.subject}/polish", idempotency_key=ports.idempotency_key(message, "polish"),
             if_match=widget.etag, traceparent=message.traceparent)


POLISHING = Flow("polishing", {"toy.widget.created": [handle_widget_created]}, by_subject)


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def toy(env: simpy.Environment) -> Iterator[Flask]:
    app = create_app({"CLOCK": EnvironmentClock(env, T0), "SYSTEM_NAME": "toy"})
    yield app
    assert context_of(app).response_violations == []


@pytest.fixture
def engine(env: simpy.Environment, toy: Flask) -> Engine:
    return bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN, client_id="firmsim", client_secret="firmsim-secret"),),
        clock=EnvironmentClock(env, T0), seed=1, flows=(POLISHING,),
        retry=RetryPolicy(max_attempts=10, backoff=Backoff(base_s=5.0, cap_s=60.0))))


@pytest.fixture
def runtime(env: simpy.Environment, engine: Engine) -> SimRuntime:
    runtime = SimRuntime(env, engine, poll_interval_s=30.0)
    runtime.start()
    return runtime


def create_widgets(toy: Flask, count: int) -> list[str]:
    client = toy.test_client()
    return [client.post("/widgets", json={"name": f"w{n}"}, headers=AUTH).get_json()["id"] for n in range(count)]


def statuses(toy: Flask) -> list[str]:
    return [widget["status"] for widget in toy.test_client().get("/admin/state").get_json()["records"]["widgets"]]


def test_widgets_created_during_the_run_are_polished_by_the_pollers(env: simpy.Environment, toy: Flask,
                                                                    engine: Engine, runtime: SimRuntime) -> None:
    def sales(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(3):
            create_widgets(toy, 1)
            yield env.timeout(100)

    env.process(sales(env))
    env.run(until=250)
    assert statuses(toy) == ["POLISHED", "POLISHED", "POLISHED"]
    assert engine.ports.ledger.cursor("toy") == "6"
    lags = engine.snapshot().sync_lag_s
    assert len(lags) == 3 and all(0 <= lag <= 30 for lag in lags)


def test_an_outage_is_ridden_out_with_backoff_in_virtual_time(env: simpy.Environment, toy: Flask,
                                                              engine: Engine, runtime: SimRuntime) -> None:
    add_fault(toy, "outage", start=T0, duration=120, operations=["polishWidget"], retry_after=20)
    create_widgets(toy, 2)
    env.run(until=runtime.drain())
    assert statuses(toy) == ["POLISHED", "POLISHED"]
    assert env.now >= 120
    snapshot = engine.snapshot()
    assert snapshot.retries >= 2 * 3
    assert min(snapshot.sync_lag_s) >= 120
    assert snapshot.api_calls["toy"]["503"] == snapshot.retries
    assert engine.ports.ledger.dead_letters() == []
    assert runtime.idle


def test_a_lost_response_is_retried_without_polishing_twice(env: simpy.Environment, toy: Flask, engine: Engine,
                                                            runtime: SimRuntime) -> None:
    add_fault(toy, "lost_response", start=T0, duration=1, operations=["polishWidget"])
    create_widgets(toy, 1)
    env.run(until=runtime.drain())
    assert statuses(toy) == ["POLISHED"]
    assert context_of(toy).calls[("polishWidget", 200)] == 1
    assert engine.snapshot().api_calls["toy"]["lost-response"] == 1
    assert engine.snapshot().retries == 1


def test_simulated_latency_advances_virtual_time(env: simpy.Environment, toy: Flask, engine: Engine,
                                                 runtime: SimRuntime) -> None:
    add_fault(toy, "latency", operations=["getWidget", "polishWidget"], ms=1500)
    create_widgets(toy, 1)
    env.run(until=runtime.drain())
    assert env.now == pytest.approx(3.0)
    assert engine.snapshot().sync_lag_s == [pytest.approx(3.0)]
    assert engine.snapshot().api_calls_per_business_event == 2.0


def test_throttled_calls_are_counted_and_waited_out(env: simpy.Environment, toy: Flask, engine: Engine,
                                                    runtime: SimRuntime) -> None:
    add_fault(toy, "throttle", start=T0, duration=50, operations=["getWidget"], retry_after=45)
    create_widgets(toy, 1)
    env.run(until=runtime.drain())
    snapshot = engine.snapshot()
    assert statuses(toy) == ["POLISHED"]
    assert snapshot.throttled_calls == 2
    assert env.now >= 90


def test_an_expired_token_is_refreshed_mid_run(env: simpy.Environment, toy: Flask, engine: Engine,
                                               runtime: SimRuntime) -> None:
    create_widgets(toy, 1)
    add_fault(toy, "token_expiry", start=T0)
    env.run(until=runtime.drain())
    assert statuses(toy) == ["POLISHED"]
    assert engine.snapshot().api_calls["toy"]["401"] == 1


def test_drain_waits_for_an_unreachable_feed(env: simpy.Environment, toy: Flask, engine: Engine,
                                             runtime: SimRuntime) -> None:
    add_fault(toy, "outage", start=T0, duration=100, operations=["listEvents"])
    create_widgets(toy, 1)
    env.run(until=runtime.drain())
    assert statuses(toy) == ["POLISHED"]
    assert env.now >= 100
    assert runtime.poll_failures["toy"] >= 2


def test_drain_ends_at_once_when_nothing_happened(env: simpy.Environment, runtime: SimRuntime) -> None:
    env.run(until=runtime.drain())
    assert env.now == 0
    assert runtime.idle


def test_replay_from_the_start_changes_nothing(env: simpy.Environment, toy: Flask, engine: Engine,
                                               runtime: SimRuntime) -> None:
    create_widgets(toy, 2)
    env.run(until=runtime.drain())
    calls_before = dict(context_of(toy).calls)
    result = engine.replay("toy", None)
    env.run(until=runtime.drain())
    assert (result.events, result.cursor) == (2, "4")  # the two created; the polished ones, no flow's, passed over
    assert engine.snapshot().flows["polishing"].duplicates == 2
    assert context_of(toy).calls[("polishWidget", 200)] == calls_before[("polishWidget", 200)] == 2
    assert engine.ports.ledger.cursor("toy") == "4"


def test_a_quiet_feed_is_polled_less_and_a_busy_one_at_once(env: simpy.Environment, toy: Flask,
                                                            engine: Engine) -> None:
    runtime = SimRuntime(env, engine, poll_interval_s=30.0, max_poll_interval_s=900.0)
    runtime.start()
    env.run(until=6 * 3600)
    quiet_reads = context_of(toy).calls[("listEvents", 200)]
    assert quiet_reads < 6 * 3600 / 30 / 10  # backed off to 15 minutes: far fewer than one read per 30 s

    create_widgets(toy, 1)
    env.run(until=6 * 3600 + 900 + 60)
    assert statuses(toy) == ["POLISHED"]  # found within one backed-off interval, then polished at once


def test_a_feed_that_rings_on_append_is_read_only_after_it_rang_on_the_same_schedule(
        env: simpy.Environment, toy: Flask, engine: Engine) -> None:
    runtime = SimRuntime(env, engine, poll_interval_s=30.0, max_poll_interval_s=900.0)
    context_of(toy).feed.subscribe(runtime.doorbell("toy"))
    runtime.start()
    env.run(until=6 * 3600)
    assert context_of(toy).calls[("listEvents", 200)] == 1  # found empty once; nothing rang since
    assert runtime.skipped_polls > 6 * 3600 / 900

    create_widgets(toy, 1)
    env.run(until=6 * 3600 + 900 + 60)
    assert statuses(toy) == ["POLISHED"]  # found within one backed-off interval, as without the doorbell
    # the new widget, then the polish's own event; each read reached the feed's end, so no empty read follows
    assert context_of(toy).calls[("listEvents", 200)] == 3
    env.run(until=12 * 3600)
    assert context_of(toy).calls[("listEvents", 200)] == 3


def test_while_a_system_is_down_one_key_probes_it_and_the_others_wait(env: simpy.Environment, toy: Flask,
                                                                      engine: Engine, runtime: SimRuntime) -> None:
    add_fault(toy, "outage", start=T0, duration=240, operations=["polishWidget"], retry_after=20)
    create_widgets(toy, 5)
    env.run(until=runtime.drain())
    assert statuses(toy) == ["POLISHED"] * 5
    assert min(engine.snapshot().sync_lag_s) >= 240
    failed = context_of(toy).calls[("polishWidget", 503)]
    assert runtime.deferred_retries == 4  # each other key found it down once, then waited for the probe
    assert failed <= 4 + 9  # the four, and one key's retries over four minutes (not five keys' each)
    assert engine.ports.ledger.exceptions() == [] and runtime.idle


def test_a_keys_queued_messages_go_to_the_batch_form_of_their_handler(env: simpy.Environment, toy: Flask) -> None:
    batches: list[list[str]] = []

    def polish(message: SourceEvent, ports: Ports) -> None:
        batches.append([message.subject])

    def polish_all(messages: Sequence[SourceEvent], ports: Ports) -> None:
        batches.append([message.subject for message in messages])

    flow = Flow("polishing", {"toy.widget.created": [polish]}, lambda event: "one-key",
                batch_handlers={polish: polish_all})
    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN, client_id="firmsim", client_secret="firmsim-secret"),),
        clock=EnvironmentClock(env, T0), seed=1, flows=(flow,)))
    runtime = SimRuntime(env, engine, poll_interval_s=30.0)
    runtime.start()
    ids = create_widgets(toy, 5)
    env.run(until=runtime.drain())
    assert batches == [ids]  # one feed page, one key: one call of the batch form, in feed order
    assert engine.snapshot().flows["polishing"].processed == 5


def test_a_feed_read_that_filled_its_pages_is_read_on_without_a_ring(env: simpy.Environment, toy: Flask) -> None:
    seen: list[str] = []

    def note(message: SourceEvent, ports: Ports) -> None:
        seen.append(message.subject)  # writes nothing: no append rings the doorbell after the first reads

    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN, client_id="firmsim", client_secret="firmsim-secret"),),
        clock=EnvironmentClock(env, T0), seed=1, flows=(Flow("noting", {"toy.widget.created": [note]}, by_subject),)))
    engine.pollers["toy"].limit, engine.pollers["toy"].max_pages = 2, 1
    runtime = SimRuntime(env, engine, poll_interval_s=30.0, max_poll_interval_s=900.0)
    context_of(toy).feed.subscribe(runtime.doorbell("toy"))
    ids = create_widgets(toy, 5)
    runtime.start()
    env.run(until=3600)
    assert seen == ids
    assert context_of(toy).calls[("listEvents", 200)] == 3  # two full pages, then the last one, not full: the end
