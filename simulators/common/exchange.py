"""What goes into the request pipeline and comes out of it, in whatever way a request arrives.

A request is a Werkzeug request (WSGI) or a `LocalRequest` handed over by a caller in the same
process; the pipeline answers with an `Answer`: status, headers exactly as Werkzeug would send them,
body bytes. Reply bodies are written by `wire_json` for the wire and `local_json` in-process, and
request bodies read by `read_json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import orjson
from flask import Response
from werkzeug.http import parse_options_header
from werkzeug.urls import iri_to_uri

from simulators.common.errors import PROBLEM_JSON, ApiProblem
from simulators.common.idempotency import REPLAYED_HEADER, StoredResponse

EMPTY_CONTENT_TYPE = "text/html; charset=utf-8"  # what Flask labels a response without a body
_PLAIN_URI = re.compile(r"[A-Za-z0-9/._~-]*")


class HttpRequest(Protocol):
    """What the pipeline reads of a request: a Werkzeug request, or a `LocalRequest`."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def args(self) -> Any: ...

    @property
    def headers(self) -> Any: ...  # Werkzeug's headers or `LocalHeaders`: get, in, [] by any spelling

    @property
    def mimetype(self) -> str: ...

    @property
    def environ(self) -> dict[str, Any]: ...

    def get_data(self, cache: bool = True) -> bytes: ...


class LocalHeaders(dict[str, str]):
    """Request headers handed over in-process, read by any spelling of their names (keys lower-case)."""

    def get(self, key: str, default: Any = None) -> Any:
        """Return a header's value by any spelling of its name."""
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class LocalArgs(dict[str, str]):
    """Query parameters by name, first value each (as Werkzeug's MultiDict reads), and every value of a
    repeated one (`getlist`)."""

    __slots__ = ("lists",)

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, list[str]] = {}

    def getlist(self, name: str) -> list[str]:
        """Return every value of a query parameter, in order (none: an empty list)."""
        return list(self.lists.get(name, ()))


class LocalRequest:
    """A request from a caller in the same process: what Werkzeug would have parsed, without an environ.

    `args` holds the first value of each query parameter, in the order the names first appear, and
    every value of each (what the pipeline reads of Werkzeug's MultiDict); `path` is the path as routed.
    """

    __slots__ = ("_data", "args", "headers", "method", "path")

    environ: dict[str, Any] = {}  # noqa: RUF012 - read only: no socket to close for a lost response

    def __init__(self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str],
                 data: bytes) -> None:
        self.method = method
        self.path = path
        args = LocalArgs()
        if query:
            lists = args.lists
            for name, value in query:
                values = lists.get(name)
                if values is None:
                    args[name] = value
                    lists[name] = [value]
                else:
                    values.append(value)
        self.args = args
        self.headers = LocalHeaders(zip(map(str.lower, headers), headers.values(), strict=True))
        self._data = data

    @property
    def mimetype(self) -> str:
        """Return the media type of the body, lower-case, without parameters."""
        content_type: str = self.headers.get("Content-Type", "")
        if content_type == "application/json":  # what in-process callers send: nothing to parse
            return content_type
        return parse_options_header(content_type)[0].lower()

    def get_data(self, cache: bool = True) -> bytes:
        """Return the raw body."""
        return self._data


class Answer:
    """A response as it goes out: status, headers as Werkzeug would send them, body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @classmethod
    def of(cls, status: int, content_type: str, body: bytes, headers: Any = ()) -> Answer:
        """Return an answer with a body, its Content-Type and Content-Length, then `headers`."""
        answer = cls(status, [("Content-Type", content_type)], body)
        present = {"content-type"}
        if status != 204 and not 100 <= status < 200:
            answer.headers.append(("Content-Length", str(len(body))))
            present.add("content-length")
        if not headers:
            return answer
        for name, value in headers:
            wanted = name.lower()
            if wanted in present or wanted == "location":
                answer.set_header(name, value)
            else:  # a header not there yet: what set_header would do, without looking for it
                answer.headers.append((name, value))
            present.add(wanted)
        return answer

    @classmethod
    def replay(cls, stored: StoredResponse) -> Answer:
        """Return the stored first answer to an Idempotency-Key again, marked as a replay."""
        answer = cls(stored.status, list(stored.headers), stored.body)
        if stored.status != 204 and not 100 <= stored.status < 200:
            answer.headers.append(("Content-Length", str(len(stored.body))))
        answer.set_header(REPLAYED_HEADER, "true")
        return answer

    @property
    def mimetype(self) -> str:
        """Return the media type of the body."""
        return parse_options_header(self.header("Content-Type") or "")[0].lower()

    def header(self, name: str) -> str | None:
        """Return the first value of a header, by any spelling of its name."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        """Set a header as Werkzeug's `Headers.set` does: replace the first of that name in place, drop the rest."""
        wanted = name.lower()
        if wanted == "location" and not _PLAIN_URI.fullmatch(value):
            value = iri_to_uri(value)  # as Werkzeug sends a Location (a plain one it leaves as it is)
        headers = self.headers
        for index, (key, _) in enumerate(headers):
            if key.lower() == wanted:
                headers[index] = (name, value)
                self.headers = headers[:index + 1] + [header for header in headers[index + 1:]
                                                      if header[0].lower() != wanted]
                return
        headers.append((name, value))

    def to_response(self) -> Response:
        """Return the Flask response that sends exactly this answer."""
        return Response(self.body, status=self.status, headers=self.headers)


def problem_answer(problem: ApiProblem, instance: str | None = None) -> Answer:
    """Render a problem as problem+json (the same document `errors.problem_response` renders)."""
    body = json.dumps(problem.to_dict(instance), separators=(",", ":")).encode()
    return Answer.of(problem.status, PROBLEM_JSON, body, problem.headers.items())


JsonEncoder = Callable[[Any], bytes]
"""Writes a handler's reply body."""


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
"""What orjson leaves to the standard library (by raising TypeError): what it would write otherwise."""
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")


def _floats_spelled_alike(content: bytes) -> bool:
    """Tell whether orjson wrote every float in `content` as the standard library writes it. They differ
    only below 1e-4: a negative exponent of one digit (orjson 1e-7, the standard library 1e-07) and
    numbers from 1e-5 to 1e-4 (orjson 0.00001, the standard library 1e-05); so a body holding either
    spelling, in a float or in a string, is left to the standard library (checked on 3.3 million floats:
    every one spelled otherwise was caught)."""
    return b"0.0000" not in content and not (b"e-" in content and _SHORT_NEGATIVE_EXPONENT.search(content))


def wire_json(body: Any, *, sort_keys: bool = False) -> bytes:
    """Write a body for the wire: the standard library's compact JSON (non-ASCII and DEL escaped), to the
    byte, at a fifth to a tenth of its CPU where orjson can write it (a 1,000-event feed page: 10.8 ->
    0.8-2.0 ms).

    orjson writes it where what it writes is ASCII (a DEL, which it leaves raw, is then escaped as the
    standard library escapes it; both escape the other characters alike). Left to the standard library:
    a body with other characters (escaping them afterwards cost more than it saved), and what orjson
    writes otherwise: a float below 1e-4 (`_floats_spelled_alike`), an integer beyond 64 bits, a key
    that is not a string, a subclass, a lone surrogate, nesting beyond 255. One difference remains: a
    float NaN or infinity, which the standard library writes as `NaN`/`Infinity` (not JSON), orjson
    writes as null; only a request body the standard library read can bring one (`read_json`).
    """
    if type(body) is not float:
        try:
            content = orjson.dumps(body, option=_PASSTHROUGH | orjson.OPT_SORT_KEYS if sort_keys else _PASSTHROUGH)
        except TypeError:  # orjson.JSONEncodeError too
            pass
        else:
            if content.isascii() and _floats_spelled_alike(content):
                if b"\x7f" in content:  # DEL, which orjson leaves as it is
                    content = content.replace(b"\x7f", b"\\u007f")
                return content
    return _standard_json(body, sort_keys)


def _standard_json(body: Any, sort_keys: bool = False) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=sort_keys).encode()


def local_json(body: Any) -> bytes:
    """Write a reply body for a caller in the same process: orjson, the standard library's where orjson cannot.

    The same document as `wire_json` (non-ASCII as UTF-8 rather than escaped) at a tenth of the CPU;
    a body orjson cannot write (an integer beyond 64 bits, a key that is not a string) falls back, and
    a type neither writes (a datetime, a Decimal) still fails in the handler's transaction. Unlike
    the standard library, orjson writes a float NaN or infinity as null; no API schema has a
    floating-point field.
    """
    try:
        return orjson.dumps(body, option=_PASSTHROUGH)
    except TypeError:
        return _standard_json(body)  # not wire_json: it would try orjson again


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def read_json(raw: bytes) -> Any:
    """Read a JSON document exactly as `json.loads` does (its errors too), with orjson where that is the same.

    orjson reads an integer beyond 64 bits as a float: a body with a run of 19 digits, like one
    orjson refuses (NaN, infinity, a lone surrogate, bad JSON), is read by the standard library.
    The run is looked for as 19 zeros once every digit is a zero (a regular expression tries each
    digit as the start of a run: several times the CPU on a body of amounts and dates).
    """
    if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)
