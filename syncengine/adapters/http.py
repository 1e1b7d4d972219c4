"""The HTTP client port every flow uses: one `SystemClient` per system instance.

In simulated mode the client reaches the system's WSGI app in-process (`syncengine.adapters.wsgi`, or
any httpx transport given); in live mode it uses real sockets (`syncengine.adapters.sockets`: kept-alive
connections, answers read by httptools; httpx for a system behind a proxy). Either way a call returns an `ApiResult`
when it succeeds and raises one of the failures of `syncengine.adapters.outcomes` otherwise, so a
handler never checks statuses:

    result = ports.client("erp").post("/billable-transactions", body, idempotency_key=key)
    transaction_id = result.body["id"]
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson

from syncengine.adapters.outcomes import (
    LATENCY_HEADER,
    LOST_RESPONSE_HEADER,
    REPLAYED_HEADER,
    Call,
    Outcome,
    classify,
    failure,
    parse_retry_after,
    problem_slug,
)
from syncengine.adapters.request_json import request_json
from syncengine.adapters.sockets import SocketHttp, socket_http
from syncengine.adapters.tracing import outbound_traceparent
from syncengine.adapters.wsgi import WsgiHttp, WsgiResponse
from syncengine.ports import Clock

CallObserver = Callable[[Call], None]
"""Told of every call a client makes (metrics, virtual latency)."""


class WsgiApp(Protocol):
    """A WSGI application (a Flask app in simulated mode)."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class ApiResult:
    """A successful answer: status, parsed JSON body, headers, simulated latency."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(compare=False)
    latency_ms: int = 0

    @property
    def etag(self) -> str | None:
        """Return the ETag to send back as If-Match."""
        return self.headers.get("etag")

    @property
    def replayed(self) -> bool:
        """Tell whether the target replayed an earlier answer to the same Idempotency-Key."""
        return self.headers.get(REPLAYED_HEADER.lower()) == "true"


@dataclass(frozen=True, slots=True)
class Credentials:
    """OAuth 2.0 client credentials, exchanged at `POST /oauth/token` for a bearer token."""

    client_id: str
    client_secret: str


class SystemClient:
    """Calls one system's API with its token, classifying every answer."""

    def __init__(self, name: str, base_url: str, clock: Clock, *, token: str | None = None,
                 credentials: Credentials | None = None, app: WsgiApp | None = None,
                 transport: httpx.BaseTransport | None = None, timeout_s: float = 30.0,
                 observer: CallObserver | None = None) -> None:
        if token is None and credentials is None:
            raise ValueError(f"{name}: give a bearer token or client credentials")
        self.name = name
        self.clock = clock
        self.token = token
        self.credentials = credentials
        self.timeout_s = timeout_s
        self.observer = observer
        self.calls: Counter[str] = Counter()
        self._encoded: tuple[Any, bytes] | None = None
        """The body `encode` last encoded, and its encoding."""
        self._http: httpx.Client | WsgiHttp | SocketHttp
        sockets = socket_http(base_url, timeout_s) if transport is None and app is None else None
        if transport is None and app is not None:
            self._http = WsgiHttp(app, base_url)
        elif sockets is not None:
            self._http = sockets
        else:
            self._http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout_s)

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def encode(self, body: Any) -> bytes:
        """Return a body as this client sends it (compact JSON, keys sorted), for a caller that hashes it.

        The encoding is kept for the next call that sends this very body object (not an equal one), so
        a body hashed for its Idempotency-Key is not encoded twice; the caller must not change it between.
        """
        content = request_json(body)
        self._encoded = (body, content)
        return content

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, traceparent: str | None = None) -> ApiResult:
        """Read a resource."""
        return self._call("GET", path, params=params, traceparent=traceparent)

    def post(self, path: str, body: Any = None, *, idempotency_key: str, if_match: str | None = None,
             traceparent: str | None = None) -> ApiResult:
        """Create or transition; the Idempotency-Key makes a retry after a lost response safe."""
        if not idempotency_key:
            raise ValueError("every POST carries an Idempotency-Key (see syncengine.ledger.idempotency_key)")
        return self._call("POST", path, body=body, idempotency_key=idempotency_key, if_match=if_match,
                          traceparent=traceparent)

    def put(self, path: str, body: Any, *, if_match: str | None = None, traceparent: str | None = None) -> ApiResult:
        """Replace a resource."""
        return self._call("PUT", path, body=body, if_match=if_match, traceparent=traceparent)

    def patch(self, path: str, body: Any, *, if_match: str | None = None,
              traceparent: str | None = None) -> ApiResult:
        """Change some fields of a resource."""
        return self._call("PATCH", path, body=body, if_match=if_match, traceparent=traceparent)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every item of a cursor-paginated list (`{items, next_cursor}`)."""
        query = dict(params or {})
        while True:
            page = self.get(path, query).body
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    def refresh_token(self) -> str:
        """Get a new bearer token with the client credentials."""
        if self.credentials is None:
            raise failure(Call(self.name, "POST", "/oauth/token", 401, Outcome.PERMANENT, reason="no-credentials"))
        body = {"grant_type": "client_credentials", "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret}
        result = self._send("POST", "/oauth/token", body=body, authorize=False)
        token = result.body.get("access_token") if isinstance(result.body, dict) else None
        if not isinstance(token, str) or not token:
            raise failure(Call(self.name, "POST", "/oauth/token", result.status, Outcome.PERMANENT,
                               reason="malformed-token-response"))
        self.token = token
        return token

    def _call(self, method: str, path: str, **options: Any) -> ApiResult:
        if self.token is None:
            self.refresh_token()
        try:
            return self._send(method, path, **options)
        except Exception as error:
            call: Call | None = getattr(error, "call", None)
            if call is None or call.status != 401 or problem_slug(call.problem) != "token-expired":
                raise
            if self.credentials is None:
                raise
        self.refresh_token()
        return self._send(method, path, **options)

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
              idempotency_key: str | None = None, if_match: str | None = None, traceparent: str | None = None,
              authorize: bool = True) -> ApiResult:
        headers = {"Accept": "application/json"}
        if authorize:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if if_match:
            headers["If-Match"] = if_match
        traceparent = traceparent or outbound_traceparent()
        if traceparent:
            headers["traceparent"] = traceparent
        encoded = self._encoded
        if body is None:
            content = None
        elif encoded is not None and encoded[0] is body:
            content = encoded[1]
        else:
            content = request_json(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TimeoutException:
            return self._fail(Call(self.name, method, path, None, Outcome.TRANSIENT, int(self.timeout_s * 1000),
                                   "timeout", elapsed_s=time.perf_counter() - started))
        except httpx.TransportError as error:
            return self._fail(Call(self.name, method, path, None, Outcome.TRANSIENT, 0, "connection-error",
                                   problem={"detail": f"{type(error).__name__}: {error}"},
                                   elapsed_s=time.perf_counter() - started))
        elapsed_s = time.perf_counter() - started
        answer_headers = response.headers
        latency_ms = _latency_ms(answer_headers.get(LATENCY_HEADER))
        lost = answer_headers.get(LOST_RESPONSE_HEADER)
        if lost is not None and lost.lower() == "true":
            # The write may have committed, but a real caller would only see its timeout expire.
            return self._fail(Call(self.name, method, path, None, Outcome.TRANSIENT,
                                   max(latency_ms, int(self.timeout_s * 1000)), "lost-response", elapsed_s=elapsed_s))
        parsed = _parse_body(response)
        status = response.status_code
        problem = parsed if status >= 400 and isinstance(parsed, dict) else None
        outcome = Outcome.OK if 200 <= status < 300 else classify(status, problem)
        if outcome is Outcome.OK and parsed is _UNREADABLE:
            return self._fail(Call(self.name, method, path, status, Outcome.PERMANENT, latency_ms,
                                   "malformed-response", elapsed_s=elapsed_s))
        retry_header = answer_headers.get("Retry-After")
        retry_after = None if retry_header is None else parse_retry_after(retry_header, self.clock.now())
        call = Call(self.name, method, path, status, outcome, latency_ms, "", retry_after, problem, elapsed_s)
        if outcome is not Outcome.OK:
            return self._fail(call)
        self._observe(call)
        return ApiResult(status, parsed, answer_headers, latency_ms)

    def _observe(self, call: Call) -> None:
        self.calls[call.status_label] += 1
        if self.observer is not None:
            self.observer(call)

    def _fail(self, call: Call) -> ApiResult:
        self._observe(call)
        raise failure(call)


_UNREADABLE = object()


def _parse_body(response: httpx.Response | WsgiResponse) -> Any:
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        return _UNREADABLE
    try:
        return orjson.loads(response.content)  # ~2x the standard library's speed on a page of entries
    except ValueError:
        return _UNREADABLE


def _latency_ms(value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        return 0
    return int(value.strip())
