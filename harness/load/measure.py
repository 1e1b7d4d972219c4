"""What a load run measures: HDR histograms of latency and sync lag, and the commits seen per trace.

Sync lag is measured on the systems' side, on one monotonic clock: a WSGI wrapper around each served
system notes when a write carrying a `traceparent` committed (its handler returned 2xx). The driver
marks the write that commits a business event (`Firmsim-Load-Source`); the engine's writes for that
event carry the same trace id (traceparent propagation), so the first commit on each other system
with the trace id is a target commit, and target - source is the sync lag.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.load.firm import SOURCE_HEADER

PERCENTILES = (50.0, 95.0, 99.0, 99.9)
MAX_TRACKED_US = 3_600_000_000  # one hour


class Percentiles:
    """An HDR histogram of durations in microseconds (3 significant digits, up to an hour)."""

    def __init__(self) -> None:
        self._histogram = HdrHistogram(1, MAX_TRACKED_US, 3)
        self._lock = threading.Lock()

    def record(self, seconds: float, count: int = 1) -> None:
        """Record a duration (`count` times: one per business event of a bulk action)."""
        micros = min(max(int(seconds * 1_000_000), 1), MAX_TRACKED_US)
        with self._lock:
            self._histogram.record_value(micros, count)

    @property
    def count(self) -> int:
        """Return how many durations were recorded."""
        return int(self._histogram.get_total_count())

    def summary(self) -> dict[str, float | int]:
        """Return count and p50/p95/p99/p99.9/max in seconds."""
        with self._lock:
            return summary_of(self._histogram)


def summary_of(histogram: HdrHistogram) -> dict[str, float | int]:
    """Return count, p50/p95/p99/p99.9, max and mean in seconds of a histogram of microseconds."""
    count = int(histogram.get_total_count())
    result: dict[str, float | int] = {"count": count}
    values = histogram.get_percentile_to_value_dict(list(PERCENTILES)) if count else {}
    for percentile in PERCENTILES:
        label = f"p{percentile:g}".replace(".", "_")
        result[label] = values[percentile] / 1e6 if count else 0.0
    result["max"] = histogram.get_max_value() / 1e6 if count else 0.0
    result["mean"] = mean_of(histogram) / 1e6 if count else 0.0
    return result


def recorded(histogram: HdrHistogram) -> Iterator[tuple[int, int]]:
    """Yield (counts index, count) of every bucket holding a value, read off the counts array: hdrh's
    recorded iterator builds an object per bucket (a histogram of 3,000 lags: 93 ms for its mean)."""
    return ((index, count) for index, count in enumerate(histogram.counts) if count)


def mean_of(histogram: HdrHistogram) -> float:
    """Return the mean of a histogram's values as `get_mean_value` does (each bucket's count times the
    middle of its range), in about a fiftieth of the time."""
    total = 0
    for index, count in recorded(histogram):
        lowest = histogram.get_lowest_equivalent_value(histogram.get_value_from_index(index))
        highest = histogram.get_highest_equivalent_value(lowest)
        total += count * (lowest + ((highest - lowest + 1) >> 1))
    return float(total) / int(histogram.get_total_count())


@dataclass(slots=True)
class _Trace:
    kind: str = ""
    source_system: str = ""
    source_at: float | None = None
    targets: dict[str, float] = field(default_factory=dict)


class CommitLog:
    """Commits seen per trace id: the source commit of each business event and its first target commits."""

    def __init__(self) -> None:
        self._traces: dict[str, _Trace] = {}
        self._sources: dict[str, str] = {}
        self._lock = threading.Lock()

    def expect_source(self, source_id: str, trace_id: str) -> None:
        """Note that the record `source_id` belongs to the business event of `trace_id`.

        The engine may sync a record under another event's trace (a batch posting a project's other
        approved entries with the one it handles); a write naming the record counts for its own event.
        """
        with self._lock:
            self._sources[source_id] = trace_id

    def committed_sources(self, source_ids: list[str], system: str, at: float) -> None:
        """Note a write that committed on `system` naming these source records."""
        with self._lock:
            for source_id in source_ids:
                trace = self._traces.get(self._sources.get(source_id, ""))
                if trace is not None and system not in trace.targets:
                    trace.targets[system] = at

    def committed_source_records(self, record_ids: list[str], system: str, at: float) -> None:
        """Note a source write (a bulk approval) that committed the events of these records."""
        with self._lock:
            for record_id in record_ids:
                trace = self._traces.get(self._sources.get(record_id, ""))
                if trace is not None and trace.source_at is None:
                    trace.source_system, trace.source_at = system, at

    def expect(self, trace_id: str, kind: str) -> None:
        """Note that a business event of `kind` runs under `trace_id`."""
        with self._lock:
            self._traces.setdefault(trace_id, _Trace()).kind = kind

    def committed(self, trace_id: str, system: str, at: float, source: bool) -> None:
        """Note a write that committed on `system` at monotonic time `at`."""
        with self._lock:
            trace = self._traces.get(trace_id)
            if trace is None:
                return  # a trace the driver did not start (setup, another client)
            if source:
                trace.source_system, trace.source_at = system, at
            elif system not in trace.targets:
                trace.targets[system] = at

    def lags(self, since: float = float("-inf"), until: float = float("inf")) -> list[tuple[str, float, float]]:
        """Return (kind, source commit time, lag) of every target commit whose source committed in the window."""
        with self._lock:
            traces = list(self._traces.values())
        samples = []
        for trace in traces:
            if trace.source_at is None or not since <= trace.source_at < until:
                continue
            for system, at in trace.targets.items():
                if system != trace.source_system:
                    samples.append((trace.kind, trace.source_at, max(0.0, at - trace.source_at)))
        return samples

    def synced(self, since: float = float("-inf"), until: float = float("inf")) -> int:
        """Return how many business events committed in the window reached another system."""
        with self._lock:
            traces = list(self._traces.values())
        return sum(1 for trace in traces if trace.source_at is not None and since <= trace.source_at < until
                   and any(system != trace.source_system for system in trace.targets))

    def unsynced(self, since: float = float("-inf"), until: float = float("inf")) -> dict[str, int]:
        """Return, per kind, the business events committed in the window with no target commit yet."""
        with self._lock:
            traces = list(self._traces.values())
        counts: dict[str, int] = {}
        for trace in traces:
            synced = any(system != trace.source_system for system in trace.targets)
            if trace.source_at is not None and since <= trace.source_at < until and not synced:
                counts[trace.kind] = counts.get(trace.kind, 0) + 1
        return counts


class CommitWatch:
    """WSGI wrapper noting each traced write a system commits (2xx) into a CommitLog."""

    def __init__(self, app: Callable[..., Iterable[bytes]], system: str, log: CommitLog) -> None:
        self.app = app
        self.system = system
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        traceparent = environ.get("HTTP_TRACEPARENT")
        if not traceparent or environ.get("REQUEST_METHOD") == "GET":
            return self.app(environ, start_response)
        status: list[int] = []

        def recording_start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(int(line.split(" ", 1)[0]))
            return start_response(line, headers, exc_info)

        sources, records = _source_ids(environ)
        body = self.app(environ, recording_start_response)
        if status and 200 <= status[0] < 300:
            at = time.perf_counter()
            parts = traceparent.split("-")
            source = environ.get("HTTP_" + SOURCE_HEADER.upper().replace("-", "_")) == "1"
            if len(parts) == 4:
                self.log.committed(parts[1], self.system, at, source)
            if sources:
                self.log.committed_sources(sources, self.system, at)
            if source and records:
                self.log.committed_source_records(records, self.system, at)
        return body


def _source_ids(environ: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Return the `source_id`s a JSON write names (itself, or its `items`) and the record `ids` it acts on
    (a bulk approval), leaving the body readable."""
    length = environ.get("CONTENT_LENGTH") or ""
    if "json" not in environ.get("CONTENT_TYPE", "") or not length.isdigit() or int(length) > 4_000_000:
        return [], []
    raw = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        body = json.loads(raw)
    except ValueError:
        return [], []
    if not isinstance(body, dict):
        return [], []
    items = body.get("items")
    records = [body, *items] if isinstance(items, list) else [body]
    ids = body.get("ids")
    return ([str(record["source_id"]) for record in records
             if isinstance(record, dict) and isinstance(record.get("source_id"), str)],
            [str(record_id) for record_id in ids] if isinstance(ids, list) else [])


def lag_summary(samples: list[tuple[str, float, float]]) -> dict[str, Any]:
    """Return the lag percentiles overall and per business event kind."""
    overall = Percentiles()
    by_kind: dict[str, Percentiles] = {}
    for kind, _, lag in samples:
        overall.record(lag)
        histogram = by_kind.get(kind)
        if histogram is None:  # not setdefault(kind, Percentiles()): that built a histogram per sample
            histogram = by_kind[kind] = Percentiles()
        histogram.record(lag)
    return {"all": overall.summary(), **{kind: histogram.summary() for kind, histogram in sorted(by_kind.items())}}
