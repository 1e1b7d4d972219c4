"""The engine's metrics: counters and samples appended as things happen, summarised in a snapshot."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from syncengine.adapters.outcomes import Call


@dataclass(slots=True)
class CallMeter:
    """The calls one handler attempt made: how many, and the simulated latency they add up to."""

    calls: int = 0
    latency_ms: int = 0


CURRENT_METER: ContextVar[CallMeter | None] = ContextVar("syncengine_call_meter", default=None)


@dataclass(slots=True)
class FlowCounts:
    """What one flow did."""

    deliveries: int = 0
    processed: int = 0
    duplicates: int = 0
    retries: int = 0
    exceptions: int = 0
    dead_letters: int = 0
    api_calls: int = 0
    sync_lag_s: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """A copy of the metrics at one instant, for reports and assertions."""

    flows: dict[str, FlowCounts]
    sync_lag_s: list[float]
    events_received: int
    duplicate_events: int
    ignored_events: int
    malformed_events: int
    rejected_signatures: int
    business_events: int
    retries: int
    throttled_calls: int
    exceptions: int
    dead_letters: int
    api_calls: dict[str, dict[str, int]]
    api_calls_total: int
    handler_api_calls: int
    api_calls_per_business_event: float
    queue_depth: int
    max_queue_depth: int
    parked_keys: int


class Metrics:
    """Counts and samples, appended to as the engine works."""

    def __init__(self) -> None:
        self.flows: dict[str, FlowCounts] = {}
        self.api_calls: Counter[tuple[str, str]] = Counter()
        self.throttled_calls = 0
        self.events_received = 0
        self.duplicate_events = 0
        self.ignored_events = 0
        self.malformed_events = 0
        self.rejected_signatures = 0
        self.seconds: defaultdict[str, float] = defaultdict(float)
        """Wall seconds by component, where the time went: `attempts` (whole attempts: tracking, unit of work,
        handler), `handlers` (the handler alone), `api_calls` (its HTTP calls), `intake_calls` (feed reads),
        and whatever a runtime adds (`broker`). Kept out of snapshots, which must repeat in simulated mode."""

    def spend(self, component: str, seconds: float) -> None:
        """Add wall time spent in a component."""
        self.seconds[component] += seconds

    def flow(self, name: str) -> FlowCounts:
        """Return the counters of a flow."""
        counts = self.flows.get(name)
        if counts is None:  # not setdefault: that builds a FlowCounts on every call (twice per message)
            counts = self.flows[name] = FlowCounts()
        return counts

    def observe_call(self, call: Call) -> None:
        """Count one HTTP call, and add it to the handler attempt under way (if any)."""
        self.api_calls[(call.system, call.status_label)] += 1
        if call.throttled:
            self.throttled_calls += 1
        meter = CURRENT_METER.get()
        self.seconds["api_calls" if meter is not None else "intake_calls"] += call.elapsed_s
        if meter is not None:
            meter.calls += 1
            meter.latency_ms += call.latency_ms

    def snapshot(self, queue_depth: int = 0, max_queue_depth: int = 0, parked_keys: int = 0) -> MetricsSnapshot:
        """Return a copy of the metrics, flows sorted by name."""
        flows = {name: FlowCounts(c.deliveries, c.processed, c.duplicates, c.retries, c.exceptions, c.dead_letters,
                                  c.api_calls, list(c.sync_lag_s)) for name, c in sorted(self.flows.items())}
        api_calls: dict[str, dict[str, int]] = {}
        for (system, status), count in sorted(self.api_calls.items()):
            api_calls.setdefault(system, {})[status] = count
        business_events = sum(c.processed for c in flows.values())
        handler_calls = sum(c.api_calls for c in flows.values())
        return MetricsSnapshot(
            flows=flows,
            sync_lag_s=[sample for c in flows.values() for sample in c.sync_lag_s],
            events_received=self.events_received,
            duplicate_events=self.duplicate_events,
            ignored_events=self.ignored_events,
            malformed_events=self.malformed_events,
            rejected_signatures=self.rejected_signatures,
            business_events=business_events,
            retries=sum(c.retries for c in flows.values()),
            throttled_calls=self.throttled_calls,
            exceptions=sum(c.exceptions for c in flows.values()),
            dead_letters=sum(c.dead_letters for c in flows.values()),
            api_calls=api_calls,
            api_calls_total=sum(self.api_calls.values()),
            handler_api_calls=handler_calls,
            api_calls_per_business_event=handler_calls / business_events if business_events else 0.0,
            queue_depth=queue_depth,
            max_queue_depth=max_queue_depth,
            parked_keys=parked_keys,
        )


def snapshot_from_dict(data: dict[str, Any]) -> MetricsSnapshot:
    """Return the snapshot of `dataclasses.asdict(snapshot)` (as a worker process writes it out)."""
    flows = {name: FlowCounts(**counts) for name, counts in data["flows"].items()}
    return MetricsSnapshot(**{**data, "flows": flows})


def merge_snapshots(snapshots: Sequence[MetricsSnapshot]) -> MetricsSnapshot:
    """Return one snapshot of engines sharing the work (worker processes): counts summed, samples joined."""
    flows: dict[str, FlowCounts] = {}
    api_calls: dict[str, dict[str, int]] = {}
    for snapshot in snapshots:
        for name, counts in snapshot.flows.items():
            total = flows.setdefault(name, FlowCounts())
            for counter in ("deliveries", "processed", "duplicates", "retries", "exceptions", "dead_letters",
                            "api_calls"):
                setattr(total, counter, getattr(total, counter) + getattr(counts, counter))
            total.sync_lag_s.extend(counts.sync_lag_s)
        for system, statuses in snapshot.api_calls.items():
            for status, count in statuses.items():
                api_calls.setdefault(system, {})[status] = api_calls.get(system, {}).get(status, 0) + count

    def summed(name: str) -> int:
        return sum(getattr(snapshot, name) for snapshot in snapshots)

    business_events, handler_calls = summed("business_events"), summed("handler_api_calls")
    return MetricsSnapshot(
        flows=dict(sorted(flows.items())), sync_lag_s=[sample for c in flows.values() for sample in c.sync_lag_s],
        events_received=summed("events_received"), duplicate_events=summed("duplicate_events"),
        ignored_events=summed("ignored_events"), malformed_events=summed("malformed_events"),
        rejected_signatures=summed("rejected_signatures"), business_events=business_events,
        retries=summed("retries"), throttled_calls=summed("throttled_calls"), exceptions=summed("exceptions"),
        dead_letters=summed("dead_letters"), api_calls=api_calls, api_calls_total=summed("api_calls_total"),
        handler_api_calls=handler_calls,
        api_calls_per_business_event=handler_calls / business_events if business_events else 0.0,
        queue_depth=summed("queue_depth"), max_queue_depth=max((s.max_queue_depth for s in snapshots), default=0),
        parked_keys=summed("parked_keys"))
