"""The engine under load: the embedded LiveRuntime (threads in this process, SQLite ledger) by default,
or `firmsim engine worker` processes sharing a RabbitMQ bus and a PostgreSQL ledger."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

from harness.load.service_cpu import Reading, ServiceCpu, cpu_seconds

WEBHOOK_SECRET = "whsec-firmsim-load"
WORKER_START_S = 120.0
METRICS_FILE_FRESH_S = 5.0
"""How long to wait for every worker to write its --metrics-file again (it does so every second)."""


class LoadEngineError(RuntimeError):
    """The engine could not be started or reached; the message says which part."""


class LoadEngine(Protocol):
    """What the load run needs of an engine."""

    description: str

    def start(self) -> None: ...

    def wait_idle(self, quiet_s: float, timeout_s: float) -> bool: ...

    def check_alive(self) -> None: ...

    def seconds(self) -> dict[str, float]: ...

    def counters(self) -> dict[str, float]: ...

    def bus_timings(self) -> list[dict[str, Any]] | None: ...

    def cpu(self) -> Reading: ...

    def stop(self) -> None: ...


ENGINE_WORKERS = "engine workers"
"""The process group of the distributed engine's workers in CPU readings."""


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def subscribe(base_url: str, url: str) -> None:
    """Subscribe a webhook endpoint to every event of a system, through its admin API."""
    response = httpx.post(f"{base_url}/admin/subscriptions", json={"url": url, "secret": WEBHOOK_SECRET}, timeout=10)
    if response.status_code != 201:
        raise LoadEngineError(f"{base_url}: webhook subscription refused ({response.status_code})")


class EmbeddedEngine:
    """The built-in engine on the live runtime, in this process, fed by webhooks and feed polling."""

    def __init__(self, base_urls: dict[str, str], token: str, *, workers: int, ledger_path: Path) -> None:
        self.base_urls = base_urls
        self.token = token
        self.workers = workers
        self.ledger_path = ledger_path
        self.description = f"embedded LiveRuntime, {workers} worker threads, SQLite ledger, webhooks + feeds"
        self.runtime: Any = None

    def start(self) -> None:
        """Bootstrap the engine, start its runtime and subscribe it to every system's webhooks."""
        from harness.runner.flows import builtin_flows
        from harness.runner.live_engines import serve_webhooks
        from syncengine.adapters.clock import SystemClock
        from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
        from syncengine.runtime.live import LiveRuntime

        engine = bootstrap(EngineConfig(
            systems=tuple(SystemConfig(name, base_url=url, token=self.token, webhook_secret=WEBHOOK_SECRET)
                          for name, url in self.base_urls.items()),
            ledger="sqlite", ledger_path=self.ledger_path, clock=SystemClock(), flows=tuple(builtin_flows()),
            virtual_latency=False))
        self.runtime = LiveRuntime(engine, poll_interval_s=1.0, workers=self.workers, webhook_port=0,
                                   serve_webhooks=serve_webhooks)
        self.runtime.start()
        for name, url in self.base_urls.items():
            subscribe(url, self.runtime.webhook_url(name))

    def wait_idle(self, quiet_s: float, timeout_s: float) -> bool:
        """Wait until nothing is in flight for `quiet_s`."""
        return bool(self.runtime.wait_idle(quiet_s=quiet_s, timeout_s=timeout_s))

    def check_alive(self) -> None:
        """Do nothing: the embedded runtime lives as long as this process."""

    def seconds(self) -> dict[str, float]:
        """Return the engine's wall seconds by component."""
        return dict(self.runtime.engine.metrics.seconds)

    def counters(self) -> dict[str, float]:
        """Return the engine's main counters."""
        snapshot = self.runtime.snapshot()
        return {"events_received": snapshot.events_received, "business_events": snapshot.business_events,
                "retries": snapshot.retries, "exceptions": snapshot.exceptions,
                "dead_letters": snapshot.dead_letters, "api_calls": snapshot.handler_api_calls,
                "api_calls_per_business_event": snapshot.api_calls_per_business_event,
                "max_queue_depth": snapshot.max_queue_depth}

    def bus_timings(self) -> list[dict[str, Any]] | None:
        """Return None: the embedded runtime has no bus."""
        return None

    def cpu(self) -> Reading:
        """Return nothing: the embedded engine's CPU is the load process's own."""
        return {}

    def stop(self) -> None:
        """Stop the runtime."""
        if self.runtime is not None:
            self.runtime.stop()


def _with_query(url: str, name: str, value: str) -> str:
    """Return the URL with a query parameter set, unless it already has one of that name."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    if any(key == name for key, _ in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)])))


def _host(url: str) -> str:
    """Return a URL without its credentials."""
    return url.rsplit("@", maxsplit=1)[-1]


class WorkerProcesses:
    """`firmsim engine worker` processes on a bus and a store, each with its own /metrics port."""

    def __init__(self, base_urls: dict[str, str], token: str, *, workers: int, bus: str, store: str,
                 log_dir: Path) -> None:
        self.base_urls = base_urls
        self.token = token
        self.workers = workers
        run = secrets.token_hex(4)
        # a namespace of its own, so queues and ledger rows of an earlier run cannot leak into this one
        self.bus = _with_query(bus, "prefix", f"load{run}")
        self.store = _with_query(store, "schema", f"load_{run}")
        self._own_namespace = (self.bus != bus, self.store != store)
        self._schema = f"load_{run}"
        self._database_url = store
        self.log_dir = log_dir
        self.description = (f"{workers} `firmsim engine worker` processes, bus {_host(bus)}, "
                            f"store {_host(store)}")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.metrics_ports: list[int] = []
        self.metrics_files = [log_dir / f"worker-{index + 1}.metrics.json" for index in range(workers)]
        self._services: ServiceCpu | None = None

    def start(self) -> None:
        """Start the worker processes and wait for their /metrics endpoints."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        systems = [arg for name, url in self.base_urls.items() for arg in ("--system", f"{name}={url}")]
        for index, metrics_file in enumerate(self.metrics_files):
            port = free_port()
            metrics_file.unlink(missing_ok=True)
            command = [sys.executable, "-m", "harness.cli", "engine", "worker", "--bus", self.bus, "--store",
                       self.store, *systems, "--token", self.token, "--metrics-port", str(port),
                       "--metrics-file", str(metrics_file)]
            with (self.log_dir / f"worker-{index + 1}.log").open("wb") as log:
                self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
            self.metrics_ports.append(port)
        deadline = time.monotonic() + WORKER_START_S
        for process, port in zip(self.processes, self.metrics_ports, strict=True):
            while not self._scrape(port):
                if process.poll() is not None:
                    raise LoadEngineError(f"firmsim engine worker exited with {process.returncode} "
                                          f"(see {self.log_dir})")
                if time.monotonic() > deadline:
                    raise LoadEngineError(f"firmsim engine worker did not serve /metrics on port {port} in "
                                          f"{WORKER_START_S:.0f} s")
                time.sleep(0.2)
        from syncengine.runtime.distributed import namespace

        schema = dict(parse_qsl(urlsplit(self.store).query)).get("schema", "")
        self._services = ServiceCpu(self._database_url, [name for name in (schema, namespace(self.bus)) if name])

    def check_alive(self) -> None:
        """Raise LoadEngineError naming the first worker that exited."""
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                raise LoadEngineError(f"engine worker {index + 1} exited with {process.returncode} "
                                      f"(see {self.log_dir / f'worker-{index + 1}.log'})")

    def wait_idle(self, quiet_s: float, timeout_s: float) -> bool:
        """Wait until the bus and the store report nothing in flight for `quiet_s`, and every feed has been
        read since (`Settling`)."""
        from syncengine.runtime.distributed import Settling, inspect

        deadline = time.monotonic() + timeout_s
        settling = Settling(quiet_s)
        while time.monotonic() < deadline:
            self.check_alive()
            if settling.observe(lambda: inspect(self.bus, self.store)):
                return True
            time.sleep(0.1)
        return False

    def _scrape(self, port: int) -> dict[str, float]:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return {}
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                values[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
        return values

    def _summed(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for port in self.metrics_ports:
            for name, value in self._scrape(port).items():
                total[name] = total.get(name, 0.0) + value
        return total

    def seconds(self) -> dict[str, float]:
        """Return the workers' wall seconds by component, summed."""
        prefix = "firmsim_engine_seconds_total{component="
        return {name[len(prefix):-1]: value for name, value in self._summed().items() if name.startswith(prefix)}

    def counters(self) -> dict[str, float]:
        """Return the workers' main counters, summed."""
        summed = self._summed()
        counters = {name: summed.get(f"firmsim_engine_{name}_total", 0.0)
                    for name in ("events_received", "business_events", "retries", "exceptions", "dead_letters")}
        counters["api_calls"] = sum(value for name, value in summed.items()
                                    if name.startswith("firmsim_engine_flow_api_calls_total{"))
        return counters

    def bus_timings(self) -> list[dict[str, Any]]:
        """Return each worker's bus timings (BusTimings.to_dict) from a --metrics-file written from now on."""
        asked_at = time.time()
        deadline = time.monotonic() + METRICS_FILE_FRESH_S
        while not all(path.exists() and path.stat().st_mtime > asked_at for path in self.metrics_files):
            self.check_alive()
            if time.monotonic() > deadline:
                raise LoadEngineError(f"the engine workers did not write their --metrics-file in {self.log_dir} "
                                      f"within {METRICS_FILE_FRESH_S:.0f} s")
            time.sleep(0.1)
        timings = []
        for path in self.metrics_files:
            try:
                timings.append(json.loads(path.read_text(encoding="utf-8"))["bus"])
            except (OSError, ValueError, KeyError) as error:
                raise LoadEngineError(f"{path}: no bus timings in the worker's metrics file ({error})") from error
        return timings

    def cpu(self) -> Reading:
        """Return CPU seconds by process of the engine workers, PostgreSQL and RabbitMQ."""
        reading = {ENGINE_WORKERS: {process.pid: cpu_seconds(process.pid) for process in self.processes}}
        if self._services is not None:
            reading.update(self._services.read())
        return reading

    def stop(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after 10 s)."""
        if self._services is not None:
            with contextlib.suppress(Exception):
                self._services.close()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                process.kill()
        self._drop_namespace()

    def _drop_namespace(self) -> None:
        """Delete the queues and the ledger schema this run created (best effort)."""
        own_bus, own_store = self._own_namespace
        if own_bus:
            from syncengine.runtime.distributed import open_bus

            with contextlib.suppress(Exception):
                bus = open_bus(self.bus)
                bus.delete()
                bus.close()
        if own_store:
            import psycopg
            from psycopg import sql

            with contextlib.suppress(Exception), psycopg.connect(self._database_url, autocommit=True) as connection:
                connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self._schema)))
