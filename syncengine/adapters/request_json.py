"""A request body as `SystemClient` sends it: compact JSON, keys sorted, what is not ASCII escaped.

The bytes are fingerprinted (the Idempotency-Key) and pinned by the Pact files, so they are the standard
library's `json.dumps(body, separators=(",", ":"), sort_keys=True)` to the byte. orjson writes the same
bytes at about a fifth of the CPU when the body holds nothing but dicts with string keys, lists and
tuples, strings, integers, booleans and None, and what it writes is ASCII without DEL: the standard
library would escape those characters, and it writes a float otherwise than orjson (an exponent, NaN)
and refuses or writes otherwise what orjson writes natively (an enum, a UUID, a dataclass, a subclass).
Such a body is written by orjson, any other by the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_SCALARS = frozenset({str, int, bool, type(None)})
_DEEPEST = 64
"""A body nested deeper is left to the standard library (orjson refuses 255 levels; a cycle has no end)."""


def request_json(body: Any) -> bytes:
    """Return a request body as compact JSON with sorted keys and non-ASCII escaped."""
    if _plain(body, 0):
        try:
            content = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # an integer beyond 64 bits, a lone surrogate
        else:
            if content.isascii() and b"\x7f" not in content:
                return content
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _plain(value: Any, depth: int) -> bool:
    """Tell whether a value holds only dicts with string keys, lists, tuples, strings, integers, booleans and
    None, exactly of those types (a subclass may write itself otherwise)."""
    kind = type(value)
    if kind is dict:
        if depth == _DEEPEST:
            return False
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not _plain(item, depth + 1)):
                return False
        return True
    if kind is list or kind is tuple:
        if depth == _DEEPEST:
            return False
        return all(type(item) in _SCALARS or _plain(item, depth + 1) for item in value)
    return kind in _SCALARS
