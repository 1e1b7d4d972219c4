"""Run a scenario live: the systems on real HTTP ports, the firm on SimPy's real-time environment.

One clock drives everything: the systems (and the engine) read a `ScaledClock` that starts at the
scenario's first instant and runs `speed` times the wall; the firm's `RealtimeEnvironment` is aligned
to the same origin (factor 1/speed, not strict, so a busy moment makes it late and it catches up).
At the end the run waits for quiescence (no new events and the engine idle for a quiet period,
bounded), exports the four states through the admin API and checks the same oracle as sim mode.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import simpy

from harness.runner.live_clock import PacedClock, PacedEnvironment
from harness.runner.live_distributed import DistributedEngine
from harness.runner.live_engines import (
    ENGINE_TOKEN,
    EmbeddedEngine,
    EngineContext,
    EngineStartError,
    LiveEngine,
    NoEngine,
)
from harness.runner.live_systems import AdminClient, LiveSystemsError, start_systems
from harness.runner.record import RunRecord
from harness.runner.sim import RunFailedError, business_metrics
from scenarios.engine.clock import DAY, SimClock
from scenarios.engine.config import Scenario
from scenarios.engine.faults import fault_windows
from scenarios.engine.firm import LEAD_IN_DAYS, Firm, firm_start
from scenarios.engine.ports import HttpPort
from simulators.common.app import DEFAULT_TOKEN
from simulators.common.clock import ScaledClock

DEFAULT_SPEED = 86400.0  # simulated seconds per real second: one simulated day per second
START_MARGIN_S = 1.0
BACKLOG_WAIT_S = 60.0  # at most this long per simulated day
ACTOR_TOKEN = DEFAULT_TOKEN
LIVE_NOTES = (
    "Live mode: real sockets, threads and the wall clock (scaled); interleavings depend on timing, so "
    "the digest, counts and figures are not expected to repeat from run to run (sim mode is the "
    "reproducible one).",
    "Sync lag is in simulated seconds (the run's clock); sync_lag_real_s divides it by the speed, a lower "
    "bound of the real lag: while the firm runs late the clock waits for it and runs slower than the speed.",
)
DISTRIBUTED_LAG_NOTE = ("The engine ran in worker processes: its technical metrics are theirs, summed from what each "
                        "wrote to worker-N.metrics.json (every second, and as it stopped: workers_reporting says "
                        "how many did; a killed worker counts with what it wrote last).")


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """How to run live: speed, which engine, where its bus and store are, how to decide quiescence."""

    speed: float = DEFAULT_SPEED
    engine: str = "builtin"  # builtin | none | external
    bus: str | None = None
    store: str | None = None
    workers: int = 2
    quiet_period_s: float = 3.0
    quiescence_timeout_s: float = 120.0
    port_base: int | None = None
    token: str | None = None
    engine_workers: int = 4
    backlog_limit: int = 0
    metrics_port: int | None = None  # the built-in engine's /metrics (distributed: worker N on +N-1); None: free


@dataclass(frozen=True, slots=True)
class LiveProgress:
    """What the display is told once per simulated day (lead-in days are negative)."""

    day: int
    days: int
    date: str
    real_s: float
    behind_s: float
    events: int
    queue_depth: int


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the served systems are and the token a user's engine may use."""

    urls: dict[str, str]
    token: str
    metrics: tuple[str, ...] = ()  # where the built-in engine serves its Prometheus metrics


@dataclass(slots=True, kw_only=True)
class LiveRun(RunRecord):
    """Everything a finished live run produced, before reporting: the record, and what sim mode reads from
    its in-process world (counts, technical metrics) as read over HTTP, with timing and notes."""

    counts: dict[str, Any]
    technical: dict[str, Any]
    timing: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _LiveWorld:
    """What the firm needs: the real-time environment, its clock and one HTTP port per system."""

    env: simpy.Environment
    clock: SimClock
    ports: dict[str, HttpPort]


def _start_engine(options: LiveOptions, context: EngineContext) -> LiveEngine:
    if options.engine != "builtin":
        return NoEngine(options.engine)
    if options.bus and options.store:
        return DistributedEngine(context, bus=options.bus, store=options.store, workers=options.workers,
                                 metrics_port=options.metrics_port)
    # The systems sign a batch of due webhooks with the instant the batch started; under a month-end
    # burst one delivery thread takes real seconds to push it: allow 10 real minutes of signature age.
    tolerance = int(max(300.0, options.speed * 600))
    return EmbeddedEngine(context, workers=options.engine_workers, webhook_tolerance_s=tolerance,
                          metrics_port=options.metrics_port or 0)


def _schedule_faults(admin: AdminClient, scenario: Scenario) -> list[dict[str, Any]]:
    return [{"system": system, **admin.add_fault(system, definition)} for system, definition in fault_windows(scenario)]


def wait_quiescent(admin: AdminClient, engine: LiveEngine, quiet_s: float, timeout_s: float) -> bool:
    """Wait until no new event appears and the engine stays idle for `quiet_s`, and has caught up with the
    feeds since the quiet began (`LiveEngine.caught_up`); False after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last = admin.events_total()
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(min(0.25, quiet_s / 4))
        events = admin.events_total()
        if events != last or not engine.idle():
            last, quiet_since = events, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s and engine.caught_up(quiet_since):
            return True
    return False


def _counts(admin: AdminClient, token: str) -> dict[str, Any]:
    api_calls = {kind: sum(sum(statuses.values()) for statuses in admin.stats(kind)["calls"].values())
                 for kind in sorted(admin.urls)}
    events: dict[str, int] = {}
    for kind in admin.urls:
        events.update(admin.event_types(kind, token))
    return {"events": dict(sorted(events.items())), "api_calls": api_calls}


def run_live(scenario: Scenario, *, seed: int, options: LiveOptions, run_dir: Path,
             on_progress: Callable[[LiveProgress], None] | None = None,
             on_ready: Callable[[Endpoints], None] | None = None) -> LiveRun:
    """Run the firm live against served systems and an engine, wait for quiescence, check the oracle."""
    from harness.oracle import check

    started = time.monotonic()
    scenario = dataclasses.replace(scenario, seed=seed, params={**scenario.params, "seed": seed})
    run_dir.mkdir(parents=True, exist_ok=True)
    start = firm_start(scenario)
    env = PacedEnvironment(factor=1 / options.speed)
    scaled = ScaledClock(start, options.speed, time.time() + START_MARGIN_S)
    clock = PacedClock(scaled, env)
    user_token = options.token or f"fs_{secrets.token_urlsafe(18)}"
    try:
        servers = start_systems(clock, [ACTOR_TOKEN, ENGINE_TOKEN, user_token], seed=seed,
                                port_base=options.port_base)
    except LiveSystemsError as error:
        raise RunFailedError(str(error)) from None
    urls = {system.kind: system.base_url for system in servers.systems}
    admin = AdminClient(urls)
    ports = {kind: HttpPort(kind, url, ACTOR_TOKEN) for kind, url in urls.items()}
    engine: LiveEngine | None = None
    try:
        faults = _schedule_faults(admin, scenario)
        engine = _start_engine(options, EngineContext(urls, clock, scaled, run_dir, admin, seed))
        if on_ready:
            on_ready(Endpoints(urls, user_token, tuple(engine.metrics_urls())))
        world = _LiveWorld(env, SimClock(env, start), ports)
        firm = Firm(world, scenario, admin_ports={kind: HttpPort(kind, url, "admin") for kind, url in urls.items()})
        firm.start()
        env.real_start = time.monotonic() - (time.time() - scaled.origin)  # the firm's time 0 is the clock's epoch
        series, behind_max, held = _drive(world, firm, admin, engine, clock, started, options.backlog_limit,
                                          on_progress)
        clock.release()
        firm_done = time.monotonic()
        drained = wait_quiescent(admin, engine, options.quiet_period_s, options.quiescence_timeout_s)
        states = {kind: admin.state(kind) for kind in urls}
        engine_view = engine.engine_view()
        counts = _counts(admin, ACTOR_TOKEN)
    except (LiveSystemsError, EngineStartError) as error:
        raise RunFailedError(str(error)) from None
    finally:
        if engine is not None:
            engine.stop()
        for port in ports.values():
            port.close()
        admin.close()
        servers.stop()
    technical = {**engine.technical(), "drained": drained}  # after stop: worker processes report as they exit
    invariants = check(firm.truth, states, engine_view)
    business = business_metrics(firm.kpis(states["erp"]), engine_view, states)
    wall_s = time.monotonic() - started
    timing = {"speed": options.speed, "simulated_days_with_lead_in": scenario.days + LEAD_IN_DAYS,
              "firm_behind_max_h": round(behind_max / 3600, 2), "firm_s": round(firm_done - started, 3),
              "firm_held_for_backlog_s": round(held, 3), "backlog_limit": options.backlog_limit,
              "quiescence_s": round(time.monotonic() - firm_done, 3), "quiesced": drained,
              "quiet_period_s": options.quiet_period_s, "engine_mode": _engine_mode(options)}
    return LiveRun(scenario=scenario, seed=seed, engine=options.engine, truth=firm.truth, states=states,
                   engine_view=engine_view, invariants=invariants, business=business, faults=faults, series=series,
                   drained=drained, wall_s=wall_s, counts=counts, technical=technical, timing=timing,
                   notes=[*LIVE_NOTES, DISTRIBUTED_LAG_NOTE] if options.bus else list(LIVE_NOTES))


def _engine_mode(options: LiveOptions) -> str:
    if options.engine != "builtin":
        return options.engine
    return f"distributed ({options.workers} workers)" if options.bus and options.store else "embedded"


def _hold_for_backlog(engine: LiveEngine, limit: int) -> float:
    """Wait (bounded) while the engine has more than `limit` messages to run; return the seconds waited.

    Live mode compresses a day into a second or so, a load no firm puts on its middleware; holding
    the firm at the end of a simulated day keeps the engine within about a day of business time
    (the clock waits with the firm), so month-end runs see what was synced. `firmsim load` measures
    the engine's throughput itself.
    """
    started = time.monotonic()
    while engine.backlog() > limit and time.monotonic() - started < BACKLOG_WAIT_S:
        time.sleep(0.05)
    return time.monotonic() - started


def _drive(world: _LiveWorld, firm: Firm, admin: AdminClient, engine: LiveEngine, clock: PacedClock,
           started: float, limit: int,
           on_progress: Callable[[LiveProgress], None] | None) -> tuple[dict[str, Any], float, float]:
    """Run the firm day by day through the lead-in and the period; return the series, the worst lateness
    and the seconds the firm was held for the engine's backlog."""
    scenario = firm.scenario
    series: dict[str, Any] = {"sync_lag": [], "queue_depth": []}
    behind_max = held = 0.0
    lead_in = int(world.clock.at(scenario.start_instant) // DAY)
    for index in range(1, lead_in + scenario.days + 1):
        world.env.run(until=index * DAY)
        held += _hold_for_backlog(engine, limit)
        behind = clock.lateness()
        behind_max = max(behind_max, behind)
        day = index - lead_in
        lag, depth = engine.sample()
        if day > 0:
            if lag is not None:
                series["sync_lag"].append([day * DAY, lag])
            series["queue_depth"].append([day * DAY, depth])
        if on_progress:
            on_progress(LiveProgress(day, scenario.days, (scenario.start + timedelta(days=day - 1)).isoformat(),
                                     time.monotonic() - started, behind, admin.events_total(), depth))
    return series, behind_max, held
