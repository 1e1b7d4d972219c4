"""The HTTP client port the actors use: in-process WSGI in simulated mode, real sockets in live mode.

Actors behave like people at a UI: a POST carries an Idempotency-Key (a form submitted twice is one
submission), an outage or a throttle makes them come back later, and a refusal is read and acted on.
"""

from __future__ import annotations

import io
import json
import random
import sys
from collections.abc import Generator
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

import httpx
import orjson

RETRY_LATER_S = 1800.0
# A person at a screen that says "come back later" reloads it a couple of times (a Retry-After, at
# least a minute, apart), then turns to other work and comes back later (Firm.call: in an hour, then
# the next working day), each time for as many tries: not every minute for most of an hour.
PERSON_TRIES = 3


class ApiResult:
    """One answer from a system.

    An answer read in-process keeps its JSON text and parses it when its body is first asked for: a
    fifth of the firm's answers (a stage advanced, an expense submitted, time off approved) are only
    checked for success.
    """

    __slots__ = ("_body", "_payload", "headers", "status")

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers: dict[str, str] = {} if headers is None else headers
        self._body = body
        self._payload: bytes | None = None

    @classmethod
    def unparsed(cls, status: int, payload: bytes, headers: dict[str, str]) -> ApiResult:
        """Return an answer whose body is the JSON document `payload` (empty: no body), read when first asked for."""
        result = cls(status, None, headers)
        result._payload = payload or None
        return result

    @property
    def body(self) -> Any:
        """Return the answer's JSON document (None when it had no body)."""
        if self._payload is not None:
            self._body = _document(self._payload)
            self._payload = None
        return self._body

    def __repr__(self) -> str:
        return f"ApiResult(status={self.status!r}, body={self.body!r}, headers={self.headers!r})"

    @property
    def ok(self) -> bool:
        """Tell whether the call succeeded (2xx)."""
        return 200 <= self.status < 300

    @property
    def problem_type(self) -> str:
        """Return the problem slug of an error answer ('' when none)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("type"), str):
            return str(self.body["type"]).rsplit("/", 1)[-1]
        return ""

    @property
    def retry_later(self) -> bool:
        """Tell whether the system asked to come back later (outage, throttle, lost answer)."""
        return self.status in (0, 429, 502, 503, 504)


class SystemPort(Protocol):
    """Call one system's business API."""

    name: str

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             idempotency_key: str | None = None, if_match: str | None = None,
             traceparent: str | None = None) -> ApiResult: ...


def new_traceparent(stream: random.Random) -> str:
    """Start a W3C trace for one business transaction, from a seeded stream (repeatable in simulated mode)."""
    trace_id = stream.getrandbits(128) or 1
    span_id = stream.getrandbits(64) or 1
    return f"00-{trace_id:032x}-{span_id:016x}-01"


def _headers(token: str, idempotency_key: str | None, if_match: str | None,
             traceparent: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if if_match:
        headers["If-Match"] = if_match
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


def _query_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the (name, value) pairs a server decodes from `urlencode(params, doseq=True)`."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if not isinstance(item, (str, int, float)) or not isinstance(name, str):
                return parse_qsl(urlencode(params, doseq=True), keep_blank_values=True)
            pairs.append((name, item if isinstance(item, str) else str(item)))
    return pairs


def _request_json(body: Any) -> bytes:
    """Write a request body: orjson, the standard library's where orjson cannot (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body).encode()


class WsgiPort:
    """Reach a Flask app in-process (no sockets).

    A request is handed over already parsed when the app offers `call_in_process` (the simulators'
    apps do), else sent as one lean WSGI environ.
    """

    def __init__(self, name: str, app: Any, token: str) -> None:
        self.name = name
        self.token = token
        self.app = app
        self.in_process = getattr(app, "call_in_process", None)
        self.calls = 0

    def _environ(self, method: str, path: str, params: dict[str, Any] | None, data: bytes,
                 idempotency_key: str | None, if_match: str | None, traceparent: str | None) -> dict[str, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
            "QUERY_STRING": urlencode(params, doseq=True) if params else "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "HTTP_HOST": "localhost", "HTTP_AUTHORIZATION": f"Bearer {self.token}",
        }
        if data:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(data))
        if idempotency_key:
            environ["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        if if_match:
            environ["HTTP_IF_MATCH"] = if_match
        if traceparent:
            environ["HTTP_TRACEPARENT"] = traceparent
        return environ

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             idempotency_key: str | None = None, if_match: str | None = None,
             traceparent: str | None = None) -> ApiResult:
        """Send one request through the WSGI app."""
        self.calls += 1
        data = _request_json(body) if body is not None else b""
        if self.in_process is not None:
            headers = _headers(self.token, idempotency_key, if_match, traceparent)
            if data:
                headers["Content-Type"] = "application/json"
            local = self.in_process(method, path, _query_pairs(params) if params else [], headers, data)
            if local is not None:
                return _result(local.status, dict(local.headers), local.body)
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = dict(headers)

        chunks = self.app(self._environ(method, path, params, data, idempotency_key, if_match, traceparent),
                          start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return _result(answer["status"], answer["headers"], payload)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _document(payload: bytes) -> Any:
    """Read a JSON answer exactly as `json.loads` does, with orjson where that is the same.

    orjson reads an integer beyond 64 bits as a float: an answer with a run of 19 digits, like one
    orjson refuses (NaN, infinity, a lone surrogate), is read by the standard library. The run is
    looked for as 19 zeros once every digit is a zero (a regular expression took 30 times as long
    on a page of records: it tries each digit as the start of a run).
    """
    if _LONG_NUMBER not in payload.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    return json.loads(payload)


def _result(status: int, headers: dict[str, str], payload: bytes) -> ApiResult:
    if headers.get("Firmsim-Lost-Response") == "true":
        return ApiResult(0, None, {})
    return ApiResult.unparsed(status, payload, headers)


class HttpPort:
    """Reach a system over real HTTP (live mode)."""

    def __init__(self, name: str, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.name = name
        self.token = token
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)
        self.calls = 0

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             idempotency_key: str | None = None, if_match: str | None = None,
             traceparent: str | None = None) -> ApiResult:
        """Send one request over the network; a transport failure reads as status 0."""
        self.calls += 1
        try:
            response = self._client.request(method, path, json=body, params=params,
                                            headers=_headers(self.token, idempotency_key, if_match, traceparent))
        except httpx.TransportError:
            return ApiResult(0, None, {})
        parsed = response.json() if response.content else None
        return ApiResult(response.status_code, parsed, dict(response.headers))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def persist(env: Any, port: SystemPort, method: str, path: str, *, tries: int = PERSON_TRIES,
            **kwargs: Any) -> Generator[Any, Any, ApiResult]:
    """Call like a person would: on an outage or throttle, try again shortly (virtual time), `tries` times at most.

    The answer may still ask to come back later: the caller decides when (Firm.call: the next working hour).
    """
    result = yield from try_again(env, port, port.call(method, path, **kwargs), method, path, tries=tries, **kwargs)
    return result


def try_again(env: Any, port: SystemPort, result: ApiResult, method: str, path: str, *,
              tries: int = PERSON_TRIES, **kwargs: Any) -> Generator[Any, Any, ApiResult]:
    """Go on from a first answer as `persist` does: while it asks to come back shortly, wait and call again."""
    attempts = 1
    while result.retry_later and attempts < tries:
        wait = RETRY_LATER_S
        retry_after = result.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            wait = max(float(retry_after), 60.0)
        yield env.timeout(wait)
        result = port.call(method, path, **kwargs)
        attempts += 1
    return result
