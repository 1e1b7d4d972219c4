"""A lean transport for live mode: HTTP/1.1 with keep-alive on plain sockets.

`httpx.Client` runs about twelve hundred Python calls per request (URL parsing and checks, header
models, cookie jars, h11's state machine, tracing hooks): 1.5-2 ms of CPU for a feed page of 100
events on the benchmark machine; the standard library's `http.client` still ~0.3-0.45 ms, most of it
parsing the answer's headers with the `email` package. This writes the request in one `sendall` and
hands the socket's bytes to `httptools` (llhttp, the parser uvicorn uses), which frames the answer
(status, headers, a body by Content-Length, chunks or to the end of the connection, keep-alive). It
sends the same request (method, path and query as httpx spells them, headers, body) and reads
status, headers and body; its failures are httpx's (`ConnectError`, `ReadTimeout`,
`RemoteProtocolError`, ...), so the client sorts them as before. A system behind a proxy (the
`*_proxy` environment variables, which httpx follows) is reached through httpx instead (`socket_http`).
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import httptools
import httpx

from syncengine.adapters.wsgi import WsgiHeaders, WsgiResponse, query_pairs

IDLE_KEPT = 32
"""The most idle connections kept open per system (one per engine thread that calls it is plenty)."""
MAX_HEAD = 65536
MAX_HEADERS = 100
"""An answer whose headers have not ended after this many bytes (checked after each read of the socket),
or that has more header lines than this, is refused."""
RECEIVE_BYTES = 65536
"""The most bytes one read of a socket asks for."""
_UNSAFE_IN_PATH = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/%\[\]]")
"""A character a request path may not carry as it is (httpx percent-encodes it)."""
_PATH_SAFE = "!$&'()*+,;=:@/[]%~"
_BREAKS = re.compile(r"[\r\n\0]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


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
    answer is read whole, unless the answer ends the connection."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// base URL, got {base_url!r}")
        self.host: str = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.timeout_s = timeout_s
        self.prefix = parts.path.rstrip("/")
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        name = f"[{self.host}]" if ":" in self.host else self.host
        self._host_header = name if parts.port in (None, 443 if self._tls else 80) else f"{name}:{self.port}"
        self._idle: deque[socket.socket] = deque()

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, headers: Mapping[str, str] | None = None) -> WsgiResponse:
        """Send one request and return its answer; raise an httpx transport error when it fails."""
        head = self._head(method, path, params, content, headers or {})
        sock = self._connection()
        try:
            sock.sendall(head + content if content else head)
        except OSError as error:
            sock.close()
            raise (httpx.WriteTimeout if isinstance(error, TimeoutError) else httpx.WriteError)(str(error)) from error
        try:
            status, answer_headers, body, ends = _answer(sock, method)
        except TimeoutError as error:
            sock.close()
            raise httpx.ReadTimeout(str(error)) from error
        except httpx.TransportError:
            sock.close()
            raise
        except OSError as error:
            sock.close()
            raise httpx.ReadError(str(error)) from error
        if ends or len(self._idle) >= IDLE_KEPT:
            sock.close()
        else:
            self._idle.append(sock)
        return WsgiResponse(status, answer_headers, body)

    def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            self._idle.pop().close()

    def _head(self, method: str, path: str, params: Mapping[str, Any] | None, content: bytes | None,
              headers: Mapping[str, str]) -> bytes:
        """Return the request line and headers, as bytes ready to send."""
        target = self.prefix + path
        if _UNSAFE_IN_PATH.search(target):
            target = quote(target, safe=_PATH_SAFE)
        if params:
            target += "?" + urlencode(query_pairs(params))
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if content or method in _BODY_METHODS:
            lines.append(f"Content-Length: {len(content or b'')}")
        if _BREAKS.search("".join(lines)):  # a line break in a value would start a header of its own
            raise httpx.LocalProtocolError(f"a header or the target of {method} {path} holds a line break")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _connection(self) -> socket.socket:
        """Take an idle connection the server has not closed meanwhile, or open a new one."""
        while True:
            try:
                sock = self._idle.pop()
            except IndexError:
                break
            if not _readable(sock):
                return sock
            sock.close()  # closed by the server (idle too long), or it sent something unasked for
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as error:
            raise (httpx.ConnectTimeout if isinstance(error, TimeoutError) else httpx.ConnectError)(
                str(error)) from error
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            except OSError as error:
                sock.close()
                raise httpx.ConnectError(str(error)) from error
        return sock


def _answer(sock: socket.socket, method: str) -> tuple[int, WsgiHeaders, bytes, bool]:
    """Read one answer: status, headers, body, and whether the connection ends with it."""
    answer = _Answer(head_only=method == "HEAD")
    parser = answer.parser
    try:
        received = 0
        while answer.read is None:
            data = sock.recv(RECEIVE_BYTES)
            if not data:
                answer.end_of_stream(received)  # keeps the answer the end delimits, or raises
                continue
            received += len(data)
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade:  # 101 Switching Protocols: what follows is not HTTP
                answer.ends = True
            except httptools.HttpParserError as error:
                if answer.read is None:
                    raise httpx.RemoteProtocolError(f"malformed answer: {error}") from error
                answer.ends = True  # what came after the answer is not one
            if answer.header_lines > MAX_HEADERS or (not answer.in_body and received > MAX_HEAD):
                raise httpx.RemoteProtocolError(f"the answer's headers run over {MAX_HEADERS} lines or "
                                                f"{MAX_HEAD} bytes")
        status, headers, body = answer.read
        ends = answer.ends
    finally:
        del answer.parser  # the parser holds the answer's callbacks: no cycle left for the collector
    coding = headers.get("content-encoding", "").lower()
    if coding in _DECODERS and body:
        try:
            body = zlib.decompress(body, _DECODERS[coding])
        except zlib.error as error:
            raise httpx.DecodingError(str(error)) from error
    return status, headers, body, ends


class _Answer:
    """One answer as httptools reads it: its callbacks gather the status, headers and body."""

    __slots__ = ("ends", "head_only", "header_lines", "headers", "in_body", "parser", "parts", "read")

    def __init__(self, head_only: bool) -> None:
        self.head_only = head_only
        """The answer to a HEAD request: no body follows its headers, whatever they say."""
        self.parser = httptools.HttpResponseParser(self)
        self.headers = WsgiHeaders()
        self.parts: list[bytes] = []
        self.header_lines = 0
        self.in_body = False
        self.read: tuple[int, WsgiHeaders, bytes] | None = None
        """The final answer once read whole (an interim 1xx answer is passed over)."""
        self.ends = False
        """The connection ends with the answer: it closed, switched protocols or sent more unasked for."""

    def on_message_begin(self) -> None:
        """Start an answer afresh (after an interim one)."""
        if self.read is not None:
            self.ends = True  # bytes unasked for after the answer
        self.headers = WsgiHeaders()
        self.parts = []

    def on_header(self, name: bytes, value: bytes) -> None:
        """Keep a header under its lower-case name, a repeated one's values joined by ", "; drop trailers."""
        if self.in_body:
            return  # a chunked body's trailer
        self.header_lines += 1
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers = self.headers
        headers[key] = f"{headers[key]}, {text}" if key in headers else text

    def on_headers_complete(self) -> None:
        """Note the body begins; the answer to a HEAD request ends with its headers."""
        self.in_body = True
        if self.head_only:
            self._keep()

    def on_body(self, body: bytes) -> None:
        """Keep a part of the body (de-chunked by the parser)."""
        self.parts.append(body)

    def on_message_complete(self) -> None:
        """Keep the answer, unless it is an interim one (100 Continue) that the real one follows."""
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.in_body = False
        else:
            self._keep()

    def end_of_stream(self, received: int) -> None:
        """Keep the answer whose body the end of the connection delimits (no Content-Length, not chunked),
        or raise: httptools has no call to tell llhttp that the stream has ended."""
        if not received:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        headers = self.headers
        if (not self.in_body or "content-length" in headers
                or "chunked" in headers.get("transfer-encoding", "").lower()):
            raise httpx.RemoteProtocolError(f"the answer ended early, after {received} bytes")
        self._keep()
        self.ends = True

    def _keep(self) -> None:
        if self.read is None:
            self.read = (self.parser.get_status_code(), self.headers, b"".join(self.parts))
            self.ends = not self.parser.should_keep_alive()  # asked now: llhttp forgets once the answer ends


def _readable(sock: socket.socket) -> bool:
    """Tell whether an idle connection's socket has something to read: end of stream or a stray answer."""
    try:
        poller = select.poll()  # not select.select: it refuses descriptors above 1023
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # closed meanwhile
        return True
