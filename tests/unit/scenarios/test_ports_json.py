"""The actors' port writes request bodies and reads answers as the standard library's json would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.engine import ports
from scenarios.engine.ports import ApiResult, _document, _request_json

DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30) | st.text()
    | st.from_regex(r"[0-9]{15,25}", fullmatch=True) | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12)


@settings(deadline=None)  # a shared, loaded machine may take over 200 ms for one example
@given(DOCUMENTS)
def test_a_request_body_reads_back_as_the_standard_librarys_would(body: Any) -> None:
    assert json.loads(_request_json(body)) == json.loads(json.dumps(body))


@settings(deadline=None)
@given(DOCUMENTS)
def test_an_answer_is_read_as_json_loads_reads_it(document: Any) -> None:
    payload = json.dumps(document).encode()
    assert _document(payload) == json.loads(payload)


@pytest.mark.parametrize("payload", [b'{"id": 18446744073709551616}', b'[1234567890123456789012, 1]',
                                     b'{"a": -99999999999999999999}', b'{"n": 1e400}', b'"\\ud800"'])
def test_an_answer_orjson_would_read_otherwise_is_read_by_the_standard_library(payload: bytes) -> None:
    assert _document(payload) == json.loads(payload)


def test_an_answer_is_read_when_its_body_is_first_asked_for_and_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[bytes] = []

    def document(payload: bytes) -> Any:
        reads.append(payload)
        return _document(payload)

    monkeypatch.setattr(ports, "_document", document)
    answer = ApiResult.unparsed(201, b'{"id": "EXP-000001", "status": "SUBMITTED"}', {"ETag": '"1"'})
    problem = ApiResult.unparsed(409, b'{"type": "https://firmsim.dev/problems/invalid-transition"}', {})
    empty = ApiResult.unparsed(204, b"", {})

    assert answer.ok and not answer.retry_later and reads == []
    assert answer.body == {"id": "EXP-000001", "status": "SUBMITTED"} and answer.body["id"] == "EXP-000001"
    assert problem.problem_type == "invalid-transition"
    assert empty.body is None and ApiResult(200, {"a": 1}).body == {"a": 1}
    assert len(reads) == 2
