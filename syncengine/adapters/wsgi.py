"""A lean in-process transport for simulated mode: one WSGI call per request, no sockets, no httpx.

`httpx.Client` over `httpx.WSGITransport` spends more time building URLs, headers and cookie jars
than the Flask app spends answering; in a simulated run the engine makes millions of such calls.
This sends the same request (method, path, query, headers, body) straight to the app's WSGI callable,
or, when the app offers `call_in_process` (the simulators' apps do), hands it over already parsed and
takes back status, headers and body without a WSGI environ or a Werkzeug response in between.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

_dict_get = dict.get


class WsgiHeaders(dict[str, str]):
    """Response headers with case-insensitive reads (keys are kept lower-case)."""

    def get(self, key: str, default: Any = None) -> Any:
        """Return a header's value by any spelling of its name."""
        return _dict_get(self, key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class WsgiResponse:
    """What the client reads of an answer: status, headers, raw body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: WsgiHeaders, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content


class LocalAnswer(Protocol):
    """An answer handed back in-process: status, headers as they would be sent, body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class InProcessCall(Protocol):
    """An app's in-process entry: an answer, or None when the request must go through WSGI."""

    def __call__(self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str],
                 body: bytes) -> LocalAnswer | None: ...


def _query_value(value: Any) -> str:
    # the same spelling httpx gives query values
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def query_pairs(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Return query parameters as the (name, value) pairs a server decodes from `query_string`."""
    if not params:
        return []
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, (list, tuple)):  # a feed read's few dozen type prefixes, say: strings as they are
            pairs += [(name, item if type(item) is str else _query_value(item)) for item in value]
        else:
            pairs.append((name, value if type(value) is str else _query_value(value)))
    return pairs


def query_string(params: Mapping[str, Any] | None) -> str:
    """Encode query parameters (lists as repeated names) as httpx would."""
    return urlencode(query_pairs(params))


class WsgiHttp:
    """Send requests to a WSGI app in-process, the way `httpx.Client(transport=WSGITransport(app))` would."""

    def __init__(self, app: Callable[..., Any], base_url: str) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.host = parts.hostname or "localhost"
        self.port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.scheme = parts.scheme or "http"
        self.script_name = parts.path.rstrip("/")
        self.in_process: InProcessCall | None = None if self.script_name else getattr(app, "call_in_process", None)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, headers: Mapping[str, str] | None = None) -> WsgiResponse:
        """Call the app once and return its answer."""
        body = content or b""
        if self.in_process is not None:
            local = self.in_process(method, path, query_pairs(params), headers or {}, body)
            if local is not None:
                return WsgiResponse(local.status, WsgiHeaders({name.lower(): value for name, value in local.headers}),
                                    local.body)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": self.script_name, "PATH_INFO": path,
            "QUERY_STRING": query_string(params), "SERVER_NAME": self.host, "SERVER_PORT": self.port,
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": self.host, "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.scheme, "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            else:
                environ[f"HTTP_{key}"] = value
        answer: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer[:] = [int(status.split(" ", 1)[0]), response_headers]

        chunks = self.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return WsgiResponse(answer[0], WsgiHeaders((name.lower(), value) for name, value in answer[1]), payload)

    def close(self) -> None:
        """Nothing to release (no connections)."""
