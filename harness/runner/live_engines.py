"""The sync engine under test in a live run: embedded, distributed workers, external, or none.

Each answers the few questions the run asks: is it idle, what is its view for the oracle
(exceptions, dead letters, in flight), its technical metrics for the report; and it stops.
"""

from __future__ import annotations

import dataclasses
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness.runner.flows import builtin_flows
from harness.runner.live_systems import AdminClient
from harness.runner.sim import percentile
from simulators.common.clock import Clock, ScaledClock
from simulators.server import WsgiServer, serve_app

ENGINE_TOKEN = "firmsim-engine-token"
CLIENT_ID, CLIENT_SECRET = "firmsim", "firmsim-secret"


class EngineStartError(RuntimeError):
    """The engine could not start (a broker, database or port unreachable); the message says which."""


@dataclass(frozen=True, slots=True)
class EngineContext:
    """What every live engine is started with."""

    urls: dict[str, str]
    clock: Clock  # the paced clock the systems read too
    scaled: ScaledClock  # its parameters, for engine processes of their own
    run_dir: Path
    admin: AdminClient
    seed: int


class LiveEngine(Protocol):
    """One engine under test in a live run."""

    name: str

    def idle(self) -> bool: ...

    def caught_up(self, since: float) -> bool:
        """Tell whether the engine has read every feed since `since` (time.monotonic()) and what it says of
        itself is that recent (an engine that cannot tell: True)."""

    def engine_view(self) -> dict[str, Any] | None: ...

    def technical(self) -> dict[str, Any]: ...

    def sample(self) -> tuple[float | None, int]: ...

    def backlog(self) -> int: ...

    def metrics_urls(self) -> list[str]: ...

    def stop(self) -> None: ...


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port free on `host` now (for an engine process's /metrics)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def empty_technical() -> dict[str, Any]:
    """Return report.json's metrics.technical for a run without an engine the harness can see into."""
    return {"sync_lag_s": {"p50": None, "p95": None, "p99": None, "max": None}, "retries": 0,
            "throttled_calls": 0, "exceptions": 0, "dead_letters": 0, "api_calls_per_business_event": None}


class NoEngine:
    """No engine (`--engine none`) or the user's own (`--engine external`): the harness only watches feeds."""

    def __init__(self, name: str) -> None:
        self.name = name

    def idle(self) -> bool:
        """Tell whether the engine is idle: unknowable, so quiescence rests on the feeds alone."""
        return True

    def caught_up(self, since: float) -> bool:
        """Unknowable: True."""
        return True

    def engine_view(self) -> dict[str, Any] | None:
        """Return no engine view: the oracle checks the systems only."""
        return None

    def technical(self) -> dict[str, Any]:
        """Return empty technical metrics."""
        return empty_technical()

    def sample(self) -> tuple[float | None, int]:
        """Return no sync lag and no queue."""
        return None, 0

    def backlog(self) -> int:
        """Return no backlog: the firm never waits for an engine it cannot see."""
        return 0

    def metrics_urls(self) -> list[str]:
        """Return no metrics endpoint: the harness serves none for this engine."""
        return []

    def stop(self) -> None:
        """Stop nothing."""


def serve_webhooks(app: Any, host: str, port: int) -> WsgiServer:
    """Serve the embedded engine's webhook receiver as the systems are served (waitress, connections kept
    alive for the systems' delivery thread)."""
    return serve_app(app, host, port, name="webhooks")


class EmbeddedEngine:
    """The built-in engine in-process on the live runtime, a SQLite ledger in the run directory."""

    name = "builtin"

    def __init__(self, context: EngineContext, *, workers: int, webhook_tolerance_s: int,
                 metrics_port: int | None = None) -> None:
        try:
            from syncengine.runtime.live import LiveRuntime
        except ImportError as error:
            raise EngineStartError(f"the embedded live engine is not available ({error}); "
                                   "use --engine none or external, or --bus/--store") from None
        from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap

        self.speed = context.scaled.speed
        hook_secrets = {kind: secrets.token_hex(16) for kind in context.urls}
        ledger_path = context.run_dir / "ledger.db"
        for stale in context.run_dir.glob("ledger.db*"):
            stale.unlink()
        self.engine = bootstrap(EngineConfig(
            systems=tuple(SystemConfig(kind, base_url=url, token=ENGINE_TOKEN, client_id=CLIENT_ID,
                                       client_secret=CLIENT_SECRET, webhook_secret=hook_secrets[kind])
                          for kind, url in context.urls.items()),
            ledger="sqlite", ledger_path=ledger_path, clock=context.clock, seed=context.seed,
            flows=tuple(builtin_flows()), virtual_latency=False, webhook_tolerance_s=webhook_tolerance_s))
        try:
            self.runtime = LiveRuntime(self.engine, workers=workers, webhook_port=0, metrics_port=metrics_port,
                                       backoff_scale=1 / self.speed,  # retry delays are simulated seconds
                                       serve_webhooks=serve_webhooks)
            self.runtime.start()
        except OSError as error:
            self.runtime.stop(timeout_s=5)
            where = f" (its webhook receiver, or /metrics on port {metrics_port})" if metrics_port else ""
            raise EngineStartError(f"the embedded engine could not start{where}: {error.strerror or error}") from None
        try:
            for kind in context.urls:
                context.admin.subscribe(kind, self.runtime.webhook_url(kind), hook_secrets[kind])
        except BaseException:
            self.runtime.stop(timeout_s=5)
            raise
        self._lag_seen = 0

    def idle(self) -> bool:
        """Tell whether the runtime has nothing in flight."""
        return bool(self.runtime.idle)

    def caught_up(self, since: float) -> bool:
        """True: the runtime is in this process, a feed read in progress counts as in flight and the quiet
        period outlasts its poll interval."""
        return True

    def engine_view(self) -> dict[str, Any]:
        """Return the ledger's exceptions and dead letters and what is in flight."""
        ledger = self.engine.ports.ledger
        snapshot = self.runtime.snapshot()
        return {"exceptions": [dataclasses.asdict(item) for item in ledger.exceptions()],
                "dead_letters": [dataclasses.asdict(letter) for letter in ledger.dead_letters()],
                "in_flight": snapshot.queue_depth, "idle": self.idle()}

    def technical(self) -> dict[str, Any]:
        """Return the engine's technical metrics (sync lag in simulated seconds, as in sim mode)."""
        technical = snapshot_technical(self.runtime.snapshot(), self.speed)
        if self.engine.webhooks is not None:
            technical["webhooks"] = {"accepted": self.engine.webhooks.accepted,
                                     "rejected": dict(sorted(self.engine.webhooks.rejected.items()))}
        return technical

    def sample(self) -> tuple[float | None, int]:
        """Return the p95 sync lag since the last sample and the queue depth."""
        snapshot = self.runtime.snapshot()
        new_lags = snapshot.sync_lag_s[self._lag_seen:]
        self._lag_seen = len(snapshot.sync_lag_s)
        return (percentile(new_lags, 95) if new_lags else None), snapshot.queue_depth

    def backlog(self) -> int:
        """Return the messages ready to run (parked keys wait for an operator, not for time)."""
        return self.engine.queues.runnable_depth()

    def metrics_urls(self) -> list[str]:
        """Return where the runtime serves the engine's Prometheus metrics."""
        return [self.runtime.metrics_url] if self.runtime.metrics_url else []

    def stop(self) -> None:
        """Stop the runtime's threads and webhook receiver."""
        self.runtime.stop(timeout_s=10)


def snapshot_technical(snapshot: Any, speed: float) -> dict[str, Any]:
    """Return report.json's metrics.technical from an engine MetricsSnapshot."""
    lags = list(snapshot.sync_lag_s)
    lag = {"p50": percentile(lags, 50), "p95": percentile(lags, 95), "p99": percentile(lags, 99),
           "max": max(lags) if lags else 0.0}
    return {
        "sync_lag_s": lag,
        "sync_lag_real_s": {name: None if value is None else round(value / speed, 4) for name, value in lag.items()},
        "retries": snapshot.retries, "throttled_calls": snapshot.throttled_calls,
        "exceptions": snapshot.exceptions, "dead_letters": snapshot.dead_letters,
        "api_calls_per_business_event": round(snapshot.api_calls_per_business_event, 3),
        "business_events": snapshot.business_events, "events_received": snapshot.events_received,
        "duplicate_events": snapshot.duplicate_events, "rejected_signatures": snapshot.rejected_signatures,
        "max_queue_depth": snapshot.max_queue_depth,
    }
