"""Start systems on free local ports for a command (contract verification, fuzzing) and stop them after."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from simulators.registry import create_system_app

WsgiApp = Callable[..., Any]
"""A WSGI application."""


class _QuietHandler(WSGIRequestHandler):
    """Serve without logging every request to stderr (the command prints its own report)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


@dataclass
class LocalSystem:
    """One system served on a local port."""

    kind: str
    app: Any
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """Return the system's base URL."""
        return f"http://{self.server.host}:{self.server.port}"


@dataclass
class LocalSystems:
    """Systems started together; a context manager that stops them."""

    token: str
    systems: dict[str, LocalSystem] = field(default_factory=dict)

    def url(self, kind: str) -> str:
        """Return the base URL of a system."""
        return self.systems[kind].base_url

    def stop(self) -> None:
        """Stop every server."""
        for system in self.systems.values():
            system.server.shutdown()
            system.server.server_close()
        for system in self.systems.values():
            system.thread.join(timeout=5)

    def __enter__(self) -> LocalSystems:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def start_local_systems(kinds: Iterable[str], token: str, *, host: str = "127.0.0.1",
                        config: Mapping[str, Any] | None = None,
                        middleware: Mapping[str, Callable[[WsgiApp], WsgiApp]] | None = None) -> LocalSystems:
    """Start fresh systems on free ports of `host`, accepting `token`; `middleware` wraps a system's app."""
    started = LocalSystems(token)
    try:
        for kind in kinds:
            app = create_system_app(kind, {"API_TOKENS": [token], "LOST_RESPONSE_MODE": "drop", **(config or {})})
            wsgi: WsgiApp = app
            if middleware and kind in middleware:
                wsgi = middleware[kind](app)
            server = make_server(host, 0, wsgi, threaded=True, request_handler=_QuietHandler)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"local-{kind}", daemon=True)
            thread.start()
            started.systems[kind] = LocalSystem(kind, app, server, thread)
    except BaseException:
        started.stop()
        raise
    return started
