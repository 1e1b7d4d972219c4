"""Benchmark the sync engine: business events per second and sync lag, embedded and distributed.

Workload: approved PSA time entries becoming ERP billable transactions (the time-and-expense flow),
the systems on real sockets (`firmsim serve`, its own process), the engine in its own process(es):
the embedded live runtime (SQLite ledger, in-process queues) or 1, 2, 4 `firmsim engine worker`
processes (RabbitMQ + PostgreSQL). A producer records and approves entries in bulk (a timesheet of
100 entries, then one bulk approval) and notes when each approval returned; a monitor reads the
ERP's event feed every 20 ms and notes when each entry's transaction was posted. Sync lag is the
difference (engine-independent; resolution about 20 ms plus a feed read).

Two phases per engine: saturation (a backlog of --events approvals as fast as the producer goes:
throughput = events / (last posting - first approval)), then sustained load at --load (a fraction
of the measured saturation) for --duration seconds: lag p50/p99/max and whether it kept up.
CPU seconds per event over the saturation phase come from /proc: the systems' process, the engine's
process(es) and, distributed, PostgreSQL (the backends of the run's sessions and the server's
background processes) and RabbitMQ (`beam.smp`, the whole broker), their sum (`cpu_total`: what the
pipeline costs, against 1 ms per event for 2,000 events/s on 2 cores), and apart from it the
benchmark's own producer and monitor (`cpu_bench`). The broker and the server's background
processes also serve whatever else uses them at the time: on a shared machine they read high.
Per event too, from the workers' /metrics: the ledger's PostgreSQL statements and the bus messages
published.

    .venv/bin/python benchmarks/bench_engine.py                       # all: embedded, 1, 2, 4 workers
    .venv/bin/python benchmarks/bench_engine.py --modes embedded,2 --events 2000 --record
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack, closing, suppress
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.load.service_cpu import ServiceCpu, cpu_seconds, spent  # noqa: E402
from tests.integration.live_firm import ACTOR_TOKEN, Firm, eventually, free_port_base  # noqa: E402

FIRMSIM = str(Path(sys.executable).with_name("firmsim"))
RABBITMQ = os.environ.get("FIRMSIM_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")
POSTGRES = os.environ.get("FIRMSIM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BATCH = 100


class Monitor(threading.Thread):
    """Read the ERP feed; note when each source entry's billable transaction was posted."""

    def __init__(self, erp_url: str) -> None:
        super().__init__(daemon=True)
        self.url = erp_url
        self.posted: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        http = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {ACTOR_TOKEN}"})
        cursor = None
        while not self.stop.is_set():
            params: dict[str, Any] = {"limit": 1000}
            if cursor is not None:
                params["after"] = cursor
            body = http.get(f"{self.url}/events", params=params).json()
            now = time.monotonic()
            for event in body["items"]:
                if event["type"] == "erp.billable_transaction.posted":
                    self.posted.setdefault(str(event["data"]["source_id"]), now)
            cursor = body["next_cursor"]
            if len(body["items"]) < 1000:
                self.stop.wait(0.02)


TIMESHEET_MAX = 100


class Producer:
    """Record and approve time entries in bulk; note when each approval returned."""

    def __init__(self, firm: Firm, staffed: list[tuple[str, str]]) -> None:
        self.firm, self.staffed = firm, staffed
        self.approved: dict[str, float] = {}
        self.week = 0

    def batch(self, size: int) -> None:
        """Approve `size` new entries on the next project in turn (one timesheet, one bulk approval)."""
        project_id, worker = self.staffed[self.week % len(self.staffed)]
        monday = date(2026, 3, 2) + timedelta(weeks=(self.week // len(self.staffed)) % 40)
        self.week += 1
        sheet = self.firm.call("psa", "POST", "/timesheets", {
            "resource_id": worker, "week_start": monday.isoformat(), "submit": True,
            "entries": [{"project_id": project_id, "date": (monday + timedelta(days=n % 5)).isoformat(),
                         "hours": "0.25", "billable": True} for n in range(size)]})
        ids = [str(item["id"]) for item in _results(sheet)]
        self.firm.call("psa", "POST", "/time-entries/bulk-approve", {"ids": ids})
        now = time.monotonic()
        for entry_id in ids:
            self.approved[entry_id] = now


def _results(body: Any) -> list[dict[str, Any]]:
    failed = [item for item in body["results"] if item["status"] >= 300]
    if failed:
        raise RuntimeError(f"the timesheet refused entries: {failed[:2]}")
    return list(body["results"])


def _wait_up(url: str, serve: subprocess.Popen[bytes], log: Path, timeout_s: float = 120.0) -> None:
    """Wait until `serve` itself listens on the URL's port and answers there. A port another process took
    (another benchmark's or test's systems, started at the same time) is not enough: driving those
    would load and spoil another run."""
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise RuntimeError(f"firmsim serve exited ({serve.returncode}): {log.read_text().strip()}")
        with suppress(httpx.TransportError):
            if _listens(serve.pid, port) and httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def _listens(pid: int, port: int) -> bool:
    """Tell whether process `pid` holds a socket listening on TCP `port` (Linux /proc)."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
        table = Path("/proc/net/tcp").read_text().splitlines()[1:] + Path("/proc/net/tcp6").read_text().splitlines()[1:]
    except OSError:
        return True  # no /proc to ask: trust the answer
    owned = set()
    for descriptor in descriptors:
        with suppress(OSError):  # closed meanwhile
            owned.add(os.readlink(f"/proc/{pid}/fd/{descriptor}"))
    for row in table:
        fields = row.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port and f"socket:[{fields[9]}]" in owned:
            return True
    return False


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def start_engine(mode: str, urls: dict[str, str], scratch: Path, stack: ExitStack, *, name: str,
                 synchronous_commit: str = "on", poll_limit: int | None = None, threads: int = 16,
                 poll_interval: float | None = None) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    """Start the engine process(es) of a mode (`name`: the distributed run's schema and queue prefix;
    `synchronous_commit`: its ledger's; `poll_limit`: events per feed read, the worker's default if None;
    `threads`: each distributed worker's per-key threads; `poll_interval`: seconds between a worker's reads of
    a feed found empty, the worker's default if None); return them and the /metrics URLs of the
    distributed workers."""
    systems = [arg for name, url in urls.items() for arg in ("--system", f"{name}={url}")]
    if mode == "embedded":
        command = [sys.executable, __file__, "--embedded-child", json.dumps(urls), str(scratch / "ledger.db")]
        workers = 1
    else:
        commit = "" if synchronous_commit == "on" else f"&synchronous_commit={synchronous_commit}"
        command = [FIRMSIM, "engine", "worker", "--bus", f"{RABBITMQ}?prefix=firmsim.{name}",
                   "--store", f"{POSTGRES}?schema={name}{commit}", *systems, "--partitions", "8",
                   "--workers", str(threads)]
        if poll_limit is not None:
            command += ["--poll-limit", str(poll_limit)]
        if poll_interval is not None:
            command += ["--poll-interval", str(poll_interval)]
        workers = int(mode)
        stack.callback(_drop_namespace, command[4], command[6])
    processes, metrics = [], []
    for index in range(workers):
        log = stack.enter_context((scratch / f"engine-{index}.log").open("wb"))
        port = []
        if mode != "embedded":
            port = ["--metrics-port", str(_free_port())]
            metrics.append(f"http://127.0.0.1:{port[1]}/metrics")
        processes.append(subprocess.Popen(command + port, stdout=log, stderr=subprocess.STDOUT))
    for process in processes:
        stack.callback(_terminate, process)
    return processes, metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


COUNTED = {"firmsim_engine_worker_ledger_statements": "ledger_statements",
           "firmsim_engine_worker_bus_messages_published": "bus_messages",
           "firmsim_engine_worker_bus_messages_kept": "bus_messages_kept",
           "firmsim_engine_api_calls_total": "api_calls"}
"""What the events cost downstream, from the workers' /metrics: PostgreSQL statements of the ledger (its
coordination session's heartbeats aside), bus messages published, and the engine's calls to the systems
(feed reads included; every system and status summed); and of the bus messages consumed, those a worker's
own intake had published, taken back as encoded rather than decoded (`EncodedBodies`)."""


def worker_counts(metrics_urls: list[str]) -> dict[str, float]:
    """Sum the COUNTED samples (over their labels) over the workers' /metrics."""
    totals = dict.fromkeys(COUNTED.values(), 0.0)
    for url in metrics_urls:
        for line in httpx.get(url, timeout=10).text.splitlines():
            sample, _, value = line.rpartition(" ")
            name = sample.partition("{")[0]
            if name in COUNTED:
                totals[COUNTED[name]] += float(value)
    return totals


def _drop_namespace(bus_url: str, store_url: str) -> None:
    """Delete a run's partition queues and ledger schema (after its workers stopped)."""
    import psycopg
    from psycopg import sql

    from syncengine.runtime.coordination import store_location
    from syncengine.runtime.distributed import open_bus

    with suppress(Exception):
        bus = open_bus(bus_url, 8)
        bus.delete()
        bus.close()
    url, schema = store_location(store_url)
    with suppress(Exception), psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


def run_mode(mode: str, events: int, load: float, duration_s: float, projects: int, *,
             synchronous_commit: str = "on", poll_limit: int | None = None, threads: int = 16,
             poll_interval: float | None = None) -> dict[str, Any]:
    """Measure one engine mode on fresh systems."""
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-engine-{uuid.uuid4().hex[:6]}"
    scratch.mkdir(parents=True)
    base = free_port_base()
    with ExitStack() as stack:
        serve_log = stack.enter_context((scratch / "serve.log").open("wb"))
        serve = subprocess.Popen([FIRMSIM, "serve", "--port-base", str(base), "--token", ACTOR_TOKEN, "--quiet"],
                                 stdout=serve_log, stderr=subprocess.STDOUT)
        stack.callback(_terminate, serve)
        urls = {kind: f"http://127.0.0.1:{base + offset}" for kind, offset in
                {"crm": 1, "psa": 2, "hcm": 3, "erp": 4}.items()}
        for url in urls.values():
            _wait_up(url, serve, scratch / "serve.log")
        name = f"bench{uuid.uuid4().hex[:8]}"
        engines, metrics_urls = start_engine(mode, urls, scratch, stack, name=name,
                                             synchronous_commit=synchronous_commit, poll_limit=poll_limit,
                                             poll_interval=poll_interval,
                                             threads=threads)
        services = None if mode == "embedded" else stack.enter_context(closing(ServiceCpu(POSTGRES, [name])))
        firm = Firm(urls)
        opportunities = [firm.win_deal(f"Bench Corp {number}") for number in range(projects)]
        staffed = []
        for number, opportunity_id in enumerate(opportunities):
            project = eventually(functools.partial(firm.project_of, opportunity_id), timeout_s=120, interval_s=0.5)
            staffed.append((project["id"], firm.staff(project["id"], worker=f"WRK-{900001 + number}")))
        monitor = Monitor(urls["erp"])
        monitor.start()
        producer = Producer(firm, staffed)
        counts_before = worker_counts(metrics_urls)  # a scrape is the benchmark's, not an event's: before CPU
        cpu_before = {"systems": cpu_seconds(serve.pid), "engine": sum(cpu_seconds(p.pid) for p in engines)}
        services_before = services.read() if services else None
        harness_before = time.process_time()
        profiler = None
        if os.environ.get("BENCH_PROFILE"):  # sample the first engine process during the saturation phase
            # (BENCH_PROFILE_GIL=1: only samples holding the GIL, i.e. where its CPU goes;
            # BENCH_PROFILE_NONBLOCKING=1: never pause the engine, at the cost of misattributed samples)
            gil = ["--gil"] if os.environ.get("BENCH_PROFILE_GIL") else []
            gil += ["--nonblocking"] if os.environ.get("BENCH_PROFILE_NONBLOCKING") else []
            py_spy = os.environ.get("BENCH_PYSPY", str(Path(sys.executable).with_name("py-spy")))
            profiler = subprocess.Popen(
                [py_spy, "record", "--pid", str(engines[0].pid),
                 "--duration", os.environ["BENCH_PROFILE"], "--format", "raw", "--rate", "200",
                 "--output", str(scratch / "engine-0.spy"), *gil],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(events // BATCH):
            producer.batch(BATCH)
        produced_at = time.monotonic()
        backlog = list(producer.approved)
        eventually(lambda: all(entry in monitor.posted for entry in backlog), timeout_s=600, interval_s=0.2)
        first = min(producer.approved[entry] for entry in backlog)
        last = max(monitor.posted[entry] for entry in backlog)
        saturation = len(backlog) / (last - first)
        cpu = {"systems": cpu_seconds(serve.pid) - cpu_before["systems"],
               "engine": sum(cpu_seconds(p.pid) for p in engines) - cpu_before["engine"]}
        harness_cpu = time.process_time() - harness_before  # the producer's and monitor's: not the pipeline's
        counts = {name: value - counts_before[name] for name, value in worker_counts(metrics_urls).items()}
        if services and services_before:
            cpu.update(spent(services_before, services.read()))
        # Sustained phase: offer `load` x saturation, in batches every 100 ms.
        rate = load * saturation
        per_tick = max(1, round(rate / 10))
        sustained: list[str] = []
        started = time.monotonic()
        while time.monotonic() - started < duration_s:
            tick = time.monotonic()
            before = set(producer.approved)
            for done in range(0, per_tick, TIMESHEET_MAX):  # a timesheet holds at most 100 entries
                producer.batch(min(TIMESHEET_MAX, per_tick - done))
            sustained += [entry for entry in producer.approved if entry not in before]
            time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
        offered = len(sustained) / (time.monotonic() - started)
        kept_up = True
        try:
            eventually(lambda: all(entry in monitor.posted for entry in sustained), timeout_s=60, interval_s=0.2)
        except AssertionError:
            kept_up = False
        lags = [monitor.posted[entry] - producer.approved[entry] for entry in sustained if entry in monitor.posted]
        monitor.stop.set()
    if profiler is not None:
        profiler.wait()
        print(f"--- where engine process 1 of {mode} spent its samples (py-spy, all threads, idle excluded)")
        print(summarise_profile(scratch / "engine-0.spy"), flush=True)
    return {"mode": mode, "events": len(backlog), "producer_s": round(produced_at - first, 2),
            "saturation_eps": round(saturation, 1),
            "cpu_systems_ms_per_event": round(1000 * cpu["systems"] / events, 3),
            "cpu_engine_ms_per_event": round(1000 * cpu["engine"] / events, 3),
            **{f"cpu_{service}_ms_per_event": round(1000 * cpu[service] / events, 3)
               for service in ("postgres", "rabbitmq") if service in cpu},
            "cpu_total_ms_per_event": round(1000 * sum(cpu.values()) / events, 3),
            "cpu_bench_ms_per_event": round(1000 * harness_cpu / events, 3),
            **{f"{name}_per_event": round(value / events, 3) for name, value in counts.items() if metrics_urls},
            "offered_eps": round(offered, 1),
            "lag_p50_s": round(statistics.median(lags), 3) if lags else None,
            "lag_p99_s": round(_percentile(lags, 0.99), 3), "lag_max_s": round(max(lags), 3) if lags else None,
            "kept_up": kept_up}


def summarise_profile(path: Path, top: int = 18) -> str:
    """Summarise py-spy collapsed stacks: share of samples by the first frame of interest, and by leaf."""
    by_area: dict[str, int] = {}
    by_leaf: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        count = int(count_text)
        total += count
        leaf = frames[-1]
        by_leaf[leaf] = by_leaf.get(leaf, 0) + count
        area = next((frame for frame in reversed(frames) if "syncengine/" in frame or "/pika/" in frame
                     or "/psycopg/" in frame or "/httpx/" in frame or "/httpcore/" in frame), leaf)
        area = area.split(" (")[1].split(":")[0] if " (" in area else area
        area = area.split("site-packages/")[-1].split("/work/main/")[-1]
        by_area[area] = by_area.get(area, 0) + count
    lines = [f"{total} samples"]
    for title, table in (("by innermost module of interest", by_area), ("by leaf frame", by_leaf)):
        lines.append(f"  {title}:")
        for name, count in sorted(table.items(), key=lambda item: -item[1])[:top]:
            lines.append(f"    {100 * count / max(total, 1):5.1f}%  {name}")
    return "\n".join(lines)


def embedded_child(urls: dict[str, str], ledger_path: str) -> None:
    """Run the embedded live engine (SQLite ledger) until SIGTERM."""
    import signal

    from harness.runner.flows import builtin_flows
    from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
    from syncengine.runtime.live import LiveRuntime

    engine = bootstrap(EngineConfig(
        systems=tuple(SystemConfig(name, base_url=url, token=ACTOR_TOKEN) for name, url in urls.items()),
        ledger="sqlite", ledger_path=ledger_path, virtual_latency=False, park_on_exception=False,
        flows=tuple(builtin_flows())))
    runtime = LiveRuntime(engine, poll_interval_s=0.05, workers=16)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runtime.start()
    stop.wait()
    runtime.stop()


def main() -> None:
    """Run the benchmark and print (and optionally record) its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="embedded,1,2,4")
    parser.add_argument("--events", type=int, default=3000, help="Backlog size of the saturation phase.")
    parser.add_argument("--load", type=float, default=0.5, help="Sustained load as a fraction of saturation.")
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds of sustained load.")
    parser.add_argument("--projects", type=int, default=8, help="Projects the time is spread over (ordering keys).")
    parser.add_argument("--synchronous-commit", choices=("on", "off"), default="on",
                        help="The distributed ledger's synchronous_commit (off: commits do not wait for the disk).")
    parser.add_argument("--poll-limit", type=int, default=None,
                        help="Events per feed page a distributed worker reads (its --poll-limit; default: 1000).")
    parser.add_argument("--poll-interval", type=float, default=None,
                        help="Seconds between a distributed worker's reads of a feed it found empty (its "
                             "--poll-interval; default: the worker's).")
    parser.add_argument("--threads", type=int, default=16,
                        help="Per-key threads of each distributed worker (its --workers).")
    parser.add_argument("--record", action="store_true", help="Append the figures to benchmarks/RESULTS.md.")
    parser.add_argument("--embedded-child", nargs=2, metavar=("URLS", "LEDGER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.embedded_child:
        embedded_child(json.loads(args.embedded_child[0]), args.embedded_child[1])
        return
    load_before = os.getloadavg()
    results = []
    for mode in args.modes.split(","):
        result = run_mode(mode.strip(), args.events, args.load, args.duration, args.projects,
                          synchronous_commit=args.synchronous_commit, poll_limit=args.poll_limit,
                          threads=args.threads, poll_interval=args.poll_interval)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.record:
        record(results, args, load_before)


def record(results: list[dict[str, Any]], args: argparse.Namespace, load_before: tuple[float, float, float]) -> None:
    """Append a section with the figures to benchmarks/RESULTS.md."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [f"\n## Sync engine throughput and lag (bench_engine.py, {stamp})\n",
             f"`.venv/bin/python benchmarks/bench_engine.py --modes {args.modes} --events {args.events} "
             f"--load {args.load} --duration {args.duration} --projects {args.projects} --record` "
             f"on {os.cpu_count()} cores; load average "
             f"before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} (other work shares the machine).\n",
             "| engine | backlog | saturation events/s | CPU ms/event systems | CPU ms/event engine | "
             "CPU ms/event PostgreSQL | CPU ms/event RabbitMQ | CPU ms/event total | "
             "sustained events/s | lag p50 s | lag p99 s | lag max s | kept up |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        engine = "embedded (SQLite)" if r["mode"] == "embedded" else f"{r['mode']} worker(s), RabbitMQ + PostgreSQL"
        lines.append(f"| {engine} | {r['events']} | {r['saturation_eps']} | {r['cpu_systems_ms_per_event']} | "
                     f"{r['cpu_engine_ms_per_event']} | {r.get('cpu_postgres_ms_per_event', '-')} | "
                     f"{r.get('cpu_rabbitmq_ms_per_event', '-')} | {r['cpu_total_ms_per_event']} | "
                     f"{r['offered_eps']} | {r['lag_p50_s']} | {r['lag_p99_s']} | {r['lag_max_s']} | {r['kept_up']} |")
    with (ROOT / "benchmarks" / "RESULTS.md").open("a") as results_file:
        results_file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
