"""The live client's socket transport: the request httpx would send, kept-alive connections, httpx's failures."""

from __future__ import annotations

import gzip
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from simulators.common.clock import ManualClock
from syncengine.adapters.http import SystemClient
from syncengine.adapters.outcomes import TransientHttpError
from syncengine.adapters.sockets import SocketHttp, socket_http
from tests.unit.syncengine.conftest import T0


@dataclass
class Seen:
    """What the test server saw and how it is to answer."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    close_after_answer: bool = False
    """Close each connection once answered, without saying so (as a server closing an idle connection)."""
    delay_s: float = 0.0
    drop: bool = False
    """Close the connection without answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""

    def _answer(self) -> None:
        seen: Seen = self.server.seen  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        seen.requests.append({"method": self.command, "target": self.path, "headers": dict(self.headers),
                              "body": self.rfile.read(length), "peer": self.client_address})
        if seen.drop:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        time.sleep(seen.delay_s)
        body = b'{"ok":true}'
        if self.path.startswith("/framed/"):
            self._framed(self.path.removeprefix("/framed/"), body)
            return
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Part", "a")
        self.send_header("X-Part", "b")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if seen.close_after_answer:
            self.close_connection = True

    def _framed(self, framing: str, body: bytes) -> None:
        """Answer with the body sent in chunks, gzipped, or delimited by the end of the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:4], body[4:]):
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        elif framing == "gzip":
            packed = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(packed)))
            self.end_headers()
            self.wfile.write(packed)
        else:
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        self.wfile.flush()

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout test) leaves the answer nowhere to go: not worth a traceback."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture
def server() -> Iterator[tuple[str, Seen]]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = Seen()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.seen  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()


def test_a_request_arrives_as_httpx_would_send_it(server: tuple[str, Seen]) -> None:
    url, seen = server
    params = {"type": ["psa.time_entry", "erp."], "limit": 100, "flag": True, "q": "a b&c/é", "off": False}
    http = SocketHttp(url + "/erp/", timeout_s=5)
    answer = http.request("POST", "/items", params=params, content=b'{"a":1}',
                          headers={"Content-Type": "application/json", "Idempotency-Key": "k-1"})
    request = seen.requests[0]
    assert request["target"] == "/erp" + httpx.URL("/items", params=params).raw_path.decode()
    assert (request["method"], request["body"], request["headers"]["Idempotency-Key"],
            request["headers"]["Content-Type"]) == ("POST", b'{"a":1}', "k-1", "application/json")
    assert (answer.status_code, answer.content, answer.headers.get("content-type"), answer.headers["X-PART"]) == (
        201, b'{"ok":true}', "application/json", "a, b")
    http.close()


@pytest.mark.parametrize("framing", ["chunked", "gzip", "until-close"])
def test_a_body_in_chunks_gzipped_or_up_to_the_end_of_the_connection_is_read_whole(
        server: tuple[str, Seen], framing: str) -> None:
    url, seen = server
    client = SystemClient("erp", url, ManualClock(T0), token="t")
    for _ in range(2):
        assert client.get(f"/framed/{framing}").body == {"ok": True}
    assert client.get("/items").body == {"ok": True}
    peers = len({request["peer"] for request in seen.requests})
    assert peers == (3 if framing == "until-close" else 1)
    client.close()


def test_a_path_is_spelled_as_httpx_spells_it_and_a_line_break_in_a_header_is_refused(
        server: tuple[str, Seen]) -> None:
    url, seen = server
    client = SystemClient("erp", url, ManualClock(T0), token="t")
    client.get("/items/a b/é")
    assert seen.requests[0]["target"] == httpx.URL(url + "/items/a b/é").raw_path.decode()
    with pytest.raises(TransientHttpError) as raised:
        client.post("/items", {"a": 1}, idempotency_key="k\r\nX-Injected: yes")
    assert raised.value.reason == "connection-error"
    assert len(seen.requests) == 1
    client.close()


def test_calls_in_turn_share_one_kept_alive_connection(server: tuple[str, Seen]) -> None:
    url, seen = server
    client = SystemClient("erp", url, ManualClock(T0), token="t")
    for _ in range(5):
        assert client.get("/items").body == {"ok": True}
    assert len({request["peer"] for request in seen.requests}) == 1
    client.close()


def test_threads_calling_at_once_each_get_a_connection_and_all_answers(server: tuple[str, Seen]) -> None:
    url, seen = server
    seen.delay_s = 0.01
    client = SystemClient("erp", url, ManualClock(T0), token="t")
    answers: list[Any] = []

    def caller() -> None:
        answers.extend(client.get("/items", {"n": n}).body for n in range(10))

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [{"ok": True}] * 60
    assert len({request["peer"] for request in seen.requests}) <= 6
    client.close()


def test_a_connection_the_server_closed_while_idle_is_not_used_again(server: tuple[str, Seen]) -> None:
    url, seen = server
    seen.close_after_answer = True
    client = SystemClient("erp", url, ManualClock(T0), token="t")
    assert client.get("/items").status == 200
    time.sleep(0.1)  # the server's close has arrived
    assert client.get("/items").status == 200
    assert len({request["peer"] for request in seen.requests}) == 2
    assert client.calls == {"200": 2}
    client.close()


def test_a_dropped_connection_is_a_connection_error(server: tuple[str, Seen]) -> None:
    url, seen = server
    seen.drop = True
    client = SystemClient("erp", url, ManualClock(T0), token="t")
    with pytest.raises(TransientHttpError) as raised:
        client.post("/items", {"a": 1}, idempotency_key="k")
    assert (raised.value.reason, raised.value.status) == ("connection-error", None)
    seen.drop = False
    assert client.post("/items", {"a": 1}, idempotency_key="k").status == 201  # a new connection
    client.close()


def test_a_system_that_is_not_listening_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SystemClient("erp", f"http://127.0.0.1:{port}", ManualClock(T0), token="t")
    with pytest.raises(TransientHttpError) as raised:
        client.get("/events")
    assert (raised.value.reason, raised.value.status) == ("connection-error", None)
    assert "ConnectError" in raised.value.detail


def test_an_answer_slower_than_the_timeout_is_a_timeout(server: tuple[str, Seen]) -> None:
    url, seen = server
    seen.delay_s = 0.5
    client = SystemClient("erp", url, ManualClock(T0), token="t", timeout_s=0.1)
    with pytest.raises(TransientHttpError) as raised:
        client.get("/events")
    assert (raised.value.reason, raised.value.status) == ("timeout", None)
    client.close()


def test_a_proxied_or_unusual_url_is_left_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert isinstance(socket_http("http://127.0.0.1:8080/erp", 5), SocketHttp)
    assert socket_http("ftp://erp", 5) is None
    assert socket_http("http://erp:port", 5) is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy:3128")
    assert socket_http("http://erp.example:8080", 5) is None
    monkeypatch.setenv("NO_PROXY", "erp.example")
    assert isinstance(socket_http("http://erp.example:8080", 5), SocketHttp)


@dataclass
class Scripted:
    """A server that answers each request, in turn, with the bytes it is given, and ends a connection once
    it has no more answers."""

    answers: list[bytes]
    url: str = ""
    connections: int = 0


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    listener = socket.create_server(("127.0.0.1", 0))
    script = Scripted(answers=[], url=f"http://127.0.0.1:{listener.getsockname()[1]}")

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            script.connections += 1
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    def answer(connection: socket.socket) -> None:
        received = b""
        with connection:
            try:
                while script.answers:
                    while b"\r\n\r\n" not in received:
                        chunk = connection.recv(65536)
                        if not chunk:
                            return
                        received += chunk
                    received = received.split(b"\r\n\r\n", 1)[1]  # the requests here carry no body
                    connection.sendall(script.answers.pop(0))
                connection.shutdown(socket.SHUT_WR)  # no answers left: the server ends the connection
                connection.recv(1)  # until the client closes its end
            except OSError:
                return  # the client closed the connection first

    threading.Thread(target=serve, daemon=True).start()
    yield script
    listener.close()


def _ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def test_bytes_sent_after_an_answer_unasked_for_are_not_taken_as_the_next_answer(scripted: Scripted) -> None:
    scripted.answers = [_ok(b'{"n":1}') + _ok(b'{"stray":true}'), _ok(b'{"n":2}')]
    client = SystemClient("erp", scripted.url, ManualClock(T0), token="t")
    assert client.get("/items").body == {"n": 1}
    assert client.get("/items").body == {"n": 2}
    assert scripted.connections == 2  # the connection that carried more than its answer is not used again
    client.close()


def test_an_interim_answer_is_passed_over_and_its_connection_kept(scripted: Scripted) -> None:
    scripted.answers = [b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b'{"n":1}'), _ok(b'{"n":2}')]
    client = SystemClient("erp", scripted.url, ManualClock(T0), token="t")
    assert [client.get("/items").body for _ in range(2)] == [{"n": 1}, {"n": 2}]
    assert scripted.connections == 1
    client.close()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Len",
    b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"Content-Length: 2\r\n\r\n{}",
    b"",
], ids=["status", "two-lengths", "short-body", "unfinished-chunks", "bad-chunk-size", "cut-headers",
        "too-many-headers", "nothing"])
def test_a_malformed_or_unfinished_answer_is_a_connection_error(scripted: Scripted, answer: bytes) -> None:
    scripted.answers = [answer]
    client = SystemClient("erp", scripted.url, ManualClock(T0), token="t")
    with pytest.raises(TransientHttpError) as raised:
        client.get("/items")
    assert (raised.value.reason, raised.value.status) == ("connection-error", None)
    assert "RemoteProtocolError" in raised.value.detail
    client.close()
