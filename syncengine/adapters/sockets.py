"""A lean transport for live mode: HTTP/1.1 with keep-alive on plain sockets.

`httpx.Client` runs about twelve hundred Python calls per request (URL parsing and checks, header
models, cookie jars, h11's state machine, tracing hooks): 1.5-2 ms of CPU for a feed page of 100
events on the benchmark machine; the standard library's `http.client` still ~0.3-0.45 ms, most of it
parsing the answer's headers with the `email` package. This writes the request in one `sendall` and
reads the answer with a buffered reader (status line, headers, a body by Content-Length, chunks or
to the end): ~0.1 ms. It sends the same request (method, path and query as httpx spells them,
headers, body) and reads status, headers and body; its failures are httpx's (`ConnectError`,
`ReadTimeout`, `RemoteProtocolError`, ...), so the client sorts them as before. A system behind a
proxy (the `*_proxy` environment variables, which httpx follows) is reached through httpx instead
(`socket_http`).
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import httpx

from syncengine.adapters.wsgi import WsgiHeaders, WsgiResponse, query_pairs

IDLE_KEPT = 32
"""The most idle connections kept open per system (one per engine thread that calls it is plenty)."""
MAX_LINE = 65536
MAX_HEADERS = 100
"""The longest status or header line, and the most header lines, an answer may have (as http.client)."""
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


class _Connection:
    """One kept-alive connection: its socket and a buffered reader of it."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: IO[bytes] = sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


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
        self._idle: deque[_Connection] = deque()

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, headers: Mapping[str, str] | None = None) -> WsgiResponse:
        """Send one request and return its answer; raise an httpx transport error when it fails."""
        head = self._head(method, path, params, content, headers or {})
        connection = self._connection()
        try:
            connection.sock.sendall(head + content if content else head)
        except OSError as error:
            connection.close()
            raise (httpx.WriteTimeout if isinstance(error, TimeoutError) else httpx.WriteError)(str(error)) from error
        try:
            status, answer_headers, body, ends = _answer(connection.reader, method)
        except TimeoutError as error:
            connection.close()
            raise httpx.ReadTimeout(str(error)) from error
        except httpx.TransportError:
            connection.close()
            raise
        except OSError as error:
            connection.close()
            raise httpx.ReadError(str(error)) from error
        if ends or len(self._idle) >= IDLE_KEPT:
            connection.close()
        else:
            self._idle.append(connection)
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

    def _connection(self) -> _Connection:
        """Take an idle connection the server has not closed meanwhile, or open a new one."""
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                break
            if not _readable(connection.sock):
                return connection
            connection.close()  # closed by the server (idle too long), or it sent something unasked for
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
        return _Connection(sock)


def _answer(reader: IO[bytes], method: str) -> tuple[int, WsgiHeaders, bytes, bool]:
    """Read one answer: status, headers, body, and whether the connection ends with it."""
    while True:
        line = reader.readline(MAX_LINE + 1)
        if not line:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        version, _, rest = line.decode("latin-1").partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit() or len(line) > MAX_LINE:
            raise httpx.RemoteProtocolError(f"malformed status line {line[:80]!r}")
        status = int(code)
        headers = _headers(reader)
        if not 100 <= status < 200 or status == 101:
            break  # an interim answer (100 Continue) is followed by the real one
    connection = headers.get("connection", "").lower()
    ends = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    if method == "HEAD" or status in (101, 204, 304):
        return status, headers, b"", ends
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _chunked(reader)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise httpx.RemoteProtocolError(f"malformed Content-Length {headers['content-length']!r}") from None
        body = reader.read(length)
        if len(body) != length:
            raise httpx.RemoteProtocolError(f"the body ended after {len(body)} of {length} bytes")
    else:
        body, ends = reader.read(), True  # delimited by the end of the connection
    coding = headers.get("content-encoding", "").lower()
    if coding in _DECODERS and body:
        try:
            body = zlib.decompress(body, _DECODERS[coding])
        except zlib.error as error:
            raise httpx.DecodingError(str(error)) from error
    return status, headers, body, ends


def _headers(reader: IO[bytes]) -> WsgiHeaders:
    """Read header lines up to the blank one; keys lower-case, a repeated header's values joined by ", "."""
    headers = WsgiHeaders()
    last = ""
    for _ in range(MAX_HEADERS + 1):
        line = reader.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line or len(line) > MAX_LINE:
            raise httpx.RemoteProtocolError("the answer's headers ended early or run too long")
        text = line.decode("latin-1")
        if text[0] in " \t" and last:  # an obsolete folded continuation of the header before
            headers[last] = f"{headers[last]} {text.strip()}"
            continue
        name, colon, value = text.partition(":")
        if not colon:
            raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
        last, value = name.strip().lower(), value.strip()
        headers[last] = f"{headers[last]}, {value}" if last in headers else value
    raise httpx.RemoteProtocolError(f"more than {MAX_HEADERS} header lines")


def _chunked(reader: IO[bytes]) -> bytes:
    """Read a chunked body (and its trailers, which are dropped)."""
    chunks = []
    while True:
        line = reader.readline(MAX_LINE + 1)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise httpx.RemoteProtocolError(f"malformed chunk size {line[:80]!r}") from None
        if size == 0:
            break
        chunk = reader.read(size)
        if len(chunk) != size or reader.readline(MAX_LINE + 1) not in (b"\r\n", b"\n"):
            raise httpx.RemoteProtocolError("a chunk of the body ended early")
        chunks.append(chunk)
    _headers(reader)  # trailers
    return b"".join(chunks)


def _readable(sock: socket.socket) -> bool:
    """Tell whether an idle connection's socket has something to read: end of stream or a stray answer."""
    try:
        poller = select.poll()  # not select.select: it refuses descriptors above 1023
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # closed meanwhile
        return True
