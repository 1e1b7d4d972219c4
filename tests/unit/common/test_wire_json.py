"""A body on the wire: the standard library's compact JSON to the byte, written by orjson where that is the same."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.common.exchange import wire_json

ASCII = "".join(map(chr, range(128)))
text = (st.text(st.sampled_from(ASCII)) | st.text(st.characters())
        | st.text(st.sampled_from("\x00\x1f\x7f\"\\/:,[.e1aé€😀\u2028\ud800")))
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**63, 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | text)
json_values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4) | st.lists(children, max_size=3).map(tuple)
                      | st.dictionaries(text, children, max_size=4)),
    max_leaves=30)


def standard(body: Any, sort_keys: bool = False) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=sort_keys).encode()


@given(json_values, st.booleans())
def test_a_body_is_written_as_the_standard_library_writes_it(body: Any, sort_keys: bool) -> None:
    assert wire_json(body, sort_keys=sort_keys) == standard(body, sort_keys)


class Text(str):
    pass


def nested(depth: int) -> Any:
    value: Any = {"leaf": 1}
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("body", [
    {"items": [{"name": "Jürgen Weiß", "city": "Köln", "emoji": "😀", "sep": "\u2028", "del": "\x7f"}]},
    {"amount": 1.5, "tiny": 1e-07, "huge": 1e16}, [1e16], 1e16, -0.0, {"big": 2**64, "negative": -2**63 - 1},
    {"lone": "\ud800"}, {"subclass": Text("a"), Text("b"): 1}, OrderedDict(b=1, a=2), {"deep": nested(300)},
    {1: "an integer key"}, {"tiny": [1e-07, 1e-05, -3.5e-05, 2e-100]}, {"looks like a tiny float": "1e-7 0.00001"},
    "é", 7, None,
])
def test_what_orjson_writes_otherwise_is_written_by_the_standard_library(body: Any) -> None:
    assert wire_json(body) == standard(body)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.floats(-1e-3, 1e-3), max_size=8))
def test_floats_are_written_as_the_standard_library_writes_them(floats: list[float]) -> None:
    assert wire_json({"values": floats, "n": "ok"}) == standard({"values": floats, "n": "ok"})


def test_a_nan_or_an_infinity_is_written_as_null_which_is_json() -> None:
    # The one difference: the standard library writes NaN and Infinity, which are not JSON.
    assert wire_json({"x": float("nan"), "y": [float("inf")], "z": 0.5}) == b'{"x":null,"y":[null],"z":0.5}'


def test_what_neither_writes_still_fails() -> None:
    with pytest.raises(TypeError):
        wire_json({"at": object()})
