"""The distributed engine of a live run: `firmsim engine worker` processes on RabbitMQ and PostgreSQL.

Each run gets its own queue prefix and ledger schema (unless the URLs name them), so a run never
inherits another's tracking records, cursors or messages; the harness removes both at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.runner.live_clock import ClockFile, PacedClock
from harness.runner.live_engines import (
    ENGINE_TOKEN,
    EngineContext,
    EngineStartError,
    empty_technical,
    free_port,
    snapshot_technical,
)
from harness.runner.sim import percentile

WORKER_STOP_TIMEOUT_S = 15.0


def _read_metrics(path: Path) -> dict[str, Any] | None:
    """Return what a worker last wrote to its --metrics-file (None: nothing yet)."""
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document


def with_parameter(url: str, name: str, value: str) -> tuple[str, bool]:
    """Return the URL with `?name=value` added unless it names one already, and whether it was added."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == name for key, _ in query):
        return url, False
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode([*query, (name, value)]),
                       parts.fragment)), True


class DistributedEngine:
    """`firmsim engine worker` subprocesses sharing a RabbitMQ bus and a PostgreSQL store."""

    name = "builtin"

    def __init__(self, context: EngineContext, *, bus: str, store: str, workers: int,
                 metrics_port: int | None = None) -> None:
        try:
            self._module = importlib.import_module("syncengine.runtime.distributed")
        except ImportError as error:
            raise EngineStartError(f"the distributed engine is not available ({error})") from None
        run = uuid.uuid4().hex[:10]
        self.bus, self._own_prefix = with_parameter(bus, "prefix", f"firmsim.run.{run}")
        self.store, self._own_schema = with_parameter(store, "schema", f"firmsim_run_{run}")
        self._inspect: Callable[[], Any] = lambda: self._module.inspect(self.bus, self.store)
        try:
            self._inspect()
        except Exception as error:  # noqa: BLE001 - any failure to reach the broker or store ends the run
            raise EngineStartError(f"cannot reach the bus {bus} or the store {store}: {error}") from None
        command = [str(Path(sys.executable).with_name("firmsim")), "engine", "worker", "--bus", self.bus,
                   "--store", self.store, "--token", ENGINE_TOKEN,
                   "--clock-epoch", context.scaled.epoch.isoformat(), "--clock-origin", repr(context.scaled.origin),
                   "--speed", repr(context.scaled.speed)]
        # the workers read the run's clock, held back with a late firm as the systems' is, so their sync lag
        # and timestamps agree with the systems' (a scaled wall of their own would run ahead of both)
        self._clock_file = ClockFile(context.clock, context.run_dir / "clock.bin") \
            if isinstance(context.clock, PacedClock) else None
        if self._clock_file is not None:
            command += ["--clock-file", str(self._clock_file.path)]
        for kind, url in context.urls.items():
            command += ["--system", f"{kind}={url}"]
        self.speed = context.scaled.speed
        self.logs = [context.run_dir / f"worker-{index + 1}.log" for index in range(workers)]
        self.metrics_files = [context.run_dir / f"worker-{index + 1}.metrics.json" for index in range(workers)]
        self.metrics_ports = [free_port() if metrics_port is None else metrics_port + index for index in range(workers)]
        self.processes: list[subprocess.Popen[bytes]] = []
        for log_path, metrics_file, port in zip(self.logs, self.metrics_files, self.metrics_ports, strict=True):
            metrics_file.unlink(missing_ok=True)
            with log_path.open("wb") as log:
                self.processes.append(subprocess.Popen(
                    [*command, "--metrics-port", str(port), "--metrics-file", str(metrics_file)], stdout=log,
                    stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}))
        self._last: Any = None
        self._lag_seen: dict[tuple[int, str], int] = {}

    def _status(self) -> Any:
        if all(process.poll() is not None for process in self.processes):
            lines = self.logs[0].read_text(encoding="utf-8", errors="replace").strip().splitlines()
            raise EngineStartError(f"every engine worker exited (worker 1: {lines[-1] if lines else 'no output'})")
        try:
            self._last = self._inspect()
        except Exception as error:  # noqa: BLE001 - the broker or store went away mid-run
            raise EngineStartError(f"lost the bus or the store: {error}") from None
        return self._last

    def idle(self) -> bool:
        """Tell whether the bus is empty and nothing is in flight."""
        return bool(self._status().idle)

    def caught_up(self, since: float) -> bool:
        """Tell whether the workers, idle, have each reported and found every feed empty since `since`
        (`syncengine.runtime.distributed.caught_up`)."""
        asked = time.monotonic()
        status = self._status()
        return bool(status.idle) and bool(self._module.caught_up(status, asked - since))

    def engine_view(self) -> dict[str, Any]:
        """Return the store's exceptions and dead letters and what is in flight."""
        status = self._status()
        return {"exceptions": [dataclasses.asdict(item) for item in status.exceptions],
                "dead_letters": [dataclasses.asdict(letter) for letter in status.dead_letters],
                "in_flight": int(status.queue_depth) + int(status.in_flight), "idle": bool(status.idle)}

    def metrics_urls(self) -> list[str]:
        """Return where each worker serves its Prometheus metrics."""
        return [f"http://127.0.0.1:{port}/metrics" for port in self.metrics_ports]

    def technical(self) -> dict[str, Any]:
        """Return the workers' metrics as they wrote them on stopping (after `stop`; a worker that was killed
        counts with what it wrote last, up to a second before), exceptions and dead letters as the store
        holds them."""
        from syncengine.runtime.metrics import merge_snapshots, snapshot_from_dict

        status = self._last or self._status()
        written = [document for document in map(_read_metrics, self.metrics_files) if document is not None]
        snapshots = [snapshot_from_dict(document["metrics"]) for document in written]
        technical = snapshot_technical(merge_snapshots(snapshots), self.speed) if snapshots else empty_technical()
        return {**technical, "exceptions": len(status.exceptions), "dead_letters": len(status.dead_letters),
                "workers": len(self.processes), "workers_reporting": sum(bool(item["final"]) for item in written)}

    def sample(self) -> tuple[float | None, int]:
        """Return the p95 sync lag of what the workers synced since the last sample (from the metrics they
        write every second) and the queue depth."""
        status = self._status()
        new_lags: list[float] = []
        for index, document in enumerate(map(_read_metrics, self.metrics_files)):
            for flow, counts in (document or {}).get("metrics", {}).get("flows", {}).items():
                lags = counts["sync_lag_s"]
                new_lags.extend(lags[self._lag_seen.get((index, flow), 0):])
                self._lag_seen[(index, flow)] = len(lags)
        return (percentile(new_lags, 95) if new_lags else None), int(status.queue_depth) + int(status.in_flight)

    def backlog(self) -> int:
        """Return the messages on the bus and in flight."""
        status = self._status()
        return 0 if status.idle else int(status.queue_depth) + int(status.in_flight)

    def stop(self) -> None:
        """Ask every worker to stop (SIGTERM), kill any that will not, then remove this run's queues and schema."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=WORKER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._clock_file is not None:
            self._clock_file.close()
        self._clean_up()

    def _clean_up(self) -> None:
        with contextlib.suppress(Exception):  # leftovers of a run are harmless: the next run has its own names
            if self._own_prefix:
                bus = self._module.open_bus(self.bus)
                try:
                    bus.delete()
                finally:
                    bus.close()
            if self._own_schema:
                import psycopg
                from psycopg import sql

                from syncengine.runtime.coordination import store_location

                url, schema = store_location(self.store)
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
