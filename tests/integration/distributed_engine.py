"""Run `firmsim engine worker` processes against served systems, RabbitMQ and PostgreSQL (no tests here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from syncengine.runtime.distributed import EngineStatus, Settling, inspect, open_bus
from tests.integration.live_firm import ENGINE_TOKEN

FIRMSIM = str(Path(sys.executable).with_name("firmsim"))


@dataclass
class Deployment:
    """One distributed engine: its bus and store URLs (unique queue prefix and schema) and its workers."""

    urls: dict[str, str]
    bus_url: str
    store_url: str
    postgres_url: str
    schema: str
    prefix: str
    logs: Path
    partitions: int = 4
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, *extra: str) -> subprocess.Popen[bytes]:
        """Start one more worker process."""
        systems = [arg for name, url in self.urls.items() for arg in ("--system", f"{name}={url}")]
        with (self.logs / f"worker-{len(self.workers)}.log").open("wb") as log:
            process = subprocess.Popen(
                [FIRMSIM, "engine", "worker", "--bus", self.bus_url, "--store", self.store_url, *systems,
                 "--token", ENGINE_TOKEN, "--partitions", str(self.partitions), "--poll-interval", "0.1", *extra],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.workers.append(process)
        return process

    def status(self) -> EngineStatus:
        """Read the engine's state the way the harness does."""
        return inspect(self.bus_url, self.store_url)

    def wait_idle(self, quiet_s: float = 1.0, timeout_s: float = 30.0) -> EngineStatus:
        """Wait until the engine has settled (idle for `quiet_s`, every feed read since: `Settling`); fail with
        the last status otherwise."""
        deadline = time.monotonic() + timeout_s
        settling = Settling(quiet_s)
        while time.monotonic() < deadline:
            if settling.observe(self.status):
                assert settling.last is not None
                return settling.last
            time.sleep(0.2)
        raise AssertionError(f"the engine did not settle: {settling.last}; logs: {self.log_tail()}")

    def log_tail(self) -> str:
        """Return the end of every worker's log."""
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-1500:]}"
                         for path in sorted(self.logs.glob("worker-*.log")))

    def stop(self) -> None:
        """Stop every worker still running, then drop the queues and the schema."""
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
        for process in self.workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with suppress(Exception):
            bus = open_bus(self.bus_url, self.partitions)
            bus.delete()
            bus.close()
        with suppress(Exception), psycopg.connect(self.postgres_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))


@contextmanager
def deployment(urls: dict[str, str], rabbitmq_url: str, postgres_url: str, logs: Path,
               partitions: int = 4) -> Iterator[Deployment]:
    """Give a fresh distributed engine (unique queue prefix and schema) and clean it up after."""
    name = f"t{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in rabbitmq_url else "?"
    store_separator = "&" if "?" in postgres_url else "?"
    engine = Deployment(urls, f"{rabbitmq_url}{separator}prefix=firmsim.{name}",
                        f"{postgres_url}{store_separator}schema={name}", postgres_url, name, f"firmsim.{name}", logs,
                        partitions)
    try:
        yield engine
    finally:
        engine.stop()


def close_connections(prefix: str) -> int:
    """Force-close this engine's RabbitMQ connections (only ours: other engines share the broker)."""
    listing = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    closed = 0
    for line in listing.splitlines():
        if f'"{prefix}:' not in line and f"{prefix}:" not in line:
            continue
        pid = line.split("\t", 1)[0].strip()
        if pid.startswith("<"):
            subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test: link dropped"],
                           capture_output=True, timeout=30, check=False)
            closed += 1
    return closed


def broker_running() -> bool:
    """Tell whether the RabbitMQ application is running on the node."""
    done = subprocess.run(["rabbitmqctl", "-q", "await_startup", "--timeout", "1"], capture_output=True, timeout=30,
                          check=False)
    return done.returncode == 0


def start_broker(timeout_s: float = 60.0) -> None:
    """Start the RabbitMQ application (idempotent) and wait until it serves; raise AssertionError otherwise."""
    subprocess.run(["rabbitmqctl", "-q", "start_app"], capture_output=True, timeout=timeout_s, check=False)
    done = subprocess.run(["rabbitmqctl", "-q", "await_startup", "--timeout", str(int(timeout_s))],
                          capture_output=True, text=True, timeout=timeout_s + 10, check=False)
    assert done.returncode == 0, f"RabbitMQ did not come back: {done.stderr.strip() or done.stdout.strip()}"


def stop_broker() -> None:
    """Stop the RabbitMQ application (the Erlang node stays up): every connection drops, queues stay on disk."""
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], capture_output=True, timeout=60, check=True)


def terminate_backends(postgres_url: str, schema: str, prefix: str) -> int:
    """Terminate this engine's PostgreSQL backends (its ledger's and its workers' coordination sessions)."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (application_name = %s OR application_name LIKE %s)",
            (f"firmsim-ledger:{schema}", f"firmsim-worker:{prefix}:%")).fetchall()
    return sum(1 for (terminated,) in rows if terminated)
