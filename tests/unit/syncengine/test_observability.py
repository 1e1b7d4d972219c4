"""The engine's /metrics (Prometheus text format, scraped over HTTP) and its traceparent propagation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import prometheus_client
import pytest
import simpy
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from simulators.common.app import context_of
from syncengine.adapters.bus.timings import BusTimings
from syncengine.adapters.tracing import handling, outbound_traceparent, parse_traceparent
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.domain import SourceEvent, by_subject
from syncengine.ports import Ports
from syncengine.retry import Backoff, RetryPolicy
from syncengine.runtime import Engine, Flow
from syncengine.runtime.prometheus import EngineCollector, start_metrics_server
from syncengine.runtime.sim import EnvironmentClock, SimRuntime
from tests.unit.common.toy import create_app
from tests.unit.syncengine.conftest import T0, add_fault

TOKEN = "firmsim-dev-token"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
ACTOR_TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def handle_widget_created(message: SourceEvent, ports: Ports) -> None:
    """Polish a new widget; the handler passes no traceparent, the client adds it."""
    toy = ports.client("toy")
    widget = toy.get(f"/widgets/{message.subject}")
    toy.post(f"/widgets/{message.subject}/polish", idempotency_key=ports.idempotency_key(message, "polish"),
             if_match=widget.etag)


POLISHING = Flow("polishing", {"toy.widget.created": [handle_widget_created]}, by_subject)


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def toy(env: simpy.Environment) -> Flask:
    return create_app({"CLOCK": EnvironmentClock(env, T0), "SYSTEM_NAME": "toy"})


@pytest.fixture
def engine(env: simpy.Environment, toy: Flask) -> Iterator[Engine]:
    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN),), clock=EnvironmentClock(env, T0), seed=1,
        flows=(POLISHING,), retry=RetryPolicy(max_attempts=10, backoff=Backoff(base_s=5.0, cap_s=60.0))))
    SimRuntime(env, engine, poll_interval_s=30.0).start()
    yield engine


def create_widget(toy: Flask, traceparent: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {TOKEN}", **({"traceparent": traceparent} if traceparent else {})}
    widget_id: str = toy.test_client().post("/widgets", json={"name": "w"}, headers=headers).get_json()["id"]
    return widget_id


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(url, timeout=5)
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def test_metrics_server_exposes_counts_api_calls_and_the_sync_lag_histogram(
        env: simpy.Environment, toy: Flask, engine: Engine) -> None:
    add_fault(toy, "outage", start=T0, duration=60, operations=["polishWidget"], retry_after=20)
    create_widget(toy)
    create_widget(toy)
    env.run(until=400)
    server = start_metrics_server(0, EngineCollector.of(engine))
    try:
        samples = scrape(server.url)
    finally:
        server.stop()

    snapshot = engine.snapshot()
    assert snapshot.business_events == 2 and snapshot.retries >= 2
    # the created ones: the feed is asked only for the types a flow handles, so no polished one is read
    assert samples[("firmsim_engine_events_received_total", ())] == 2
    assert samples[("firmsim_engine_ignored_events_total", ())] == 0
    assert samples[("firmsim_engine_business_events_total", ())] == 2
    assert samples[("firmsim_engine_retries_total", ())] == snapshot.retries
    assert samples[("firmsim_engine_flow_processed_total", (("flow", "polishing"),))] == 2
    assert samples[("firmsim_engine_api_calls_total", (("status", "503"), ("system", "toy")))] == snapshot.retries
    assert samples[("firmsim_engine_api_calls_total", (("status", "200"), ("system", "toy")))] >= 4
    assert samples[("firmsim_engine_dead_letters_total", ())] == 0
    assert samples[("firmsim_engine_queue_depth", ())] == 0
    assert samples[("firmsim_engine_sync_lag_seconds_count", (("flow", "polishing"),))] == 2
    assert samples[("firmsim_engine_sync_lag_seconds_bucket", (("flow", "polishing"), ("le", "30.0")))] == 0
    assert samples[("firmsim_engine_sync_lag_seconds_bucket", (("flow", "polishing"), ("le", "300.0")))] == 2
    assert samples[("firmsim_engine_sync_lag_seconds_sum", (("flow", "polishing"),))] == pytest.approx(
        sum(snapshot.sync_lag_s))
    assert samples[("firmsim_engine_seconds_total", (("component", "handlers"),))] > 0
    assert "firmsim_engine" not in prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()


def test_a_collector_over_engine_snapshot_exposes_the_engine_wall_seconds_too(
        env: simpy.Environment, toy: Flask, engine: Engine) -> None:
    registry = prometheus_client.CollectorRegistry()
    registry.register(EngineCollector(engine.snapshot))
    create_widget(toy)
    env.run(until=100)
    assert (registry.get_sample_value("firmsim_engine_seconds_total", {"component": "attempts"}) or 0) > 0


def test_a_second_scrape_adds_only_the_new_lag_samples(env: simpy.Environment, toy: Flask, engine: Engine) -> None:
    collector = EngineCollector.of(engine)
    registry = prometheus_client.CollectorRegistry()
    registry.register(collector)
    create_widget(toy)
    env.run(until=100)
    assert registry.get_sample_value("firmsim_engine_sync_lag_seconds_count", {"flow": "polishing"}) == 1
    create_widget(toy)
    env.run(until=200)
    assert registry.get_sample_value("firmsim_engine_sync_lag_seconds_count", {"flow": "polishing"}) == 2


def test_engine_calls_for_an_event_carry_its_trace_id_with_new_span_ids(
        env: simpy.Environment, toy: Flask, engine: Engine) -> None:
    widget_id = create_widget(toy, ACTOR_TRACEPARENT)
    env.run(until=100)

    created, polished = context_of(toy).feed.all()
    assert created["traceparent"] == ACTOR_TRACEPARENT
    assert polished["subject"] == widget_id and polished["type"] == "toy.widget.polished"
    engine_trace = parse_traceparent(polished["traceparent"])
    assert engine_trace is not None
    assert engine_trace.trace_id == TRACE_ID
    assert engine_trace.parent_id != "00f067aa0ba902b7"


def test_a_system_ignores_a_malformed_traceparent(env: simpy.Environment, toy: Flask) -> None:
    create_widget(toy, "00-not-a-trace-01")
    [created] = context_of(toy).feed.all()
    assert "traceparent" not in created


def test_outbound_span_ids_are_new_per_call_and_repeat_for_the_same_salt() -> None:
    def spans(salt: str) -> list[str]:
        with handling(ACTOR_TRACEPARENT, salt):
            return [value for value in (outbound_traceparent(), outbound_traceparent()) if value]

    first, second = spans("crm:crm-000001/h|1")
    assert re.fullmatch(rf"00-{TRACE_ID}-[0-9a-f]{{16}}-01", first) and first != second
    assert spans("crm:crm-000001/h|1") == [first, second]
    assert spans("crm:crm-000001/h|2")[0] != first
    assert outbound_traceparent() is None
    with handling("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "x"):
        assert outbound_traceparent() is None


def test_a_workers_bus_delivery_delays_and_ack_times_are_exposed_as_histograms(engine: Engine) -> None:
    timings = BusTimings()
    now_ns = 1_700_000_000_000_000_000
    for delay_s in (0.002, 0.002, 0.3):
        timings.delivered(now_ns - int(delay_s * 1e9), now_ns=now_ns)
    timings.acked([0.0001, 0.02], spent_s=0.004)
    registry = prometheus_client.CollectorRegistry()
    registry.register(EngineCollector(engine.snapshot, bus_timings=timings))

    def sample(name: str, labels: dict[str, str] | None = None) -> float | None:
        return registry.get_sample_value(name, labels or {})

    assert sample("firmsim_engine_bus_delivery_delay_seconds_bucket", {"le": "0.0025"}) == 2
    assert sample("firmsim_engine_bus_delivery_delay_seconds_bucket", {"le": "0.25"}) == 2
    assert sample("firmsim_engine_bus_delivery_delay_seconds_bucket", {"le": "0.5"}) == 3
    assert sample("firmsim_engine_bus_delivery_delay_seconds_count") == 3
    assert sample("firmsim_engine_bus_delivery_delay_seconds_sum") == pytest.approx(0.304)
    assert sample("firmsim_engine_bus_ack_delay_seconds_bucket", {"le": "0.0005"}) == 1
    assert sample("firmsim_engine_bus_ack_delay_seconds_count") == 2
    assert sample("firmsim_engine_bus_ack_seconds_total") == pytest.approx(0.004)
