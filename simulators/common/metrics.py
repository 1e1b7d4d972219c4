"""Prometheus metrics of one system instance, served at `GET /metrics` (outside auth and the spec).

Each app has its own `CollectorRegistry`, so several systems (and several test apps) in one process
never share or pollute a global one. Request counts and latencies are observed as requests finish;
faults, webhooks and the feed are read from the system's own counters at scrape time.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import prometheus_client.metrics
from flask import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

if TYPE_CHECKING:
    from simulators.common.app import SystemContext

LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _StateCollector(Collector):
    """Read faults, webhook deliveries and the feed size from a system context when scraped."""

    def __init__(self, context: Callable[[], SystemContext]) -> None:
        self._context = context

    def collect(self) -> Iterator[Metric]:
        context = self._context()
        system = context.name
        requests = CounterMetricFamily("firmsim_system_requests", "Business API requests answered, by operation id "
                                       "and status (since the last admin reset).",
                                       labels=["system", "operation", "status"])
        for (operation_id, status), count in sorted(context.calls.items()):
            requests.add_metric([system, operation_id, str(status)], count)
        yield requests
        faults = CounterMetricFamily("firmsim_system_faults_injected", "Faults the fault plane injected, by kind.",
                                     labels=["system", "kind"])
        for kind, count in sorted(context.faults.injected.items()):
            faults.add_metric([system, kind], count)
        yield faults
        delivered = sum(s.delivered for s in context.webhooks.subscriptions.values())
        failed = sum(s.failed for s in context.webhooks.subscriptions.values())
        webhooks = CounterMetricFamily("firmsim_system_webhook_deliveries",
                                       "Webhook delivery attempts, by result (delivered, failed).",
                                       labels=["system", "result"])
        webhooks.add_metric([system, "delivered"], delivered)
        webhooks.add_metric([system, "failed"], failed)
        yield webhooks
        gave_up = CounterMetricFamily("firmsim_system_webhook_gave_up",
                                      "Webhook deliveries abandoned after the last attempt.", labels=["system"])
        gave_up.add_metric([system], context.webhooks.gave_up)
        yield gave_up
        pending = GaugeMetricFamily("firmsim_system_webhook_pending", "Webhook deliveries waiting to be sent.",
                                    labels=["system"])
        pending.add_metric([system], context.webhooks.pending())
        yield pending
        feed = GaugeMetricFamily("firmsim_system_feed_events", "Events in the system's feed.", labels=["system"])
        feed.add_metric([system], len(context.feed))
        yield feed


class _Series:
    """One label set's observations: count per bucket, sum, and when the series began."""

    __slots__ = ("counts", "created", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0.0] * buckets
        self.total = 0.0
        self.created = time.time()


class _LatencyHistogram(Collector):
    """Request latencies by operation and status, exposed exactly as prometheus_client's `Histogram` is.

    Every business request is observed, and `Histogram.observe` (a mutex per increment, a linear
    walk of the buckets) was a visible share of an in-process call; this keeps plain counts under
    one lock and builds the same samples (buckets, _count, _sum, _created) when scraped.
    """

    name = "firmsim_system_request_duration_seconds"
    documentation = "Time to answer a business API request, by operation id and status (its _count counts requests)."

    def __init__(self, system: str) -> None:
        self.system = system
        self.bounds = (*LATENCY_BUCKETS_S, math.inf)
        self.bound_labels = tuple(floatToGoString(bound) for bound in self.bounds)  # type: ignore[no-untyped-call]
        self._series: dict[tuple[str, int], _Series] = {}
        self._lock = threading.Lock()

    def observe(self, operation_id: str, status: int, seconds: float) -> None:
        """Count one request and its duration."""
        with self._lock:
            series = self._series.get((operation_id, status))
            if series is None:
                series = self._series[(operation_id, status)] = _Series(len(self.bounds))
            series.total += seconds
            series.counts[bisect.bisect_left(self.bounds, seconds)] += 1.0  # the first bucket it fits, as observe

    def collect(self) -> Iterator[Metric]:
        metric = Metric(self.name, self.documentation, "histogram")
        with self._lock:
            snapshot = [(key, list(series.counts), series.total, series.created)
                        for key, series in self._series.items()]
        with_created = getattr(prometheus_client.metrics, "_use_created", True)
        for (operation_id, status), counts, total, created in snapshot:
            labels = {"system": self.system, "operation": operation_id, "status": str(status)}
            cumulative = 0.0
            for bound, count in zip(self.bound_labels, counts, strict=True):
                cumulative += count
                metric.add_sample(self.name + "_bucket", {**labels, "le": bound}, cumulative)
            metric.add_sample(self.name + "_count", labels, cumulative)
            metric.add_sample(self.name + "_sum", labels, total)
            if with_created:
                metric.add_sample(self.name + "_created", labels, created)
        yield metric


class SystemMetrics:
    """One system's registry: request counts and latency histograms, plus its state read at scrape time."""

    def __init__(self, context: Callable[[], SystemContext], system: str) -> None:
        self.system = system
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = _LatencyHistogram(system)
        self.registry.register(self.requests)
        self.registry.register(_StateCollector(context))

    def observe(self, operation_id: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        self.requests.observe(operation_id, status, seconds)

    def exposition(self) -> Response:
        """Return the registry in the Prometheus text format."""
        return Response(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)
