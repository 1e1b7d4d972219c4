"""A lean transport for live mode: HTTP/1.1 with keep-alive over the standard library's `http.client`.

`httpx.Client` runs about twelve hundred Python calls per request (URL parsing and checks, header
models, cookie jars, h11's state machine, tracing hooks): 1.5-2 ms of CPU for a feed page of 100
events on the benchmark machine, against about 0.3 ms here, and the engine's own CPU per event is
what has to stay small next to the systems'. This sends the same request (method, path, query as
httpx spells it, headers, body) and reads status, headers and body; its failures are httpx's
(`ConnectError`, `ReadTimeout`, ...), so the client sorts them as before. A system behind a proxy
(the `*_proxy` environment variables, which httpx follows) is reached through httpx instead
(`socket_http`).
"""

from __future__ import annotations

import http.client
import select
import ssl
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import httpx

from syncengine.adapters.wsgi import WsgiHeaders, WsgiResponse, query_pairs

IDLE_KEPT = 32
"""The most idle connections kept open per system (one per engine thread that calls it is plenty)."""


def socket_http(base_url: str, timeout_s: float) -> SocketHttp | None:
    """Return the transport for a system at `base_url`, or None to leave it to httpx: a URL that is not
    http(s)://host[:port][/prefix] (httpx reports it), or one the environment sends through a proxy."""
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None
    proxies = getproxies()
    if (parts.scheme in proxies or "all" in proxies) and not proxy_bypass(parts.hostname):
        return None
    return SocketHttp(base_url, timeout_s)


class SocketHttp:
    """Send requests to one base URL over kept-alive connections, one request per connection at a time.

    Safe for many threads: a request takes an idle connection (or opens one) and gives it back once its
    answer is read whole, unless the server said it would close it."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// base URL, got {base_url!r}")
        self.host: str = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.timeout_s = timeout_s
        self.prefix = parts.path.rstrip("/")
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._idle: deque[http.client.HTTPConnection] = deque()

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, headers: Mapping[str, str] | None = None) -> WsgiResponse:
        """Send one request and return its answer; raise an httpx transport error when it fails."""
        target = self.prefix + path
        if params:
            target += "?" + urlencode(query_pairs(params))
        connection = self._connection()
        try:
            connection.request(method, target, body=content, headers=dict(headers or {}))
        except OSError as error:  # not connected (sock None): the connection failed, else sending the request
            unconnected = connection.sock is None
            connection.close()
            if isinstance(error, TimeoutError):
                raise (httpx.ConnectTimeout if unconnected else httpx.WriteTimeout)(str(error)) from error
            raise (httpx.ConnectError if unconnected else httpx.WriteError)(str(error)) from error
        try:
            response = connection.getresponse()
            body = response.read()
        except TimeoutError as error:
            connection.close()
            raise httpx.ReadTimeout(str(error)) from error
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise httpx.RemoteProtocolError(f"{type(error).__name__}: {error}") from error
        answer = WsgiResponse(response.status, _headers(response.getheaders()), body)
        if response.will_close:
            connection.close()
        elif len(self._idle) < IDLE_KEPT:
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            self._idle.pop().close()

    def _connection(self) -> http.client.HTTPConnection:
        """Take an idle connection the server has not closed meanwhile, or a new one (connected on first use)."""
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                break
            if connection.sock is not None and not _readable(connection.sock):
                return connection
            connection.close()  # closed by the server (idle too long), or it sent something unasked for
        if self._tls is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s, context=self._tls)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)


def _readable(sock: Any) -> bool:
    """Tell whether an idle connection's socket has something to read: end of stream or a stray answer."""
    try:
        poller = select.poll()  # not select.select: it refuses descriptors above 1023
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # closed meanwhile
        return True


def _headers(pairs: list[tuple[str, str]]) -> WsgiHeaders:
    """Return an answer's headers for case-insensitive reads; a repeated header's values joined as httpx joins them."""
    headers = WsgiHeaders()
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
