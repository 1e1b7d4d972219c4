"""A request body's bytes: the standard library's compact sorted JSON to the byte, orjson where that is the same."""

from __future__ import annotations

import enum
import json
import uuid
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncengine.adapters import request_json as module
from syncengine.adapters.request_json import request_json

ASCII = "".join(map(chr, range(128)))
text = (st.text(st.sampled_from(ASCII)) | st.text(st.characters())
        | st.text(st.sampled_from("\x00\x1f\x7f\"\\/aé€😀\u2028\ud800")))
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**63, 2**64 - 1) | st.floats() | text)
json_values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4) | st.lists(children, max_size=3).map(tuple)
                      | st.dictionaries(text, children, max_size=4)),
    max_leaves=30)


def standard(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


@given(json_values)
def test_a_body_is_written_as_the_standard_library_writes_it(body: Any) -> None:
    assert request_json(body) == standard(body)


def nested(depth: int) -> Any:
    value: Any = {"leaf": 1}
    for _ in range(depth):
        value = [value]
    return value


class Colour(enum.Enum):
    RED = "red"


class Text(str):
    pass


@pytest.mark.parametrize("body", [
    {"amount": 1.5, "tiny": 1e-07, "huge": 1e16, "nan": float("nan"), "inf": float("-inf")},
    {"big": 2**64, "negative": -2**63 - 1}, {"name": "Trüb", "delete": "\x7f"}, {"lone": "\ud800"},
    {"subclass": Text("a"), Text("b"): 1}, OrderedDict(b=1, a=2), {"deep": nested(70)},
])
def test_what_orjson_writes_otherwise_is_written_by_the_standard_library(body: Any) -> None:
    assert request_json(body) == standard(body)


@pytest.mark.parametrize("body", [{"colour": Colour.RED}, {"id": uuid.UUID(int=1)}, {1: "a", "b": 2}])
def test_what_the_standard_library_refuses_or_writes_otherwise_is_left_to_it(body: Any) -> None:
    try:
        expected: bytes | type[Exception] = standard(body)
    except TypeError:
        expected = TypeError
    if expected is TypeError:
        with pytest.raises(TypeError):
            request_json(body)
    else:
        assert request_json(body) == expected


def test_a_cycle_is_refused_as_the_standard_library_refuses_it() -> None:
    body: dict[str, Any] = {"a": 1}
    body["self"] = [body]
    with pytest.raises(ValueError, match="Circular reference"):
        request_json(body)


def test_an_entry_of_plain_ascii_is_written_without_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"items": [{"amount": "433.20", "quantity": "1", "source_version": 1, "billable": True,
                        "note": None, "tags": ("a", "b\n\"c\"")}]}
    expected = standard(entry)
    monkeypatch.setattr(module.json, "dumps", None)
    assert request_json(entry) == expected
