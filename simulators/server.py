"""Run systems on real sockets (threaded WSGI servers), with webhook delivery threads."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from simulators.common.app import context_of
from simulators.registry import PORT_OFFSETS, create_system_app

WEBHOOK_POLL_S = 0.2
WEBHOOK_TIMEOUT_S = 5.0


class PortInUseError(OSError):
    """A port the server needs is taken; the message names it."""


def _http_sender(client: httpx.Client) -> Any:
    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        return client.post(url, headers=headers, content=body).status_code

    return send


@dataclass
class RunningSystem:
    """One system served on a port."""

    kind: str
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread
    base_url: str

    @property
    def spec_url(self) -> str:
        """Return the URL of the system's OpenAPI document."""
        return f"{self.base_url}/openapi.json"


@dataclass
class SystemServers:
    """Several systems on consecutive ports, started and stopped together."""

    host: str
    systems: list[RunningSystem] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _webhook_thread: threading.Thread | None = None
    _http: httpx.Client | None = None

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
        """Stop every server and the webhook thread."""
        self._stop.set()
        for system in self.systems:
            system.server.shutdown()
            system.server.server_close()
        for system in self.systems:
            system.thread.join(timeout=5)
        if self._webhook_thread:
            self._webhook_thread.join(timeout=5)
        if self._http:
            self._http.close()


def _check_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUseError(f"cannot listen on {host}:{port}: {error.strerror}") from error


def serve_systems(host: str, port_base: int, kinds: list[str], config: dict[str, Any]) -> SystemServers:
    """Start the given systems on `port_base + offset` each and return their handles."""
    for kind in kinds:
        _check_free(host, port_base + PORT_OFFSETS[kind])
    servers = SystemServers(host)
    for kind in kinds:
        app = create_system_app(kind, {"LOST_RESPONSE_MODE": "drop", "SLEEP_LATENCY": True, **config})
        port = port_base + PORT_OFFSETS[kind]
        server = make_server(host, port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"serve-{kind}", daemon=True)
        thread.start()
        servers.systems.append(RunningSystem(kind, app, server, thread, f"http://{host}:{port}"))
    servers.start_webhooks()
    return servers
