"""The event feed: every committed change appends one CloudEvents-shaped event."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulators.common.clock import isoformat

Event = dict[str, Any]
_Kept = tuple[str, str, str, dict[str, Any], str | None]
"""An event as the feed keeps it: type, subject, time (ISO text), data, traceparent (None: none)."""

_TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


def valid_traceparent(value: str | None) -> str | None:
    """Return a W3C `traceparent` (version 00) worth recording on events, or None for a missing or bad one."""
    if value is None:
        return None
    value = value.strip()
    return value if _TRACEPARENT.match(value) else None


class EventFeed:
    """An append-only, cursor-readable list of events for one system instance.

    An event is kept as a tuple of what is its own (type, subject, time, data, traceparent) and
    built into its dict when read: a year's million events as dicts held ~0.5 kB each of dict,
    id and sequence beside their data, several hundred MB a run keeps to its end. Its sequence is
    its position (from 1), its id is written from the sequence.
    """

    def __init__(self, system_name: str) -> None:
        self.system_name = system_name
        self.source = f"urn:firmsim:{system_name}"
        self._events: list[_Kept] = []
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` with each event as it is appended (webhooks, metrics)."""
        self._listeners.append(listener)

    def clear(self) -> None:
        """Forget every event (admin reset)."""
        with self._lock:
            self._events = []

    def append(
        self,
        event_type: str,
        subject: str,
        data: dict[str, Any],
        time: datetime,
        traceparent: str | None = None,
    ) -> Event:
        """Append one event and notify listeners."""
        kept = (event_type, subject, isoformat(time), data, traceparent or None)
        with self._lock:
            self._events.append(kept)
            sequence = len(self._events)
        event = self._event(sequence, kept)
        for listener in self._listeners:
            listener(event)
        return event

    def _event(self, sequence: int, kept: _Kept) -> Event:
        event_type, subject, time, data, traceparent = kept
        event: Event = {
            "specversion": "1.0",
            "id": f"{self.system_name}-{sequence:06d}",
            "source": self.source,
            "type": event_type,
            "subject": subject,
            "time": time,
            "sequence": sequence,
            "datacontenttype": "application/json",
            "data": data,
        }
        if traceparent is not None:
            event["traceparent"] = traceparent
        return event

    def read(self, after: int, limit: int, type_prefixes: tuple[str, ...] | None = None) -> tuple[list[Event], int]:
        """Return up to `limit` events after sequence `after` (only those whose type starts with one of
        `type_prefixes`, when given), and the cursor to read on from.

        The cursor is the sequence of the last event examined, whether the filter kept it or not: the
        last item of a full page, else the feed's last event, so a reader never examines a skipped
        event again and never passes one it would have kept.
        """
        with self._lock:
            events = self._events
            start = min(max(after, 0), len(events))  # the events up to `after` (sequences are 1, 2, ...)
            if type_prefixes is None:
                page = events[start:start + limit]
                items = [self._event(index, kept) for index, kept in enumerate(page, start + 1)]
                return items, items[-1]["sequence"] if items else after
            items = []
            cursor = after
            for index in range(start, len(events)):  # not islice(events, start, None): it steps over the first `start`
                kept = events[index]
                cursor = index + 1
                if kept[0].startswith(type_prefixes):
                    items.append(self._event(cursor, kept))
                    if len(items) >= limit:
                        break
            return items, cursor

    def __len__(self) -> int:
        return len(self._events)

    def types(self) -> list[str]:
        """Return every event's type, in order (without building the events)."""
        with self._lock:
            return [kept[0] for kept in self._events]

    def all(self) -> list[Event]:
        """Return every event (for exports)."""
        with self._lock:
            return [self._event(index, kept) for index, kept in enumerate(self._events, 1)]
