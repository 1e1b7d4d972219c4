"""The engine's metrics in Prometheus form: a collector over its `MetricsSnapshot`, and a server for it.

    collector = EngineCollector.of(engine)            # or EngineCollector(runtime.snapshot, ...)
    server = start_metrics_server(9464, collector)    # GET http://127.0.0.1:9464/metrics
    ...
    server.stop()

The collector reads a fresh snapshot on every scrape; the sync-lag histogram is folded in
incrementally (samples are only ever appended), so a scrape costs what arrived since the last one.
Each collector goes into its own `CollectorRegistry`; nothing touches prometheus_client's global one.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from syncengine.runtime.metrics import MetricsSnapshot

if TYPE_CHECKING:
    from syncengine.adapters.bus.timings import BusTimings
    from syncengine.runtime.engine import Engine

SYNC_LAG_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
                      3600.0, 14400.0, 86400.0)
BUS_DELAY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                       60.0)

_FLOW_COUNTERS = (
    ("deliveries", "Deliveries queued to a flow's handlers."),
    ("processed", "Deliveries processed (effects committed)."),
    ("duplicates", "Deliveries skipped as already processed."),
    ("retries", "Attempts that failed transiently and were retried."),
    ("exceptions", "Business exceptions raised to the exception queue."),
    ("dead_letters", "Messages dead-lettered."),
    ("api_calls", "API calls made by a flow's handlers."),
)
_ENGINE_COUNTERS = (
    ("events_received", "Events taken in (feed and webhooks), duplicates included."),
    ("duplicate_events", "Events taken in again and skipped."),
    ("ignored_events", "Events no flow handles."),
    ("malformed_events", "Events that could not be parsed."),
    ("rejected_signatures", "Webhooks refused for a bad signature."),
    ("business_events", "Business events processed by all flows."),
    ("retries", "Retries, all flows."),
    ("throttled_calls", "API calls answered 429."),
    ("exceptions", "Business exceptions, all flows."),
    ("dead_letters", "Dead letters, all flows."),
)


@dataclass(slots=True)
class _LagHistogram:
    """Cumulative bucket counts of one flow's sync lag, fed the samples not seen yet."""

    seen: int = 0
    counts: list[int] = field(default_factory=lambda: [0] * (len(SYNC_LAG_BUCKETS_S) + 1))
    total: float = 0.0

    def add(self, samples: list[float]) -> None:
        """Fold in the samples after the ones already seen."""
        for sample in samples[self.seen:]:
            self.counts[bisect.bisect_left(SYNC_LAG_BUCKETS_S, sample)] += 1
            self.total += sample
        self.seen = max(self.seen, len(samples))

    def buckets(self) -> list[tuple[str, float]]:
        """Return the cumulative (le, count) pairs Prometheus wants."""
        cumulative = 0
        pairs = []
        for bound, count in zip((*map(str, SYNC_LAG_BUCKETS_S), "+Inf"), self.counts, strict=True):
            cumulative += count
            pairs.append((bound, float(cumulative)))
        return pairs


class EngineCollector(Collector):
    """Expose an engine's snapshot (and the wall time by component, when given) to Prometheus."""

    def __init__(self, snapshot: Callable[[], MetricsSnapshot], *,
                 seconds: Callable[[], Mapping[str, float]] | None = None,
                 extra_gauges: Callable[[], Mapping[str, float]] | None = None,
                 bus_timings: BusTimings | None = None) -> None:
        self._snapshot = snapshot
        self._bus_timings = bus_timings
        owner = getattr(snapshot, "__self__", None)  # engine.snapshot: its metrics hold the wall seconds too
        spent = getattr(getattr(owner, "metrics", None), "seconds", None)
        if seconds is None and isinstance(spent, dict):
            seconds = lambda: dict(spent)  # noqa: E731
        self._seconds = seconds
        self._extra_gauges = extra_gauges
        self._lag: dict[str, _LagHistogram] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, engine: Engine) -> EngineCollector:
        """Return a collector over an engine's own metrics."""
        return cls(engine.snapshot, seconds=lambda: dict(engine.metrics.seconds))

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families of one scrape."""
        snapshot = self._snapshot()
        for name, help_text in _ENGINE_COUNTERS:
            yield CounterMetricFamily(f"firmsim_engine_{name}", help_text, value=getattr(snapshot, name))
        for name, help_text in _FLOW_COUNTERS:
            family = CounterMetricFamily(f"firmsim_engine_flow_{name}", help_text, labels=["flow"])
            for flow, counts in snapshot.flows.items():
                family.add_metric([flow], getattr(counts, name))
            yield family
        calls = CounterMetricFamily("firmsim_engine_api_calls", "API calls by target system and status "
                                    "(HTTP status, or timeout / connection-error / lost-response).",
                                    labels=["system", "status"])
        for system, statuses in snapshot.api_calls.items():
            for status, count in statuses.items():
                calls.add_metric([system, status], count)
        yield calls
        yield from self._gauges(snapshot)
        yield self._lag_family(snapshot)
        if self._seconds is not None:
            spent = CounterMetricFamily("firmsim_engine_seconds", "Wall seconds spent by component "
                                        "(attempts, handlers, api_calls, intake_calls, broker ...).",
                                        labels=["component"])
            for component, seconds in sorted(self._seconds().items()):
                spent.add_metric([component], seconds)
            yield spent
        if self._bus_timings is not None:
            yield from self._bus_families(self._bus_timings)

    @staticmethod
    def _bus_families(timings: BusTimings) -> Iterator[Metric]:
        for which, name, help_text in (
                ("delivery", "firmsim_engine_bus_delivery_delay_seconds",
                 "Publish (the publisher's wall clock) to delivery to this worker's consumer."),
                ("ack", "firmsim_engine_bus_ack_delay_seconds",
                 "A message finished to its ack written to the broker.")):
            buckets, total = timings.buckets(which, BUS_DELAY_BUCKETS_S)
            yield HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=total)
        yield CounterMetricFamily("firmsim_engine_bus_ack_seconds", "Seconds the consumer's thread spent acking.",
                                  value=timings.ack_seconds)

    def _gauges(self, snapshot: MetricsSnapshot) -> Iterator[Metric]:
        values: dict[str, tuple[float, str]] = {
            "queue_depth": (snapshot.queue_depth, "Messages waiting in the engine's queues."),
            "max_queue_depth": (snapshot.max_queue_depth, "Deepest the queues have been."),
            "parked_keys": (snapshot.parked_keys, "Keys parked behind an open business exception."),
            "api_calls_per_business_event": (snapshot.api_calls_per_business_event,
                                             "Handler API calls per business event processed."),
        }
        if self._extra_gauges is not None:
            values.update({name: (value, f"{name} (runtime)") for name, value in self._extra_gauges().items()})
        for name, (value, help_text) in values.items():
            yield GaugeMetricFamily(f"firmsim_engine_{name}", help_text, value=value)

    def _lag_family(self, snapshot: MetricsSnapshot) -> Metric:
        family = HistogramMetricFamily("firmsim_engine_sync_lag_seconds",
                                       "Source commit to target commit, per flow.", labels=["flow"])
        with self._lock:
            for flow, counts in snapshot.flows.items():
                histogram = self._lag.setdefault(flow, _LagHistogram())
                histogram.add(counts.sync_lag_s)
                family.add_metric([flow], histogram.buckets(), histogram.total)
        return family


@dataclass(slots=True)
class MetricsServer:
    """A running /metrics endpoint."""

    port: int
    registry: CollectorRegistry
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        """Return the scrape URL."""
        host, _ = self._server.server_address[:2]
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(port: int, collector: Collector, host: str = "127.0.0.1") -> MetricsServer:
    """Serve `collector` (in a registry of its own) at http://host:port/metrics; port 0 picks a free one."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(server.server_address[1], registry, server, thread)
