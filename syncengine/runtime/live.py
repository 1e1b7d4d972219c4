"""The live runtime: the engine core on wall-clock time, with threads.

A poller thread per system reads its feed (at once again while pages come full, after
`poll_interval_s` when a read finds nothing, backing off while the system is unreachable); a bounded
pool of worker threads runs the keys with work, one step of a key at a time (what is queued of it in
one unit of work, see `Engine.dispatch_batch`), waiting out each retry's backoff in wall time
without holding a thread; an optional HTTP server takes signed webhooks (werkzeug's threaded one
unless `serve_webhooks` starts another), another serves the engine's metrics to Prometheus
(`metrics_port`, GET /metrics). The ledger adapter decides how much of the handlers' work overlaps:
SQLite serialises units of work behind its one connection, PostgreSQL gives each thread its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from werkzeug.serving import WSGIRequestHandler, make_server

from syncengine.domain.errors import EngineError
from syncengine.intake.app import create_webhook_app
from syncengine.runtime.dispatch import AttemptOutcome
from syncengine.runtime.engine import Engine
from syncengine.runtime.keyed_pool import KeyedWorkers
from syncengine.runtime.metrics import MetricsSnapshot
from syncengine.runtime.prometheus import EngineCollector, MetricsServer, start_metrics_server

log = logging.getLogger(__name__)

MAX_POLL_BACKOFF_S = 10.0
BATCH_MAX = 100
"""At most this many of a key's queued messages run in one unit of work (one ledger commit)."""


class WebhookServer(Protocol):
    """The HTTP server the webhook receiver runs on: started serving, its port, stopped."""

    port: int

    def stop(self) -> None: ...


ServeWebhooks = Callable[[Any, str, int], WebhookServer]
"""Start serving a WSGI app on (host, port; 0: a free one) and return the server."""


class _QuietHandler(WSGIRequestHandler):
    """Take webhooks without a log line each (a month-end burst is thousands; the metrics count them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


class _WerkzeugServer:
    """The default webhook server: werkzeug's threaded one (a deployment may hand in its own)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class LiveRuntime:
    """Run an engine's pollers, per-key workers and webhook receiver on threads."""

    def __init__(self, engine: Engine, *, poll_interval_s: float = 0.5, workers: int = 4,
                 webhook_port: int | None = None, webhook_host: str = "127.0.0.1",
                 backoff_scale: float = 1.0, poll: bool = True, metrics_port: int | None = None,
                 serve_webhooks: ServeWebhooks = _WerkzeugServer) -> None:
        if poll_interval_s <= 0:
            raise ValueError("poll_interval_s must be > 0")
        if backoff_scale < 0:
            raise ValueError("backoff_scale must be >= 0")
        self.engine = engine
        self.poll_interval_s = poll_interval_s
        self.backoff_scale = backoff_scale
        self.poll_failures: dict[str, int] = {}
        self.poll_errors: dict[str, str] = {}
        self._unread: set[str] = set()
        self._poll = poll
        self._pool = KeyedWorkers(self._step, workers=workers, name="engine-key")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._webhook_host = webhook_host
        self._webhook_port = webhook_port
        self._serve_webhooks = serve_webhooks
        self._server: WebhookServer | None = None
        self._metrics_port = metrics_port
        self._metrics: MetricsServer | None = None
        self._activity = threading.Lock()
        self._last_activity = time.monotonic()
        self._polls_in_flight = 0
        self._started = False
        engine.listen(self._woken)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers, a poller per system with a feed poller, and the webhook server if asked."""
        if self._started:
            raise RuntimeError("the runtime is already started")
        self._started = True
        self._pool.start()
        for key in self.engine.runnable_keys():
            self._pool.wake(key)
        if self._poll:
            for system in self.engine.pollers:
                self._spawn(f"poll-{system}", self._poller, system)
        if self._webhook_port is not None:
            if self.engine.webhooks is None:
                raise RuntimeError("the engine has no webhook receiver")
            app = create_webhook_app(self.engine.webhooks)
            self._server = self._serve_webhooks(app, self._webhook_host, self._webhook_port)
        if self._metrics_port is not None:
            collector = EngineCollector(self.engine.snapshot, seconds=lambda: dict(self.engine.metrics.seconds),
                                        extra_gauges=self.gauges)
            self._metrics = start_metrics_server(self._metrics_port, collector, host=self._webhook_host)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking events, let running attempts finish (within `timeout_s`), stop every thread and close
        the engine's connections to the systems (served with keep-alive, they stay open until closed)."""
        self._stop.set()
        if self._server is not None:
            self._server.stop()
        if self._metrics is not None:
            self._metrics.stop()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._pool.stop(max(0.0, deadline - time.monotonic()))
        for client in self.engine.ports.clients.values():
            client.close()

    def __enter__(self) -> LiveRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observing -------------------------------------------------------------------------------

    def webhook_url(self, system: str) -> str:
        """Return the URL a system should deliver its webhooks to."""
        if self._server is None:
            raise RuntimeError("the webhook server is not running (give webhook_port and start)")
        return f"http://{self._webhook_host}:{self._server.port}/webhooks/{system}"

    @property
    def idle(self) -> bool:
        """Tell whether nothing is in flight: no key running, ready or backing off, no poll mid-read,
        no feed left unread by a failed poll."""
        with self._activity:
            polling = self._polls_in_flight > 0 or bool(self._unread)
        return not polling and not self._pool.busy and self.engine.idle

    def wait_idle(self, quiet_s: float = 1.0, timeout_s: float = 60.0) -> bool:
        """Wait until the runtime has been idle, with nothing new taken in, for `quiet_s`; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._activity:
                quiet_for = time.monotonic() - self._last_activity
            if self.idle and quiet_for >= quiet_s:
                return True
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return False

    @property
    def metrics_url(self) -> str | None:
        """Return the URL Prometheus scrapes the engine's metrics at (None: not served)."""
        return None if self._metrics is None else self._metrics.url

    def gauges(self) -> dict[str, float]:
        """Return the runtime's own gauges for /metrics: idle (1) or not (0), failed feed reads per system."""
        gauges = {f"runtime_poll_failures_{system}": float(count)
                  for system, count in sorted(self.poll_failures.items())}
        gauges["runtime_idle"] = float(self.idle)
        return gauges

    def snapshot(self) -> MetricsSnapshot:
        """Return the engine's metrics as they stand."""
        return self.engine.snapshot()

    # -- threads ---------------------------------------------------------------------------------

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _touch(self) -> None:
        with self._activity:
            self._last_activity = time.monotonic()

    def _woken(self, key: str) -> None:
        self._touch()
        self._pool.wake(key)

    def _step(self, key: str) -> float | None:
        result = self.engine.dispatch_batch(key, BATCH_MAX)
        if result is None:
            return None
        self._touch()
        if result.outcome is AttemptOutcome.RETRY:
            return result.delay_s * self.backoff_scale
        return 0.0

    def _poller(self, system: str) -> None:
        failures = 0
        while not self._stop.is_set():
            with self._activity:
                self._polls_in_flight += 1
            try:
                result = self.engine.poll(system)
            except Exception as error:  # an unreachable system or a broken page: read again later
                failures += 1
                self.poll_failures[system] = self.poll_failures.get(system, 0) + 1
                self.poll_errors[system] = str(error) if isinstance(error, EngineError) else repr(error)
                if not isinstance(error, EngineError):
                    log.exception("polling %s failed", system)
                wait = min(self.poll_interval_s * 2 ** min(failures, 8), MAX_POLL_BACKOFF_S)
                with self._activity:
                    self._unread.add(system)
            else:
                failures = 0
                with self._activity:
                    self._unread.discard(system)
                if result.events:
                    self._touch()
                # A full read may have left more behind: read on at once; a dry one waits.
                wait = 0.0 if result.events else self.poll_interval_s
            finally:
                with self._activity:
                    self._polls_in_flight -= 1
            if wait:
                self._stop.wait(wait)
