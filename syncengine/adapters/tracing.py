"""W3C Trace Context for the engine's outbound calls: same trace id as the event handled, new span id.

While a handler runs (`handling(event.traceparent, salt)`), every call the `SystemClient` makes
carries `traceparent: 00-<the event's trace id>-<a new span id>-<flags>`. Span ids are derived from
the salt (message, handler, attempt) and a call counter, not drawn at random, so a simulated run
sends the same headers every time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, parent_id, flags)


@dataclass(slots=True)
class _Span:
    parent: TraceParent
    salt: str
    calls: int = 0


_CURRENT: ContextVar[_Span | None] = ContextVar("syncengine_trace", default=None)


@contextmanager
def handling(traceparent: str | None, salt: str) -> Iterator[None]:
    """Make the calls made inside the block continue the trace of `traceparent` (when valid)."""
    parent = parse_traceparent(traceparent)
    token = _CURRENT.set(_Span(parent, salt) if parent is not None else None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def outbound_traceparent() -> str | None:
    """Return the `traceparent` for the next outbound call: the current trace, a new span id."""
    span = _CURRENT.get()
    if span is None:
        return None
    span.calls += 1
    digest = hashlib.sha256(f"{span.parent.header()}|{span.salt}|{span.calls}".encode()).hexdigest()
    span_id = digest[:16] if digest[:16] != _ZERO_SPAN else "0" * 15 + "1"
    return TraceParent(span.parent.trace_id, span_id, span.parent.flags).header()
