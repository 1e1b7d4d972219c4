"""One load run: serve the systems, start the engine, set up the firm, drive the profile, ramp to
saturation, and write load.json and load.html."""

from __future__ import annotations

import json
import os
import platform
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.load.driver import Phase, drive, schedule
from harness.load.engines import ENGINE_WORKERS, EmbeddedEngine, LoadEngine, WorkerProcesses
from harness.load.firm import Actors, LoadFirm
from harness.load.measure import CommitLog, CommitWatch, Percentiles, lag_summary
from harness.load.profiles import PROFILES, Profile
from harness.load.service_cpu import Reading, cpu_seconds, spent
from harness.load.timing import bus_window, system_seconds, where_the_time_went
from simulators.registry import SYSTEM_KINDS

RAMP_FACTOR = 2.0
KEEP_UP_RATIO = 0.9
LATE_SHARE = 0.1
"""A step whose last action completes later than this share of its duration (1 s at least) after its
end fell behind: the driver and the systems could not act out the arrivals as they came."""
DRAIN_TIMEOUT_S = 60.0
BUSY_SHARE = 0.85
"""A process group using this share of the cores it can use counts as CPU-bound (a Python process can use
one: its GIL; the machine as a whole, every CPU)."""


def limited_by(cores: dict[str, float], python_processes: dict[str, int], cpus: int) -> dict[str, Any]:
    """Say what limited a saturated step, from the cores each process group used over it: the machine's
    CPUs, a group of Python processes each held to about one core by its GIL, or neither (then waits did:
    locks, the ledger, the broker, I/O)."""
    used = sum(cores.values())
    if used >= BUSY_SHARE * cpus:
        group, busiest = max(cores.items(), key=lambda item: item[1])
        return {"kind": "machine", "group": group,
                "says": f"the machine's CPUs: {used:.2f} of {cpus} cores busy, {busiest:.2f} of them {group}"}
    bound = [(cores.get(group, 0.0) / count, group, count) for group, count in python_processes.items()
             if count and cores.get(group, 0.0) >= BUSY_SHARE * count]
    if bound:
        _, group, count = max(bound)
        says = f"{group}: {cores[group]:.2f} of {count} core{'s' if count > 1 else ''} (one a Python process)"
        if group != ENGINE_WORKERS and ENGINE_WORKERS in python_processes:
            says += ": the load generator and the systems, not the engine"
        return {"kind": "process", "group": group, "says": says}
    return {"kind": "waits", "group": None,
            "says": f"no process group was CPU-bound ({used:.2f} of {cpus} cores busy): waits limited it "
                    "(locks, the ledger, the broker, I/O)"}


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Everything `firmsim load` was asked."""

    profile: str
    duration_s: float
    rate: float
    workers: int
    out: Path
    bus: str | None = None
    store: str | None = None
    saturation: bool = True
    ramp_steps: int = 5
    step_s: float = 10.0
    deals: int = 8
    resources_per_deal: int = 3
    clients: int = 16
    seed: int = 1
    sheet_entries: int = 20
    report_expenses: int = 5


class LoadRun:
    """The served systems, the engine and the firm of one load run, and what it measured."""

    def __init__(self, options: LoadOptions) -> None:
        self.options = options
        self.profile: Profile = PROFILES[options.profile]
        self.log = CommitLog()
        self.token = f"fs_load_{secrets.token_hex(8)}"
        self.requests: dict[str, Percentiles] = {}
        self.servers = serve_watched(self.log, self.token)
        self.base_urls = {system.kind: system.base_url for system in self.servers.systems}
        self.actors = Actors(self.base_urls, self.token, connections=options.clients + 4)
        self.actors.latency = self._request_latency
        self.engine: LoadEngine = (
            WorkerProcesses(self.base_urls, self.token, workers=options.workers, bus=options.bus,
                            store=options.store, log_dir=options.out / "workers")
            if options.bus and options.store else
            EmbeddedEngine(self.base_urls, self.token, workers=options.workers, ledger_path=options.out / "ledger.db"))
        self.firm = LoadFirm(self.actors, options.seed, sheet_entries=options.sheet_entries,
                             report_expenses=options.report_expenses)

    def _request_latency(self, system: str, operation: str, status: int, seconds: float) -> None:
        key = f"{system} {operation} {status}"
        histogram = self.requests.get(key)
        if histogram is None:
            histogram = self.requests.setdefault(key, Percentiles())
        histogram.record(seconds)

    def close(self) -> None:
        """Stop the engine and the systems."""
        try:
            self.engine.stop()
        finally:
            self.actors.close()
            self.servers.stop()

    def _cpu(self) -> Reading:
        """Return CPU seconds by process: this one (systems and driver, and an embedded engine) and the engine's."""
        return {self._own_group: {os.getpid(): cpu_seconds(os.getpid())}, **self.engine.cpu()}

    @property
    def _own_group(self) -> str:
        return "load process (systems, driver" + (", embedded engine)" if isinstance(self.engine, EmbeddedEngine)
                                                  else ")")

    # -- phases ----------------------------------------------------------------------------------

    def phase(self, name: str, profile: Profile, rate: float, duration_s: float) -> Phase:
        """Drive one phase of arrivals and return what it did."""
        import random

        arrivals = schedule(profile, rate, duration_s, random.Random(f"{self.options.seed}/{name}"), self.firm.sizes)
        phase = Phase(name, rate, time.perf_counter() + 0.05, duration_s)
        return drive(self.firm, self.log, phase, arrivals, self.options.clients)

    def phase_report(self, phase: Phase, drained: bool) -> dict[str, Any]:
        """Return a phase's throughput, response times, lag percentiles and per-second timeline."""
        end = phase.started_at + phase.duration_s
        samples = self.log.lags(phase.started_at, end + 3600)
        lag_by_second: dict[int, list[float]] = {}
        for _, source_at, lag in samples:
            lag_by_second.setdefault(int(source_at - phase.started_at), []).append(lag)
        seconds = range(int(phase.duration_s) + 1)
        elapsed = max(phase.acted_out_s, 1e-9)
        thirds = [self.log.lags(phase.started_at + phase.duration_s * k / 3,
                                phase.started_at + phase.duration_s * (k + 1) / 3) for k in range(3)]
        return {
            "name": phase.name, "offered_rate": phase.offered_rate, "duration_s": phase.duration_s,
            "offered": phase.offered_total, "completed": phase.completed_total, "acted_out_s": phase.acted_out_s,
            "fell_behind": phase.acted_out_s > phase.duration_s + max(1.0, LATE_SHARE * phase.duration_s),
            "throughput_per_s": phase.completed_total / elapsed,
            "synced_per_s": self.log.synced(phase.started_at, end + 3600) / elapsed,
            "actor_calls": phase.actor_calls,
            "actor_calls_per_event": phase.actor_calls / max(phase.completed_total, 1),
            "by_kind": dict(sorted(phase.by_kind.items())), "errors": dict(sorted(phase.errors.items())),
            "first_errors": phase.first_errors,
            "response_time_s": phase.response.summary(), "service_time_s": phase.service.summary(),
            "sync_lag_s": lag_summary(samples),
            "sync_lag_by_third_p50_s": [lag_summary(third)["all"]["p50"] for third in thirds],
            "unsynced": self.log.unsynced(phase.started_at, end + 3600),
            "drained": drained,
            "timeline": [{"second": second, "offered": phase.offered.get(second, 0),
                          "completed": phase.completed.get(second, 0),
                          "lag_p99_s": _p99(lag_by_second.get(second, []))} for second in seconds],
        }

    def saturation(self) -> dict[str, Any]:
        """Double the steady rate step by step until lag grows without bound or throughput stops following."""
        steps = []
        rate = self.options.rate
        sustained: float | None = None
        saturated_at: float | None = None
        limit: dict[str, Any] | None = None
        for _ in range(self.options.ramp_steps):
            cpu_before, started = self._cpu(), time.perf_counter()
            phase = self.phase(f"ramp-{rate:g}", PROFILES["steady"], rate, self.options.step_s)
            cpu_after, elapsed = self._cpu(), time.perf_counter() - started  # the CPU of acting it out
            drained = self.engine.wait_idle(quiet_s=1.0, timeout_s=max(2 * self.options.step_s, 10.0))
            report = self.phase_report(phase, drained)
            report["cpu_cores"] = {group: seconds / elapsed for group, seconds in spent(cpu_before, cpu_after).items()}
            first, _, last = report["sync_lag_by_third_p50_s"]
            ratio = report["completed"] / max(report["offered"], 1)
            lag_growing = last > 2 * first + 0.2
            late = report["fell_behind"]
            report["keeps_up"] = ratio >= KEEP_UP_RATIO and not lag_growing and drained and not late
            report["why_not"] = [why for why, bad in (
                (f"completed {ratio:.0%} of the offered events", ratio < KEEP_UP_RATIO),
                (f"acting out {phase.duration_s:g} s of arrivals took {phase.acted_out_s:.1f} s: the driver and "
                 "the systems fell behind", late),
                (f"sync lag p50 grew from {first:.3f} s to {last:.3f} s within the step", lag_growing),
                ("the engine did not drain after the step", not drained)) if bad]
            steps.append({key: value for key, value in report.items() if key != "timeline"})
            if not report["keeps_up"]:
                saturated_at = rate
                python_processes = {group: len(cpu_after[group]) for group in (self._own_group, ENGINE_WORKERS)
                                    if group in cpu_after}
                limit = limited_by(report["cpu_cores"], python_processes, os.cpu_count() or 1)
                if not drained:
                    self.engine.wait_idle(quiet_s=1.0, timeout_s=DRAIN_TIMEOUT_S)
                break
            sustained = report["throughput_per_s"]
            rate *= RAMP_FACTOR
        return {"steps": steps, "saturated_at_offered_rate": saturated_at,
                "max_sustained_throughput_per_s": sustained, "limited_by": limit}

    def execute(self) -> dict[str, Any]:
        """Run everything and return the load report."""
        options = self.options
        self.engine.start()
        setup_started = time.perf_counter()
        self.firm.set_up(options.deals, options.resources_per_deal, self.engine.check_alive)
        self.engine.wait_idle(quiet_s=1.0, timeout_s=DRAIN_TIMEOUT_S)
        setup_s = time.perf_counter() - setup_started
        self.requests.clear()  # the firm's setup is not part of the measure
        before = (system_seconds(self.servers), self.engine.seconds(), self.engine.counters())
        bus_before, cpu_before = self.engine.bus_timings(), self._cpu()
        main = self.phase(options.profile, self.profile, options.rate, options.duration_s)
        drained = self.engine.wait_idle(quiet_s=1.0, timeout_s=DRAIN_TIMEOUT_S)
        after = (system_seconds(self.servers), self.engine.seconds(), self.engine.counters())
        bus_after, cpu_after = self.engine.bus_timings(), self._cpu()
        bus = bus_window(bus_before, bus_after) if bus_before is not None and bus_after is not None else None
        report: dict[str, Any] = {
            "profile": self.profile.name, "profile_description": self.profile.description,
            "options": {"duration_s": options.duration_s, "rate": options.rate, "workers": options.workers,
                        "clients": options.clients, "deals": options.deals, "seed": options.seed,
                        "events_per_action": dict(self.firm.sizes),
                        "bus": options.bus, "store": options.store},
            "engine": self.engine.description, "machine": _machine(), "setup_s": setup_s,
            "run": self.phase_report(main, drained),
            "requests": {key: histogram.summary() for key, histogram in sorted(self.requests.items())},
            "time": where_the_time_went(before, after, bus=bus, cpu_s=spent(cpu_before, cpu_after),
                                        business_events=main.completed_total),
        }
        if options.saturation:
            report["saturation"] = self.saturation()
        return report


def run_load(options: LoadOptions) -> dict[str, Any]:
    """Run a load test and write load.json and load.html under `options.out`; return the report."""
    from harness.load.report import write_html

    options.out.mkdir(parents=True, exist_ok=True)
    run = LoadRun(options)
    try:
        report = run.execute()
    finally:
        run.close()
    (options.out / "load.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    write_html(report, options.out / "load.html")
    return report


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def serve_watched(log: CommitLog, token: str) -> Any:
    """Serve the four systems on four consecutive free ports, each wrapped to note traced commits."""
    import random

    from simulators.server import PortInUseError, serve_systems

    # below the usual ephemeral range (32768+), where outgoing connections would race us for ports
    chooser = random.SystemRandom()
    for _ in range(20):
        base = chooser.randrange(20000, 32000, 10)
        try:
            servers = serve_systems("127.0.0.1", base, list(SYSTEM_KINDS), {"API_TOKENS": [token]})
        except PortInUseError:
            continue
        for system in servers.systems:
            system.server.app = CommitWatch(system.server.app, system.kind, log)
        return servers
    raise OSError("found no four consecutive free ports to serve the systems on")


def _machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(load[0], 2)}
