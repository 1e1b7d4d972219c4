"""The event feed: every committed change appends one CloudEvents-shaped event."""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulators.common.clock import isoformat

Event = dict[str, Any]

_TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


def valid_traceparent(value: str | None) -> str | None:
    """Return a W3C `traceparent` (version 00) worth recording on events, or None for a missing or bad one."""
    if value is None:
        return None
    value = value.strip()
    return value if _TRACEPARENT.match(value) else None


class EventFeed:
    """An append-only, cursor-readable list of events for one system instance."""

    def __init__(self, system_name: str) -> None:
        self.system_name = system_name
        self.source = f"urn:firmsim:{system_name}"
        self._events: list[Event] = []
        self._sequences: list[int] = []
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` with each event as it is appended (webhooks, metrics)."""
        self._listeners.append(listener)

    def clear(self) -> None:
        """Forget every event (admin reset)."""
        with self._lock:
            self._events = []
            self._sequences = []

    def append(
        self,
        event_type: str,
        subject: str,
        data: dict[str, Any],
        time: datetime,
        traceparent: str | None = None,
    ) -> Event:
        """Append one event and notify listeners."""
        with self._lock:
            sequence = len(self._events) + 1
            event: Event = {
                "specversion": "1.0",
                "id": f"{self.system_name}-{sequence:06d}",
                "source": self.source,
                "type": event_type,
                "subject": subject,
                "time": isoformat(time),
                "sequence": sequence,
                "datacontenttype": "application/json",
                "data": data,
            }
            if traceparent:
                event["traceparent"] = traceparent
            self._events.append(event)
            self._sequences.append(sequence)
        for listener in self._listeners:
            listener(event)
        return event

    def read(self, after: int, limit: int, type_prefixes: tuple[str, ...] | None = None) -> tuple[list[Event], int]:
        """Return up to `limit` events after sequence `after` (only those whose type starts with one of
        `type_prefixes`, when given), and the cursor to read on from.

        The cursor is the sequence of the last event examined, whether the filter kept it or not: the
        last item of a full page, else the feed's last event, so a reader never examines a skipped
        event again and never passes one it would have kept.
        """
        with self._lock:
            start = bisect.bisect_right(self._sequences, after)
            if type_prefixes is None:
                items = self._events[start:start + limit]
                return items, items[-1]["sequence"] if items else after
            items = []
            cursor = after
            events = self._events
            for index in range(start, len(events)):  # not islice(events, start, None): it steps over the first `start`
                event = events[index]
                cursor = event["sequence"]
                if event["type"].startswith(type_prefixes):
                    items.append(event)
                    if len(items) >= limit:
                        break
            return items, cursor

    def __len__(self) -> int:
        return len(self._events)

    def all(self) -> list[Event]:
        """Return every event (for exports)."""
        with self._lock:
            return list(self._events)
