"""GET /metrics on every system: Prometheus text format, outside auth, faults and spec validation."""

from __future__ import annotations

from typing import Any

import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from simulators.common.clock import ManualClock, isoformat
from tests.unit.common import toy
from tests.unit.common.conftest import RecordingSender, ToyApi


def scrape(api: ToyApi) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of the toy's /metrics as {(name, sorted labels): value}, fetched without a token."""
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """Return one sample's value (0 when absent)."""
    return samples.get((name, tuple(sorted({"system": "toy", **labels}.items()))), 0.0)


def test_requests_are_counted_and_timed_by_operation_and_status(api: ToyApi) -> None:
    widget = api.create("sprocket").get_json()
    api.create("gear")
    api.get(f"/widgets/{widget['id']}")
    api.get("/widgets/W-999999")
    api.client.get("/widgets")  # no token: 401

    samples = scrape(api)

    assert value(samples, "firmsim_system_requests_total", operation="createWidget", status="201") == 2
    assert value(samples, "firmsim_system_request_duration_seconds_count", operation="createWidget",
                 status="201") == 2
    assert value(samples, "firmsim_system_request_duration_seconds_count", operation="getWidget", status="200") == 1
    assert value(samples, "firmsim_system_request_duration_seconds_count", operation="getWidget", status="404") == 1
    assert value(samples, "firmsim_system_request_duration_seconds_count", operation="listWidgets",
                 status="401") == 1
    assert value(samples, "firmsim_system_request_duration_seconds_sum", operation="createWidget", status="201") > 0
    assert value(samples, "firmsim_system_request_duration_seconds_bucket", operation="createWidget", status="201",
                 le="+Inf") == 2
    assert value(samples, "firmsim_system_feed_events") == 2
    assert not any(labels and dict(labels).get("operation") == "metrics" for _, labels in samples)


def test_metrics_answer_during_an_outage_and_count_the_faults_by_kind(api: ToyApi, clock: ManualClock) -> None:
    api.add_fault(kind="outage", start=isoformat(clock.now()), duration=60)
    api.create()
    api.get("/widgets")

    samples = scrape(api)

    assert value(samples, "firmsim_system_faults_injected_total", kind="outage") == 2
    assert value(samples, "firmsim_system_requests_total", operation="createWidget", status="503") == 1


def test_webhook_deliveries_and_failures_are_counted(api: ToyApi, sender: RecordingSender) -> None:
    subscribed = api.client.post("/admin/subscriptions",
                                 json={"url": "https://engine.example/hooks/toy", "secret": "whsec-test"})
    assert subscribed.status_code == 201
    sender.statuses.extend([500])
    api.create("one")
    api.create("two")
    api.context.deliver_webhooks()

    samples = scrape(api)

    assert value(samples, "firmsim_system_webhook_deliveries_total", result="delivered") == 1
    assert value(samples, "firmsim_system_webhook_deliveries_total", result="failed") == 1
    assert value(samples, "firmsim_system_webhook_pending") == 1


def test_metrics_need_no_token_even_when_the_admin_api_is_protected(config: dict[str, Any]) -> None:
    protected = ToyApi(toy.create_app({**config, "ADMIN_TOKEN": "admin-secret"}))

    assert protected.client.get("/admin/stats").status_code == 401
    assert value(scrape(protected), "firmsim_system_feed_events") == 0


def test_each_app_has_its_own_registry_and_the_global_one_stays_clean(api: ToyApi,
                                                                      config: dict[str, Any]) -> None:
    other = ToyApi(toy.create_app(config))
    api.create("only here")

    assert value(scrape(api), "firmsim_system_requests_total", operation="createWidget", status="201") == 1
    assert value(scrape(other), "firmsim_system_requests_total", operation="createWidget", status="201") == 0
    assert "firmsim_system" not in prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()


def test_latency_histogram_is_exposed_as_prometheus_client_exposes_a_histogram() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from simulators.common.metrics import LATENCY_BUCKETS_S, _LatencyHistogram

    observations = [("getWidget", 200, 0.0004), ("createWidget", 201, 0.0005), ("getWidget", 404, 0.003),
                    ("getWidget", 200, 0.0011), ("createWidget", 201, 12.5), ("getWidget", 200, 0.25),
                    ("listWidgets", 200, 0.0)]
    reference = CollectorRegistry(auto_describe=True)
    histogram = Histogram("firmsim_system_request_duration_seconds",
                          "Time to answer a business API request, by operation id and status (its _count counts "
                          "requests).", ["system", "operation", "status"], registry=reference,
                          buckets=LATENCY_BUCKETS_S)
    ours = CollectorRegistry(auto_describe=True)
    latencies = _LatencyHistogram("toy")
    ours.register(latencies)
    for operation_id, status, seconds in observations:
        histogram.labels("toy", operation_id, str(status)).observe(seconds)
        latencies.observe(operation_id, status, seconds)

    def without_created(text: bytes) -> list[str]:
        return [line for line in text.decode().splitlines() if "_created" not in line]

    exposed = generate_latest(ours)
    assert without_created(exposed) == without_created(generate_latest(reference))
    assert exposed.decode().count("firmsim_system_request_duration_seconds_created{") == 4
