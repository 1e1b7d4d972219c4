"""Run systems on real sockets (waitress, a fixed pool of threads per system), with webhook delivery threads.

waitress rather than werkzeug's threaded dev server: benchmarks/bench_wsgi.py measured 1.2-1.8x the
requests per second at 35-55 % less server CPU per request. Its pool is fixed, and an injected latency
fault sleeps in the thread that serves the request, so each system gets `SYSTEM_THREADS` threads: more
than the callers a live run or `firmsim load` puts on one system at once, so requests slowed by a
fault do not queue the others (bench_wsgi.py --latency measures it).
"""

from __future__ import annotations

import errno
import math
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from flask import Flask
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import WSGITask

from simulators.common.app import context_of
from simulators.registry import PORT_OFFSETS, create_system_app

WEBHOOK_POLL_S = 0.2
WEBHOOK_TIMEOUT_S = 5.0
SYSTEM_THREADS = 32
"""Threads serving one system: a live run puts at most ~10 callers on a system (firm, engine workers and
pollers, admin), `firmsim load` its 16 clients and 4 engine workers by default."""
CONNECTION_LIMIT = 512
STOP_TIMEOUT_S = 5.0

WsgiApp = Callable[..., Iterable[bytes]]
"""A WSGI application."""


class PortInUseError(OSError):
    """A port the server needs is taken; the message names it."""


class _SocketTask(WSGITask):
    """A request whose environ carries its socket, under the key werkzeug's server uses, so a system can
    drop a connection to simulate a lost response (simulators/common/app.py reads it)."""

    def get_environment(self) -> dict[str, Any]:
        """Return the WSGI environ with the connection's socket."""
        environ: dict[str, Any] = super().get_environment()
        environ["werkzeug.socket"] = self.channel.socket
        return environ


class _Channel(HTTPChannel):
    task_class = _SocketTask


class _Server(TcpWSGIServer):
    channel_class = _Channel

    def pull_trigger(self) -> None:
        """Wake the server loop. A request still running when `WsgiServer.close` ended the loop finishes
        with no loop left to wake: its wake-up pipe is closed (EBADF), and its descriptor number may
        already belong to another file or socket, so nothing is written once the trigger is closed."""
        trigger: Any = self.trigger  # typed int by types-waitress, a trigger dispatcher in fact
        if trigger._closed:
            return
        try:
            super().pull_trigger()
        except OSError as error:  # closed between the check and the write
            if error.errno != errno.EBADF:
                raise


class WsgiServer:
    """One WSGI app served by waitress on a thread of its own: `start`, `stop`, `port`, and a swappable `app`."""

    def __init__(self, app: WsgiApp, host: str, port: int, *, threads: int = SYSTEM_THREADS, name: str = "wsgi",
                 access_log: TextIO | None = None) -> None:
        self.app = app
        self.host = host
        self.name = name
        self._access_log = access_log
        self._map: dict[int, Any] = {}
        self._server = _Server(self._serve, map=self._map, host=host, port=port, threads=threads,
                               connection_limit=CONNECTION_LIMIT, asyncore_use_poll=True, ident=None)
        self.port: int = int(self._server.getsockname()[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self._run, name=f"serve-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # wasyncore's loop runs while its map holds a socket; stop() empties the map from this loop's thread
        wasyncore.loop(timeout=self._server.adj.asyncore_loop_timeout, map=self._map, use_poll=True)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Close the listening socket and connections, wait (at most `timeout_s`) for running requests."""
        deadline = time.monotonic() + timeout_s
        self.close(timeout_s)
        self.finish(deadline - time.monotonic())

    def close(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Close the listening socket and connections and end the loop; requests running go on."""
        trigger: Any = self._server.trigger  # typed int by types-waitress, a trigger dispatcher in fact
        try:
            if self._map:
                trigger.pull_trigger(lambda: wasyncore.close_all(self._map, ignore_all=True))
        except OSError:  # the wake-up pipe is gone: close from here, the loop ends when its map is empty
            wasyncore.close_all(self._map, ignore_all=True)
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._thread is None or not self._thread.is_alive():
            wasyncore.close_all(self._map, ignore_all=True)  # never started, or stopped: nothing races us

    def finish(self, timeout_s: float) -> None:
        """Wait at most `timeout_s` for the requests still running (a latency fault may be sleeping in one)."""
        self._server.task_dispatcher.shutdown(timeout=max(0, math.ceil(timeout_s)))

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._access_log is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        status: list[str] = []

        def note(line: str, headers: list[tuple[str, str]], *error: Any) -> Any:
            status.append(line.split(" ", 1)[0])
            return start_response(line, headers, *error)

        body = self.app(environ, note)
        path = environ.get("PATH_INFO", "") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        self._access_log.write(f"{self.name} {environ.get('REMOTE_ADDR', '-')} \"{environ.get('REQUEST_METHOD')} "
                               f"{path}\" {status[0] if status else '-'} "
                               f"{1000 * (time.perf_counter() - started):.1f} ms\n")
        return body


def serve_app(app: WsgiApp, host: str, port: int, *, threads: int = 8, name: str = "wsgi") -> WsgiServer:
    """Serve any WSGI app on waitress (port 0: a free one) and return the started server."""
    server = WsgiServer(app, host, port, threads=threads, name=name)
    server.start()
    return server


def _http_sender(client: httpx.Client) -> Any:
    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        return client.post(url, headers=headers, content=body).status_code

    return send


@dataclass
class RunningSystem:
    """One system served on a port."""

    kind: str
    app: Flask
    server: WsgiServer
    base_url: str

    @property
    def spec_url(self) -> str:
        """Return the URL of the system's OpenAPI document."""
        return f"{self.base_url}/openapi.json"


@dataclass
class SystemServers:
    """Several systems served together, started and stopped together."""

    host: str
    systems: list[RunningSystem] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _webhook_thread: threading.Thread | None = None
    _http: httpx.Client | None = None

    def add(self, kind: str, app: Flask, port: int, *, threads: int = SYSTEM_THREADS,
            access_log: TextIO | None = None) -> RunningSystem:
        """Serve `app` on `port` (0: a free one); PortInUseError names the port when it is taken."""
        try:
            server = WsgiServer(app, self.host, port, threads=threads, name=kind, access_log=access_log)
        except OSError as error:
            raise PortInUseError(f"cannot listen on {self.host}:{port} for {kind}: "
                                 f"{error.strerror or error}") from None
        server.start()
        system = RunningSystem(kind, app, server, server.url)
        self.systems.append(system)
        return system

    def start_webhooks(self) -> None:
        """Start the thread that pushes due webhooks of every system over HTTP."""
        self._http = httpx.Client(timeout=WEBHOOK_TIMEOUT_S)
        sender = _http_sender(self._http)
        for system in self.systems:
            system.app.config["WEBHOOK_SENDER"] = sender

        def loop() -> None:
            while not self._stop.wait(WEBHOOK_POLL_S):
                for system in self.systems:
                    context_of(system.app).deliver_webhooks()

        self._webhook_thread = threading.Thread(target=loop, name="webhooks", daemon=True)
        self._webhook_thread.start()

    def stop(self) -> None:
        """Stop every server (waiting at most STOP_TIMEOUT_S in all for running requests) and the webhook
        thread."""
        self._stop.set()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for system in self.systems:  # all stop taking requests first, then all wait out the running ones
            system.server.close()
        for system in self.systems:
            system.server.finish(deadline - time.monotonic())
        if self._webhook_thread:
            self._webhook_thread.join(timeout=STOP_TIMEOUT_S)
        if self._http:
            self._http.close()


def _check_free(host: str, port: int, kind: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUseError(f"cannot listen on {host}:{port} for {kind}: {error.strerror}") from None


def serve_systems(host: str, port_base: int | None, kinds: list[str], config: dict[str, Any], *,
                  configs: dict[str, dict[str, Any]] | None = None, threads: int = SYSTEM_THREADS,
                  log_requests: bool = False) -> SystemServers:
    """Start the given systems on `port_base + offset` each (free ports when None) and return their handles.

    `config` is every system's, `configs` adds a system's own; `log_requests` writes a line per request to
    stderr. Every port is checked before any system starts, so a taken one starts nothing.
    """
    if port_base is not None:
        for kind in kinds:
            _check_free(host, port_base + PORT_OFFSETS[kind], kind)
    servers = SystemServers(host)
    try:
        for kind in kinds:
            app = create_system_app(kind, {"LOST_RESPONSE_MODE": "drop", "SLEEP_LATENCY": True, **config,
                                           **(configs or {}).get(kind, {})})
            port = 0 if port_base is None else port_base + PORT_OFFSETS[kind]
            servers.add(kind, app, port, threads=threads, access_log=sys.stderr if log_requests else None)
        servers.start_webhooks()
    except BaseException:
        servers.stop()
        raise
    return servers
