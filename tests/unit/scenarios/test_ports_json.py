"""The actors' port writes request bodies and reads answers as the standard library's json would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.engine.ports import _document, _request_json

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
