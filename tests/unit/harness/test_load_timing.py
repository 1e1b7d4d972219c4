"""Where the time went in a load run: parts derived from the engine's components, the broker's share
when the workers time it, and what is said not to be measured."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.engine_worker import BROKER_PUBLISH, _MetricsFile, _TimedPublisher
from harness.load.report import render_html
from harness.load.service_cpu import cpu_seconds, spent
from harness.load.timing import bus_window, where_the_time_went
from syncengine.adapters.bus.timings import BusTimings, histogram_of
from syncengine.runtime.metrics import Metrics

NOTHING: tuple[dict[str, float], dict[str, float], dict[str, float]] = ({}, {}, {})


def test_ledger_and_engine_code_are_what_attempts_and_handlers_leave_over() -> None:
    after = ({"psa": 2.0, "erp": 1.0}, {"attempts": 10.0, "handlers": 7.0, "api_calls": 5.0, "intake_calls": 1.5},
             {"business_events": 100.0, "api_calls": 250.0})

    time = where_the_time_went(NOTHING, after)

    assert time["seconds"] == {"systems (request handling, all callers)": 3.0,
                               "engine: API calls (client side, incl. target systems)": 5.0,
                               "engine: feed reads": 1.5, "engine: ledger (tracking, unit of work)": 3.0,
                               "engine: own code (handlers minus their API calls)": 2.0}
    assert time["engine_counters"]["api_calls_per_business_event"] == 2.5
    assert time["not_measured"] == ["broker: none here (the embedded runtime has no bus)"]


def test_the_workers_publishing_time_is_the_brokers_share_and_delivery_is_said_to_be_unmeasured() -> None:
    after: tuple[dict[str, float], dict[str, float], dict[str, float]] = (
        {}, {"attempts": 4.0, "handlers": 3.0, BROKER_PUBLISH: 1.25}, {})

    time = where_the_time_went(({}, {BROKER_PUBLISH: 0.25}, {}), after)

    assert time["seconds"]["broker: publishing (until confirmed)"] == 1.0
    assert time["share"]["broker: publishing (until confirmed)"] == 1.0 / (1.0 + 3.0 + 1.0)  # ledger, own code
    assert time["not_measured"] == ["broker: the time from publish to delivery to a consumer, and acks, are not timed"]


class _SlowPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[int, bytes, str]] = []

    def publish(self, partition: int, body: bytes, message_id: str) -> None:
        self.published.append((partition, body, message_id))

    def publish_batch(self, messages: Sequence[tuple[int, bytes, str]]) -> None:
        self.published.extend(messages)

    def close(self) -> None:
        pass


def test_a_timed_publisher_publishes_everything_and_adds_its_seconds_to_the_broker_component() -> None:
    seconds: defaultdict[str, float] = defaultdict(float)
    inner = _SlowPublisher()
    publisher = _TimedPublisher(inner, lambda component, spent: seconds.__setitem__(component,
                                                                                   seconds[component] + spent))

    publisher.publish(1, b"a", "m1")
    publisher.publish_batch([(2, b"b", "m2"), (3, b"c", "m3")])

    assert [message_id for _, _, message_id in inner.published] == ["m1", "m2", "m3"]
    assert list(seconds) == [BROKER_PUBLISH] and seconds[BROKER_PUBLISH] > 0


NOW_NS = 1_700_000_000_000_000_000
_NO_LAG = {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "p99_9": 0.0, "max": 0.0, "mean": 0.0}
_REPORT: dict[str, Any] = {
    "profile": "steady", "profile_description": "steady", "engine": "1 worker", "saturation": None,
    "options": {"rate": 10, "duration_s": 1, "clients": 1}, "machine": {"cpus": 2, "load_average_1m_at_end": 1.0},
    "requests": {}, "run": {"offered": 1, "completed": 1, "throughput_per_s": 1.0, "errors": {}, "drained": True,
                            "unsynced": {}, "response_time_s": _NO_LAG, "service_time_s": _NO_LAG,
                            "sync_lag_s": {"all": _NO_LAG},
                            "timeline": [{"second": 0, "offered": 1, "completed": 1, "lag_p99_s": 0.0}]}}


def _worker(delays_s: list[float], acks_s: list[float], acking_s: float) -> BusTimings:
    timings = BusTimings()
    for delay_s in delays_s:
        timings.delivered(NOW_NS - int(delay_s * 1e9), now_ns=NOW_NS)
    timings.acked(acks_s, acking_s)
    return timings


def test_a_publish_stamp_read_back_after_a_wait_is_the_delivery_delay_and_survives_encoding() -> None:
    timings = BusTimings()
    timings.delivered(NOW_NS - 250_000_000, now_ns=NOW_NS)
    timings.delivered(NOW_NS + 1_000_000, now_ns=NOW_NS)  # a consumer clock a millisecond behind the publisher's
    timings.delivered(None)

    histogram = histogram_of(timings.to_dict()["delivery_delay_us"])

    assert histogram.get_total_count() == 2
    assert histogram.get_max_value() == histogram.get_highest_equivalent_value(250_000)
    assert histogram.get_min_value() == 1
    assert (timings.clock_skewed, timings.unstamped) == (1, 1)


def test_the_scraped_delay_buckets_count_what_hdrhistogram_reports_at_or_below_each_bound() -> None:
    bounds_s = (0.0005, 0.0025, 0.0025011, 0.1, 1.0, 60.0, 3600.0, 4000.0)
    delays_us = [1, 499, 500, 501, 2_500, 2_501, 2_503, 99_999, 100_000, 100_100, 59_990_000, 60_100_000,
                 3_600_000_000]
    timings = BusTimings()
    for delay_us in delays_us:
        timings.delivery.record_value(delay_us)

    buckets, _ = timings.buckets("delivery", bounds_s)

    reported = [(item.value_iterated_to, item.count_at_value_iterated_to)
                for item in timings.delivery.get_recorded_iterator()]
    expected = [(str(bound), float(sum(count for value, count in reported if value <= bound * 1e6)))
                for bound in bounds_s]
    assert buckets == [*expected, ("+Inf", float(len(delays_us)))]
    # 2,500 us is one value with 2,501 to the histogram (3 digits): above 0.0025 s, at or below 0.0025011 s
    assert (buckets[1], buckets[2]) == (("0.0025", 4.0), ("0.0025011", 6.0))


def test_the_phase_bus_timings_are_the_workers_merged_less_what_they_held_before() -> None:
    first, second = _worker([0.004] * 90, [0.001] * 90, 0.5), _worker([1.0] * 5, [0.002] * 5, 0.25)
    before = [first.to_dict(), second.to_dict()]
    for _ in range(10):
        first.delivered(NOW_NS - 20_000_000, now_ns=NOW_NS)
    second.delivered(NOW_NS - 2_000_000_000, now_ns=NOW_NS)
    first.acked([0.003] * 10, 0.125)
    second.acked([0.003], 0.125)

    window = bus_window(before, [first.to_dict(), second.to_dict()])

    delivery = window["publish_to_delivery_s"]
    assert delivery["count"] == 11
    assert delivery["p50"] == pytest.approx(0.020, rel=1e-3)
    assert delivery["max"] == pytest.approx(2.0, rel=1e-3)
    assert window["finished_to_ack_s"]["count"] == 11
    assert window["finished_to_ack_s"]["max"] == pytest.approx(0.003, rel=1e-3)
    assert window["ack_seconds"] == 0.25


def test_with_bus_timings_acking_is_a_part_delivery_a_latency_and_cpu_is_per_business_event() -> None:
    worker = _worker([0.01, 0.03], [0.001, 0.001], 0.5)
    bus = bus_window([], [worker.to_dict()])
    after: tuple[dict[str, float], dict[str, float], dict[str, float]] = (
        {}, {"attempts": 4.0, "handlers": 3.0, BROKER_PUBLISH: 1.0}, {"business_events": 400.0})

    time = where_the_time_went(NOTHING, after, bus=bus, cpu_s={"postgres": 0.5, "rabbitmq": 0.25},
                               business_events=250)

    assert time["seconds"]["broker: acking (consumer thread)"] == 0.5
    assert sum(time["share"].values()) == pytest.approx(1.0)
    assert time["latency_s"]["broker: publish to delivery to a consumer"]["count"] == 2
    assert time["latency_s"]["broker: publish to delivery to a consumer"]["max"] == pytest.approx(0.03, rel=1e-3)
    assert not any("are not timed" in part for part in time["not_measured"])
    assert any("clock" in part for part in time["not_measured"])
    assert time["cpu"]["ms_per_business_event"] == {"postgres": 2.0, "rabbitmq": 1.0, "total": 3.0}
    html = render_html({**_REPORT, "time": time})
    assert "broker: publish to delivery to a consumer" in html and "ms per business event" in html


def test_cpu_spent_counts_each_process_from_its_first_reading_and_a_new_one_whole() -> None:
    before = {"postgres": {10: 1.0, 11: 2.0}, "rabbitmq": {20: 5.0}}
    after = {"postgres": {10: 1.5, 11: 2.0, 12: 0.25}, "rabbitmq": {20: 5.5}}

    assert spent(before, after) == {"postgres": 0.75, "rabbitmq": 0.5}
    assert cpu_seconds(os.getpid()) > 0
    assert cpu_seconds(2**22 + 1) == 0.0  # beyond pid_max: no such process


def test_a_workers_metrics_file_carries_its_bus_timings_for_the_load_report(tmp_path: Path) -> None:
    timings = _worker([0.5], [0.002], 0.25)
    path = tmp_path / "worker-1.metrics.json"

    _MetricsFile(path, timings).write(Metrics().snapshot(), final=False)

    written = json.loads(path.read_text())["bus"]
    assert histogram_of(written["delivery_delay_us"]).get_total_count() == 1
    assert bus_window([], [written])["publish_to_delivery_s"]["max"] == pytest.approx(0.5, rel=1e-3)

