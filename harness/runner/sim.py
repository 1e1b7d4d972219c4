"""Run a scenario in simulated mode: virtual time, systems in-process, the engine on SimPy."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from harness.gc_pause import gc_paused
from harness.runner.flows import builtin_flows
from harness.runner.ledger_file import copy_ledger
from harness.runner.record import RunRecord
from harness.runner.world import World, build_world
from scenarios.engine.clock import DAY
from scenarios.engine.config import Scenario
from scenarios.engine.faults import fault_windows
from simulators.common.admin import export_state
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Flow

DRAIN_LIMIT_S = 14 * DAY
POLL_INTERVAL_S = 60.0
MAX_POLL_INTERVAL_S = 15 * 60.0  # the built-in engine's feed polling backs off to this while quiet


class RunFailedError(RuntimeError):
    """The run could not complete (exit code 3); the message says why."""


@dataclass(slots=True)
class Progress:
    """What a progress display is told once per simulated day."""

    day: int
    days: int
    date: str
    events: int
    exceptions: int


@dataclass(slots=True, kw_only=True)
class SimRun(RunRecord):
    """Everything a finished simulated run produced, before reporting: the record and its world."""

    world: World


def _schedule_faults(world: World, scenario: Scenario) -> list[dict[str, Any]]:
    applied = []
    for system, definition in fault_windows(scenario):
        response = Client(world.apps[system]).post("/admin/faults", json=definition)
        if response.status_code != 201:
            raise RunFailedError(f"fault {definition['id']} on {system} refused: {response.get_data(as_text=True)}")
        fault = response.get_json()
        applied.append({"system": system, **fault})
    return applied


def engine_view(world: World) -> dict[str, Any] | None:
    """Return what the oracle reads of the engine: exceptions, dead letters, messages in flight (None: no engine)."""
    if world.engine is None:
        return None
    ledger = world.engine.ports.ledger
    snapshot = world.engine.snapshot()
    return {
        "exceptions": [dataclasses.asdict(item) for item in ledger.exceptions()],
        "dead_letters": [dataclasses.asdict(letter) for letter in ledger.dead_letters()],
        "in_flight": snapshot.queue_depth,
        "idle": world.engine.idle,
    }


def _events(world: World) -> int:
    return sum(len(world.context(kind).feed) for kind in world.apps)


def business_metrics(kpis: Any, engine_view: dict[str, Any] | None,
                     states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return report.json's metrics.business from the firm's KPIs, the engine's exceptions and the ERP."""
    billing_flows = ("time_expense_billing", "milestones", "billing_cash", "cost_actuals")
    exceptions = [item for item in (engine_view or {}).get("exceptions", []) if item.get("flow") in billing_flows]
    setup_days = kpis.setup_days_median
    return {
        "utilization": kpis.utilization,
        "utilization_by_entity": kpis.utilization_by_entity,
        "dso_days": kpis.dso_days,
        "win_rate": kpis.win_rate,
        "deals_won": kpis.deals_won,
        "deals_lost": kpis.deals_lost,
        "pricing_mix": kpis.pricing_mix,
        "project_months_median": kpis.project_months_median,
        "projects_1_to_9_months": kpis.projects_1_to_9_months,
        "project_setup_cycle_time_h": None if setup_days is None else round(setup_days * 24, 2),
        "unbilled_approved_value": kpis.unbilled_value,
        "invoice_exceptions": len(exceptions),
        "margin_sold_vs_delivered": {"sold": kpis.margin_sold, "delivered": kpis.margin_delivered},
        "revenue_by_month": revenue_by_month(states.get("erp")),
    }


def revenue_by_month(erp_state: dict[str, Any] | None) -> dict[str, dict[str, float]]:
    """Return invoiced (net of credits) and recognized revenue per closed month from the ERP's records, all currencies.

    A month is closed once its revenue run has been made: the months after the last such run are left out, as
    their billing and revenue runs come after the period ends (the credits of such a month alone would read as
    negative invoicing and its revenue as nothing).
    """
    months: dict[str, dict[str, float]] = {}
    if not erp_state:
        return months
    records = erp_state.get("records", {})

    def add(month: str, key: str, amount: Any) -> None:
        months.setdefault(month, {"invoiced": 0.0, "recognized": 0.0})[key] += float(amount or 0)

    for invoice in records.get("invoices", []):
        add(str(invoice.get("invoice_date", ""))[:7], "invoiced", invoice.get("net_total"))
    for memo in records.get("credit_memos", []):
        add(str(memo.get("credit_date") or memo.get("memo_date") or memo.get("created_at", ""))[:7], "invoiced",
            -float(memo.get("net_total") or 0))
    for result in records.get("revenue_results", []):
        add(str(result.get("period", ""))[:7], "recognized", result.get("period_revenue"))
    closed = max((str(result.get("period", ""))[:7] for result in records.get("revenue_results", [])), default=None)
    return dict(sorted(item for item in months.items() if item[0] and (closed is None or item[0] <= closed)))


def simulate(scenario: Scenario, *, seed: int, engine: str, ledger_path: Path | None,
             on_progress: Callable[[Progress], None] | None = None, flows: Sequence[Flow] | None = None,
             poll_interval_s: float = POLL_INTERVAL_S, ledger_in_file: bool = False) -> SimRun:
    """Run the firm over the scenario's period, drain the engine, export state and check the oracle.

    The built-in engine keeps its ledger in memory (nothing outlives the process, and a SQLite
    statement per read costs a fifth of a run) and leaves it in a SQLite file at `ledger_path` when
    the run ends (None: nowhere), for `firmsim engine --store`. `ledger_in_file` has it write to that
    file as it runs instead, as a live engine does. `flows` replaces the built-in engine's flows
    (e.g. a deliberately broken variant, in the tests); `poll_interval_s` is the engine's feed polling
    interval while feeds are busy.
    """
    from harness.oracle import check
    from scenarios.engine.firm import Firm, firm_start

    if flows is not None and engine != "builtin":
        raise ValueError(f"flows are the built-in engine's; engine {engine!r} takes none")
    started = time.perf_counter()
    scenario = dataclasses.replace(scenario, seed=seed, params={**scenario.params, "seed": seed})
    engine_flows = (list(flows) if flows is not None else builtin_flows()) if engine == "builtin" else None
    with gc_paused():
        in_file = ledger_in_file and ledger_path is not None
        world = build_world(firm_start(scenario), flows=engine_flows, seed=seed,
                            ledger="sqlite" if in_file else "memory", ledger_path=ledger_path if in_file else None,
                            poll_interval_s=poll_interval_s, max_poll_interval_s=MAX_POLL_INTERVAL_S)
        faults = _schedule_faults(world, scenario)
        firm = Firm(world, scenario)
        firm.start()
        period_start = world.clock.at(scenario.start_instant)
        world.run_until(period_start)
        series: dict[str, Any] = {"sync_lag": [], "queue_depth": []}
        lags_seen: dict[str, int] = {}
        for day in range(1, scenario.days + 1):
            world.run_until(period_start + day * DAY)
            if world.engine is not None:
                new_lags = _new_sync_lags(world.engine, lags_seen)
                if new_lags:
                    series["sync_lag"].append([day * DAY, percentile(new_lags, 95)])
                series["queue_depth"].append([day * DAY, world.engine.queues.depth()])
            if on_progress:
                exceptions = len(world.engine.ports.ledger.exceptions()) if world.engine else 0
                on_progress(Progress(day, scenario.days, (scenario.start + timedelta(days=day - 1)).isoformat(),
                                     _events(world), exceptions))
        drained = world.drain(DRAIN_LIMIT_S)
        if world.engine is not None and ledger_path is not None and not in_file:
            copy_ledger(world.engine.ports.ledger, ledger_path)
    states = {kind: export_state(world.context(kind)) for kind in world.apps}
    view = engine_view(world)
    invariants = check(firm.truth, states, view)
    business = business_metrics(firm.kpis(states["erp"]), view, states)
    return SimRun(scenario=scenario, seed=seed, engine=engine, world=world, truth=firm.truth, states=states,
                  engine_view=view, invariants=invariants, business=business, faults=faults, series=series,
                  drained=drained, wall_s=time.perf_counter() - started)


def _new_sync_lags(engine: Engine, seen: dict[str, int]) -> list[float]:
    """Return the sync-lag samples the engine's flows took since the last call (`seen`: how many of
    each flow's were read, updated). A whole snapshot a day copied every sample of the run so far."""
    fresh: list[float] = []
    for name, counts in engine.metrics.flows.items():
        fresh += counts.sync_lag_s[seen.get(name, 0):]
        seen[name] = len(counts.sync_lag_s)
    return fresh


def percentile(values: list[float], pct: float) -> float:
    """Return the nearest-rank percentile of the values (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5)) if pct < 100 else len(ordered)
    return float(ordered[min(rank, len(ordered)) - 1])


def api_call_counts(world: World) -> dict[str, int]:
    """Return the business API calls each system answered."""
    return {kind: sum(world.context(kind).calls.values()) for kind in sorted(world.apps)}


def event_counts(world: World) -> dict[str, int]:
    """Return the events each type had across the systems."""
    counts: Counter[str] = Counter()
    for kind in world.apps:
        counts.update(world.context(kind).feed.types())
    return dict(sorted(counts.items()))
