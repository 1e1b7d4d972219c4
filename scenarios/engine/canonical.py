"""Canonical JSON: sorted keys, no whitespace, non-ASCII escaped - the bytes run digests and truth.json are made of.

Written by orjson, at about a third of the standard library's CPU on a run's state exports, and the
same text as `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)` for every
value of JSON types without floats: orjson escapes quotes, backslashes and control characters the
same way; the rest of what the standard library escapes (DEL and everything beyond ASCII, astral
characters as surrogate pairs) is escaped here afterwards: an ASCII encoding hands each run of
characters beyond ASCII (always inside a JSON string) to the standard library's own string escaper,
about a tenth of the CPU of a regular expression over the whole text. A value orjson cannot write
(an integer beyond 64 bits, a key that is not a string, a lone surrogate, a type `default` does not
convert) is written by the standard library, which then also raises what it raises.

Floats and enums are where the two differ (orjson writes 1e-05 as 0.00001, NaN as null, an enum as
its value): the systems' records and truth's facts carry none (amounts are decimal strings, no API
schema has a floating-point field), and either way the same value always gives the same text.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

import orjson

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""Datetimes and dataclasses go to `default` (str, as with the standard library), not orjson's own format."""
ESCAPE_BEYOND_ASCII = "firmsim-json-escape"


def _escape(error: UnicodeError) -> tuple[str, int]:
    """Write the characters an ASCII encoding could not as the standard library's JSON escapes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return encode_basestring_ascii(error.object[error.start:error.end])[1:-1], error.end


codecs.register_error(ESCAPE_BEYOND_ASCII, _escape)


def canonical_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """Return `value` as JSON with sorted keys, no whitespace and only ASCII characters."""
    return canonical_bytes(value, default).decode("ascii")


def canonical_bytes(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Return `canonical_json` encoded (ASCII), without the copy a str in between would cost."""
    try:
        written = orjson.dumps(value, default=default, option=OPTIONS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=default).encode("ascii")
    if not written.isascii():  # an encoding error only for each run beyond ASCII: a few in megabytes of text
        written = written.decode("utf-8").encode("ascii", ESCAPE_BEYOND_ASCII)
    if b"\x7f" in written:  # ASCII, so the encoding leaves it; inside a string, as nothing else can be
        written = written.replace(b"\x7f", b"\\u007f")
    return written
