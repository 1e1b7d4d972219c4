"""Where the time went in a load run: the systems' request time (their /metrics histograms), the
engine's wall time by component (its metrics), what is left for the engine's own code, and with the
distributed workers the broker (publishing, publish-to-delivery delay, acking: the workers' bus
timings) and the CPU of PostgreSQL and RabbitMQ per business event (/proc: service_cpu.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.load.measure import recorded, summary_of
from simulators.common.app import context_of
from syncengine.adapters.bus.timings import histogram_of, new_histogram

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


def _histogram_window(before: Sequence[str], after: Sequence[str]) -> Any:
    """Return the histogram of what was recorded between two sets of cumulative (encoded) histograms."""
    counts: Counter[int] = Counter()
    for encoded, sign in [*((text, 1) for text in after), *((text, -1) for text in before)]:
        for index, count in recorded(histogram_of(encoded)):
            counts[index] += sign * count
    window = new_histogram()
    for index, count in counts.items():
        if count > 0:
            window.record_value(window.get_highest_equivalent_value(window.get_value_from_index(index)), count)
    return window


def bus_window(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the bus timings of a phase from the workers' cumulative ones (`BusTimings.to_dict`, one per
    worker, the same workers before and after): percentiles of the phase's deliveries and acks alone."""

    def total(field: str) -> float:
        return sum(float(timings[field]) for timings in after) - sum(float(timings[field]) for timings in before)

    def window(field: str) -> dict[str, float | int]:
        return summary_of(_histogram_window([each[field] for each in before], [each[field] for each in after]))

    return {"publish_to_delivery_s": window("delivery_delay_us"), "finished_to_ack_s": window("ack_delay_us"),
            "ack_seconds": total("ack_seconds"), "unstamped": int(total("unstamped")),
            "clock_skewed": int(total("clock_skewed"))}


def cpu_per_event(seconds: dict[str, float], business_events: float) -> dict[str, Any]:
    """Return CPU seconds and milliseconds per business event (the driver's: an entry approved, an invoice
    posted ...; the engine's flows process more deliveries than that) by process group."""
    return {"seconds": seconds, "total_s": sum(seconds.values()), "business_events": business_events,
            "ms_per_business_event": {name: 1000 * value / business_events if business_events else 0.0
                                      for name, value in {**seconds, "total": sum(seconds.values())}.items()},
            "note": "from /proc over the phase; PostgreSQL = this run's backends + the server's background "
                    "processes, RabbitMQ = the whole broker (beam.smp): both also serve anything else using "
                    "them at the time, so on a shared machine they read high"}


def where_the_time_went(before: tuple[dict[str, float], dict[str, float], dict[str, float]],
                        after: tuple[dict[str, float], dict[str, float], dict[str, float]], *,
                        bus: dict[str, Any] | None = None, cpu_s: dict[str, float] | None = None,
                        business_events: float = 0.0) -> dict[str, Any]:
    """Return the seconds of work per part over a phase (summed over threads, so more than wall time).

    engine `attempts` = a whole delivery attempt; `handlers` = the handler inside it; `api_calls` = the
    handler's HTTP calls (the target systems' time plus the network). So ledger tracking and unit of
    work = attempts - handlers, and the engine's own code = handlers - api_calls. `broker_publish` (the
    distributed workers only) = publishing to the bus until the broker confirms, mostly from feed reads.
    `bus` (`bus_window`): the phase's publish-to-delivery delays and acks, as the workers' consumers timed
    them; acking is work (a part), the delivery delay is a wait (a latency, apart from the parts).
    `cpu_s`: CPU seconds by process group over the phase, also given per one of the phase's `business_events`.
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
    latency: dict[str, Any] = {}
    if "broker_publish" in engine:  # the distributed workers time their publishes (harness/engine_worker.py)
        parts["broker: publishing (until confirmed)"] = engine["broker_publish"]
        if bus is None:
            not_measured.append("broker: the time from publish to delivery to a consumer, and acks, are not timed")
        else:
            parts["broker: acking (consumer thread)"] = bus["ack_seconds"]
            latency = {"broker: publish to delivery to a consumer": bus["publish_to_delivery_s"],
                       "broker: message finished to ack written": bus["finished_to_ack_s"]}
            not_measured.append("broker: inside publish-to-delivery, queueing, replication and the network are "
                                "not told apart (a wait, shown as latency; the broker's work is its CPU below)")
            not_measured.append("broker: publish-to-delivery compares the publisher's clock with the consumer's "
                                "(the same machine's here; workers on other machines would add their clocks' offset)")
    else:
        not_measured.append("broker: none here (the embedded runtime has no bus)")
    total = sum(parts.values()) or 1.0
    result = {"seconds": parts, "share": {name: value / total for name, value in parts.items()},
              "latency_s": latency, "not_measured": not_measured,
              "systems_by_system_s": systems, "engine_by_component_s": engine, "engine_counters": counters}
    if bus is not None:
        result["bus"] = {key: bus[key] for key in ("unstamped", "clock_skewed")}
    if cpu_s is not None:
        result["cpu"] = cpu_per_event(cpu_s, business_events)
    return result
