"""W3C Trace Context for the engine's outbound calls: same trace id as the event handled, new span id.

While a handler runs (`handling(event.traceparent, salt)`), every call the `SystemClient` makes
carries `traceparent: 00-<the event's trace id>-<a new span id>-<flags>`. Span ids are derived from
the salt (message, handler, attempt) and a call counter, not drawn at random, so a simulated run
sends the same headers every time.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from functools import lru_cache

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class TraceParent:
    """The fields of a `traceparent` header."""

    trace_id: str
    parent_id: str
    flags: str

    def header(self) -> str:
        """Return the header value (version 00)."""
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


def parse_traceparent(value: str | None) -> TraceParent | None:
    """Return the fields of a valid `traceparent`, or None (absent, malformed, all-zero ids, version ff)."""
    if not value:
        return None
    return _parsed(value)


@lru_cache(maxsize=1024)
def _parsed(value: str) -> TraceParent | None:
    # kept by value: a bulk approval's events, and each attempt at one, carry the same header
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, parent_id, flags)


class _Span:
    """The trace a handler's calls continue, with the fixed parts of their headers and span-id seeds."""

    __slots__ = ("calls", "head", "seed", "tail")

    def __init__(self, parent: TraceParent, salt: str) -> None:
        self.seed = f"{parent.header()}|{salt}|"
        self.head = f"00-{parent.trace_id}-"
        self.tail = f"-{parent.flags}"
        self.calls = 0


_CURRENT: ContextVar[_Span | None] = ContextVar("syncengine_trace", default=None)


class _Handling:
    """The block of `handling` (a class, not a generator: one per handler run)."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: _Span | None) -> None:
        self._span = span
        self._token: Token[_Span | None] | None = None

    def __enter__(self) -> None:
        self._token = _CURRENT.set(self._span)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None


def handling(traceparent: str | None, salt: str) -> AbstractContextManager[None]:
    """Make the calls made inside the block continue the trace of `traceparent` (when valid)."""
    parent = parse_traceparent(traceparent)
    return _Handling(_Span(parent, salt) if parent is not None else None)


def outbound_traceparent() -> str | None:
    """Return the `traceparent` for the next outbound call: the current trace, a new span id."""
    span = _CURRENT.get()
    if span is None:
        return None
    span.calls += 1
    span_id = hashlib.sha256(f"{span.seed}{span.calls}".encode()).hexdigest()[:16]
    if span_id == _ZERO_SPAN:
        span_id = "0" * 15 + "1"
    return f"{span.head}{span_id}{span.tail}"
