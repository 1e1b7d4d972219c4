"""Ordering keys: messages with the same key are handled one at a time, in arrival order.

Each flow gives a key function (per contract, project, worker ...). Keys are global strings, so two
flows that key by the same contract share one queue and keep their relative order; prefix a key
with what it names (`contract:OPP-000001`).
"""

from __future__ import annotations

from collections.abc import Callable

from syncengine.domain.errors import MalformedEvent
from syncengine.domain.messages import SourceEvent

KeyFunction = Callable[[SourceEvent], str]


def by_subject(event: SourceEvent) -> str:
    """Key by the record the event is about (`<system>:<subject>`)."""
    return f"{event.system}:{event.subject}"


def by_field(*names: str, prefix: str) -> KeyFunction:
    """Key by the first of `names` present in the event's data (`<prefix>:<value>`)."""
    if not names:
        raise ValueError("by_field needs at least one field name")

    def key(event: SourceEvent) -> str:
        data = event.data
        for name in names:
            value = data.get(name)
            if type(value) is str:  # the usual id, without the union's isinstance (twice per event and flow)
                if value:
                    return f"{prefix}:{value}"
            elif isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return f"{prefix}:{value}"
        raise MalformedEvent("missing-ordering-key",
                             f"{event.message_id} ({event.type}): data has none of {', '.join(names)}")

    key.__name__ = f"by_{'_or_'.join(names)}"
    return key
