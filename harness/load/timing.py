"""Where the time went in a load run: the systems' request time (their /metrics histograms), the
engine's wall time by component (its metrics), and what is left for the engine's own code."""

from __future__ import annotations

from typing import Any

from simulators.common.app import context_of

SYSTEM_HISTOGRAM = "firmsim_system_request_duration_seconds"


def system_seconds(servers: Any) -> dict[str, float]:
    """Return, per served system, the seconds its handlers spent answering requests so far."""
    totals: dict[str, float] = {}
    for system in servers.systems:
        metrics = context_of(system.app).metrics
        if metrics is None:
            continue
        total = 0.0
        for family in metrics.registry.collect():
            if family.name != SYSTEM_HISTOGRAM:
                continue
            total += sum(sample.value for sample in family.samples if sample.name == f"{SYSTEM_HISTOGRAM}_sum")
        totals[system.kind] = total
    return totals


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after.get(key, 0.0) - before.get(key, 0.0) for key in sorted(set(before) | set(after))}


def where_the_time_went(before: tuple[dict[str, float], dict[str, float], dict[str, float]],
                        after: tuple[dict[str, float], dict[str, float], dict[str, float]]) -> dict[str, Any]:
    """Return the seconds of work per part over a phase (summed over threads, so more than wall time).

    engine `attempts` = a whole delivery attempt; `handlers` = the handler inside it; `api_calls` = the
    handler's HTTP calls (the target systems' time plus the network). So ledger tracking and unit of
    work = attempts - handlers, and the engine's own code = handlers - api_calls. `broker_publish` (the
    distributed workers only) = publishing to the bus until the broker confirms, mostly from feed reads.
    """
    systems = _delta(before[0], after[0])
    engine = _delta(before[1], after[1])
    counters = _delta(before[2], after[2])
    counters.pop("api_calls_per_business_event", None)
    if "max_queue_depth" in after[2]:
        counters["max_queue_depth"] = after[2]["max_queue_depth"]
    if counters.get("business_events"):
        counters["api_calls_per_business_event"] = counters.get("api_calls", 0.0) / counters["business_events"]
    attempts, handlers, calls = engine.get("attempts", 0.0), engine.get("handlers", 0.0), engine.get("api_calls", 0.0)
    parts = {
        "systems (request handling, all callers)": sum(systems.values()),
        "engine: API calls (client side, incl. target systems)": calls,
        "engine: feed reads": engine.get("intake_calls", 0.0),
        "engine: ledger (tracking, unit of work)": max(attempts - handlers, 0.0),
        "engine: own code (handlers minus their API calls)": max(handlers - calls, 0.0),
    }
    not_measured = []
    if "broker_publish" in engine:  # the distributed workers time their publishes (harness/engine_worker.py)
        parts["broker: publishing (until confirmed)"] = engine["broker_publish"]
        not_measured.append("broker: the time from publish to delivery to a consumer, and acks, are not timed")
    else:
        not_measured.append("broker: none here (the embedded runtime has no bus)")
    total = sum(parts.values()) or 1.0
    return {"seconds": parts, "share": {name: value / total for name, value in parts.items()},
            "not_measured": not_measured,
            "systems_by_system_s": systems, "engine_by_component_s": engine, "engine_counters": counters}
