"""A request handed over in-process (`SystemApp.call_in_process`) is answered as over WSGI.

Same status, headers and JSON document; the bytes are the same too unless the body holds non-ASCII
text, which the in-process answer writes as UTF-8 rather than escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.urls import iri_to_uri

from simulators.common.app import DEFAULT_TOKEN, context_of
from simulators.common.clock import ManualClock
from simulators.common.exchange import Answer, local_json, read_json, wire_json
from syncengine.adapters.wsgi import LocalAnswer, WsgiHttp
from tests.unit.common import toy

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}

Sent = tuple[str, str, dict[str, Any] | None, dict[str, str], bytes]


def _body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _requests(first_id: str) -> list[Sent]:
    widget = f"/widgets/{first_id}"
    return [
        ("POST", "/widgets", None, {**JSON, "Idempotency-Key": "k-1"}, _body({"name": "sprocket"})),
        ("POST", "/widgets", None, {**JSON, "Idempotency-Key": "k-1"}, _body({"name": "sprocket"})),  # replay
        ("POST", "/widgets", None, {**JSON, "Idempotency-Key": "k-1"}, _body({"name": "cog"})),  # key reused
        ("POST", "/widgets", None, JSON, _body({"name": "gr\u00fcn \u2603"})),
        ("POST", "/widgets", None, JSON, b"{not json"),
        ("POST", "/widgets", None, {**AUTH, "Content-Type": "text/plain"}, _body({"name": "x"})),
        ("POST", "/widgets", None, JSON, _body({"name": "sprocket", "size": 11})),
        ("POST", "/widgets", None, JSON, _body({"name": "sprocket", "erp_number": "C-1"})),
        ("GET", widget, None, AUTH, b""),
        ("GET", widget, None, {}, b""),
        ("GET", widget, None, {"authorization": f"Bearer {DEFAULT_TOKEN}"}, b""),
        ("GET", "/widgets/not-an-id", None, AUTH, b""),
        ("GET", "/widgets/WID-000099", None, AUTH, b""),
        ("GET", "/widgets", {"limit": 1}, AUTH, b""),
        ("GET", "/widgets", {"limit": 1, "cursor": first_id}, AUTH, b""),
        ("GET", "/widgets", {"limit": "many"}, AUTH, b""),
        ("GET", "/widgets", {"colour": "red", "limit": [2, 1]}, AUTH, b""),
        ("POST", f"{widget}/polish", None, {**AUTH, "If-Match": '"7"', "Idempotency-Key": "p-1"}, b""),
        ("POST", f"{widget}/polish", None, {**AUTH, "If-Match": '"1"', "Idempotency-Key": "p-2",
                                            "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}, b""),
        ("POST", f"{widget}/polish", None, {**AUTH, "Idempotency-Key": "p-3"}, b""),
        ("GET", "/events", {"after": 0}, AUTH, b""),
        ("GET", "/events", {"type": ["toy.widget.polished", "toy.nothing."], "limit": 1}, AUTH, b""),
        ("GET", "/events", {"type": ["toy.widget.", "Toy!"]}, AUTH, b""),  # one bad prefix: 400
        ("GET", "/events", {"type": [f"toy.{number}." for number in range(51)]}, AUTH, b""),  # too many: 400
    ]


def _answers(call: Callable[[Sent], tuple[int, list[tuple[str, str]], bytes]]) -> list[Any]:
    first = call(("POST", "/widgets", None, JSON, _body({"name": "first"})))
    first_id = json.loads(first[2]).get("id", "WID-000001")  # an outage creates nothing
    return [first, *(call(sent) for sent in _requests(first_id))]


def _over_wsgi(app: Any) -> Callable[[Sent], tuple[int, list[tuple[str, str]], bytes]]:
    http = WsgiHttp(app, "http://toy")
    http.in_process = None  # every request through the app's WSGI callable

    def call(sent: Sent) -> tuple[int, list[tuple[str, str]], bytes]:
        method, path, params, headers, body = sent
        response = http.request(method, path, params=params, content=body, headers=headers)
        return response.status_code, list(response.headers.items()), response.content

    return call


def _in_process(app: Any) -> Callable[[Sent], tuple[int, list[tuple[str, str]], bytes]]:
    http = WsgiHttp(app, "http://toy")
    handed_over = http.in_process
    assert handed_over is not None

    def every_request_in_process(method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str],
                                 body: bytes) -> LocalAnswer:
        answer = handed_over(method, path, query, headers, body)
        assert answer is not None, f"{method} {path} was not answered in-process"
        return answer

    http.in_process = every_request_in_process

    def call(sent: Sent) -> tuple[int, list[tuple[str, str]], bytes]:
        method, path, params, headers, body = sent
        response = http.request(method, path, params=params, content=body, headers=headers)
        return response.status_code, list(response.headers.items()), response.content

    return call


def _read(answer: tuple[int, list[tuple[str, str]], bytes]) -> tuple[Any, ...]:
    """Return what a client reads of an answer (in-process, non-ASCII text is sent as UTF-8, not escaped)."""
    status, headers, body = answer
    return status, [header for header in headers if header[0] != "content-length"], json.loads(body or b"null")


def _fresh(**config: Any) -> Any:
    return toy.create_app({"CLOCK": ManualClock(START), "SEED": 7, **config})


@pytest.mark.parametrize("faults", [
    [],
    [{"kind": "latency", "params": {"distribution": "uniform", "min_ms": 10, "max_ms": 900}},
     {"kind": "lost_response", "params": {"probability": 0.4}},
     {"kind": "throttle", "params": {"probability": 0.3}}],
    [{"kind": "outage", "params": {"retry_after": 30}}],
], ids=["no-faults", "latency-lost-throttle", "outage"])
def test_in_process_answers_match_wsgi_answers_status_headers_body_and_state(faults: list[dict[str, Any]]) -> None:
    over_wsgi, in_process = _fresh(), _fresh()
    for app in (over_wsgi, in_process):
        for fault in faults:
            assert app.test_client().post("/admin/faults", json=fault).status_code == 201

    expected = _answers(_over_wsgi(over_wsgi))
    actual = _answers(_in_process(in_process))

    assert [answer[0] for answer in actual] == [answer[0] for answer in expected]
    assert [_read(answer) for answer in actual] == [_read(answer) for answer in expected]
    ascii_bodies = [index for index, answer in enumerate(expected) if b"\\u" not in answer[2]]
    assert [actual[index] for index in ascii_bodies] == [expected[index] for index in ascii_bodies]
    wsgi_context, local_context = context_of(over_wsgi), context_of(in_process)
    assert local_context.store.export() == wsgi_context.store.export()
    assert local_context.feed.all() == wsgi_context.feed.all()
    assert local_context.calls == wsgi_context.calls
    assert local_context.faults.injected == wsgi_context.faults.injected
    assert local_context.response_violations == wsgi_context.response_violations == []


def test_in_process_call_leaves_to_wsgi_what_only_flask_routes() -> None:
    app = _fresh()

    assert app.call_in_process("DELETE", "/widgets", [], AUTH, b"") is None
    assert app.call_in_process("GET", "/admin/state", [], AUTH, b"") is None
    assert app.call_in_process("GET", "/widgets//polish", [], AUTH, b"") is None
    assert WsgiHttp(app, "http://toy").request("DELETE", "/widgets", headers=AUTH).status_code == 405


def test_wrapped_app_is_reached_through_its_wsgi_wrapper() -> None:
    app = _fresh()
    seen: list[str] = []
    inner = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = middleware

    assert app.call_in_process("GET", "/widgets", [], AUTH, b"") is None
    assert WsgiHttp(app, "http://toy").request("GET", "/widgets", headers=AUTH).status_code == 200
    assert seen == ["/widgets"]


def test_in_process_bodies_are_the_wire_document_and_what_orjson_cannot_write_falls_back() -> None:
    page = {"items": [{"id": "TE-000001", "hours": "7.50", "billable": True, "tags": ["a", "\u00e9"], "n": -3,
                       "rate": 0.25, "none": None}], "next_cursor": None}
    huge = {"sequence": 2**70, 1: "integer key"}

    assert json.loads(local_json(page)) == json.loads(wire_json(page))
    assert local_json(huge) == wire_json(huge)
    with pytest.raises(TypeError):
        local_json({"at": START})


@pytest.mark.parametrize(("name", "value"), [("ETag", '"2"'), ("etag", '"3"'), ("Location", "/widgets/a b\u00e9"),
                                             ("Location", "/widgets/WID-000001"), ("Retry-After", "30")])
def test_answer_headers_are_set_as_werkzeug_sets_them(name: str, value: str) -> None:
    headers = [("Content-Type", "application/json"), ("ETag", '"1"'), ("X-Other", "a"), ("etag", '"0"')]
    answer = Answer(200, list(headers), b"{}")
    answer.set_header(name, value)
    werkzeug_headers = Headers(headers)
    werkzeug_headers.set(name, iri_to_uri(value) if name == "Location" else value)

    assert answer.headers == werkzeug_headers.to_wsgi_list()


@pytest.mark.parametrize("raw", [
    b'{"items":[{"id":"TE-000001","hours":"7.50","n":-3,"rate":0.1,"ok":true,"none":null}],"next_cursor":null}',
    b'{"name":"gr\\u00fcn \\u2603","a":1,"a":2}', b'[123456789012345678901234567890, -9223372036854775808]',
    b"[NaN, Infinity, 1e400, 1.5e-400]", b'["\\ud800"]', b"[-0, 0.0, 1E2]",
    b'{"a":18446744073709551616,"b":9999999999999999999,"c":"1234567890123456789"}',
])
def test_request_bodies_are_read_as_the_standard_library_reads_them(raw: bytes) -> None:
    document = read_json(raw)

    assert repr(document) == repr(json.loads(raw))
    assert [type(value) for value in _leaves(document)] == [type(value) for value in _leaves(json.loads(raw))]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1,]", b'{"a":1} x'])
def test_bodies_that_are_not_json_fail_as_the_standard_library_fails(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as ours:
        read_json(raw)
    with pytest.raises(json.JSONDecodeError) as standard:
        json.loads(raw)
    assert str(ours.value) == str(standard.value)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
