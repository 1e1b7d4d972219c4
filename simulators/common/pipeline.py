"""The request pipeline of a business request, shared by every mock: from the fault plane to the response.

Fault plane (outage 503, latency) -> bearer auth (401) -> rate limit and throttling (429) -> spec
validation of path, query, headers and body (400) -> ownership of attributes (403) ->
Idempotency-Key replay (POST) -> the handler in one store transaction -> events appended to the feed
-> the response, unless the fault plane loses it. `answer` runs it for one request, whether Flask
routed the request, the app's direct WSGI route did, or a caller in the same process handed it over
(`LocalRequest`); it returns an `Answer`, which the WSGI routes turn into a Werkzeug response and an
in-process caller reads as it is.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulators.common.api import Reply, Request
from simulators.common.errors import ApiProblem, validation_error
from simulators.common.exchange import (
    EMPTY_CONTENT_TYPE,
    Answer,
    HttpRequest,
    JsonEncoder,
    problem_answer,
    read_json,
    wire_json,
)
from simulators.common.feed import valid_traceparent
from simulators.common.idempotency import StoredResponse, fingerprint
from simulators.common.spec import Operation, Parameter

if TYPE_CHECKING:
    from simulators.common.app import SystemContext

LOST_RESPONSE_HEADER = "Firmsim-Lost-Response"
LATENCY_HEADER = "Firmsim-Latency-Ms"
def _coerce(param: Parameter, raw: Any) -> Any:
    kind = param.json_type
    if kind == "array":
        return list(raw)  # items are strings: the only kind of array parameter the specs declare
    if kind == "integer":
        if not raw.lstrip("-").isdigit() or len(raw) > 18:
            raise validation_error(param.name, f"expected an integer, got {raw!r}")
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError as error:
            raise validation_error(param.name, f"expected a number, got {raw!r}") from error
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise validation_error(param.name, f"expected true or false, got {raw!r}")
        return raw == "true"
    return raw


def _check(validator: Any, value: Any, where: str) -> None:
    if validator.is_valid(value):  # the common case: no error objects to build
        return
    errors = list(validator.iter_errors(value))
    if errors:
        detailed = [
            {"field": where + "".join(f"/{part}" for part in error.instance_path), "message": error.message}
            for error in errors[:10]
        ]
        first = detailed[0]
        raise ApiProblem(400, "validation-error", "Invalid request", f"{first['field']}: {first['message']}",
                         field=first["field"], errors=detailed)


def _parameters(
    operation: Operation, view_args: dict[str, Any], request: HttpRequest
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    path: dict[str, str] = {}
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    declared = operation.query_names
    for name in request.args:
        if name not in declared:
            expected = ", ".join(sorted(declared)) or "none"
            raise validation_error(name, f"unknown query parameter (this operation takes: {expected})")
    for param in operation.parameters:
        if param.location == "path":
            raw = view_args.get(param.name)
        elif param.location == "query":
            # an array is the parameter repeated (OpenAPI's form style, exploded)
            raw = (request.args.getlist(param.name) or None) if param.json_type == "array" \
                else request.args.get(param.name)
        elif param.location == "header":
            raw = request.headers.get(param.name)
        else:
            continue
        if raw is None:
            if param.required:
                raise validation_error(param.name, f"required {param.location} parameter is missing")
            if param.location == "query" and "default" in param.schema:
                query[param.name] = param.schema["default"]
            continue
        value = _coerce(param, raw) if param.location == "query" else raw
        if param.location == "path":
            if not param.passes(value):
                # an id that cannot exist names no record: 404, as for any unknown id
                raise ApiProblem(404, "not-found", "Not found",
                                 f"{param.name} {raw!r} is not an id this API issues", field=param.name)
            path[param.name] = value
            continue
        if param.location == "query":
            if not param.passes(value):
                _check(param.validator, value, param.name)
            query[param.name] = value
            continue
        _check(param.validator, value, param.name)
        headers[param.name] = value
    for name in ("If-Match", "traceparent"):
        if name not in headers:
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
    return path, query, headers


def _body(operation: Operation, request: HttpRequest) -> Any:
    if operation.body_validator is None:
        return None
    raw = request.get_data(cache=True)
    if not raw:
        if operation.body_required:
            raise validation_error("body", "a JSON request body is required")
        return None
    if request.mimetype != "application/json":
        raise ApiProblem(400, "unsupported-media-type", "Unsupported media type",
                         f"Send the body as application/json, not {request.mimetype or 'nothing'}",
                         field="Content-Type")
    try:
        body = read_json(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise validation_error("body", f"not valid JSON ({error})") from error
    _check(operation.body_validator, body, "body")
    if isinstance(body, dict) and not operation.sync_endpoint:
        for name, owner in operation.owned_elsewhere.items():
            if name in body:
                raise ApiProblem(403, "attribute-owned-elsewhere", "Attribute owned by another system",
                                 f"{name} is owned by {owner.upper()} and is written only through its sync endpoint",
                                 field=f"body/{name}", owner=owner)
    return body


def _json_answer(reply: Reply, encode: JsonEncoder) -> Answer:
    if reply.status == 204 or reply.body is None:
        return Answer.of(reply.status, EMPTY_CONTENT_TYPE, b"", reply.headers.items())
    return Answer.of(reply.status, "application/json", encode(reply.body), reply.headers.items())


def _lose(context: SystemContext, response: Answer, request: HttpRequest) -> Answer:
    context.faults.count_lost_response()
    if context.config["LOST_RESPONSE_MODE"] == "drop":
        connection = request.environ.get("werkzeug.socket")
        if isinstance(connection, socket.socket):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
    response.set_header(LOST_RESPONSE_HEADER, "true")
    return response


def _dispatch(context: SystemContext, operation: Operation, handler: Callable[[Request], Reply],
              view_args: dict[str, Any], request: HttpRequest, encode: JsonEncoder) -> Answer:
    now = context.clock.now()
    decision = context.faults.on_request(now, operation.operation_id)
    extra_headers: dict[str, str] = {}
    if decision.latency_s:
        extra_headers[LATENCY_HEADER] = str(int(decision.latency_s * 1000))
        if context.config["SLEEP_LATENCY"]:
            time.sleep(decision.latency_s)
    if decision.outage_retry_after is not None:
        raise ApiProblem(503, "service-unavailable", "Service unavailable",
                         f"{context.name.upper()} is down (scheduled outage)",
                         headers={"Retry-After": str(decision.outage_retry_after), **extra_headers})
    caller = "anonymous"
    if operation.operation_id != "issueToken":
        try:
            caller = context.tokens.check(request.headers.get("Authorization"), now, decision.token_expired_before)
        except ApiProblem as refusal:
            if refusal.slug == "token-expired" and decision.token_expired_before is not None:
                context.faults.count_token_expiry()
            raise
    retry_after = decision.throttle_retry_after or context.limiter.take(caller, now)
    if retry_after is not None:
        raise ApiProblem(429, "rate-limited", "Too many requests", f"Retry after {retry_after} s",
                         headers={"Retry-After": str(retry_after), **extra_headers})
    path, query, headers = _parameters(operation, view_args, request)
    body = _body(operation, request)
    key = request.headers.get("Idempotency-Key") if operation.method == "POST" else None
    request_fingerprint = fingerprint(operation.method, request.path, request.get_data(cache=True)) if key else b""
    with context.store.lock:
        if key:
            stored = context.idempotency.lookup(request.path, key, request_fingerprint)
            if stored is not None:
                return Answer.replay(stored)
        handler_request = Request(context, operation.operation_id, path, query, body, headers, now,
                                  valid_traceparent(headers.get("traceparent")))
        with context.store.transaction():
            reply = handler(handler_request)
            response = _json_answer(reply, encode)
        if reply.status < 400:
            for event_type, subject, data in handler_request.events:
                context.feed.append(event_type, subject, data, now, handler_request.traceparent)
        if key and reply.status < 500:
            context.idempotency.save(request.path, key, StoredResponse(
                request_fingerprint, response.status,
                tuple((k, v) for k, v in response.headers if k.lower() != "content-length"),
                memoryview(response.body).tobytes()))  # orjson's bytes keep their ~4 kB buffer: keep a fitted copy
    for name, value in extra_headers.items():
        response.set_header(name, value)
    if decision.lose_response:
        return _lose(context, response, request)
    return response


def answer(context: SystemContext, operation: Operation, handler: Callable[[Request], Reply],
            view_args: dict[str, Any], request: HttpRequest, logger: Any, encode: JsonEncoder = wire_json) -> Answer:
    """Answer one business request: the pipeline, then counting, metrics and response checks."""
    started = time.perf_counter()
    try:
        response = _dispatch(context, operation, handler, view_args, request, encode)
    except ApiProblem as problem:
        response = problem_answer(problem, request.path)
    except Exception as crash:  # a bug in a handler: still problem+json, still counted and checked
        logger.exception("unexpected error in %s", operation.operation_id)
        response = problem_answer(
            ApiProblem(500, "internal-error", "Internal error", f"{type(crash).__name__}: {crash}"), request.path)
    context.calls[(operation.operation_id, response.status)] += 1
    if context.metrics is not None:
        context.metrics.observe(operation.operation_id, response.status, time.perf_counter() - started)
    if context.config["VALIDATE_RESPONSES"]:
        body = json.loads(response.body) if response.body else None
        for violation in context.spec.response_errors(operation, response.status, response.mimetype, body):
            context.response_violations.append(f"{request.method} {request.path} -> {violation}")
    return response
