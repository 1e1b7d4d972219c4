"""The feed poller: reads a system's `GET /events` after the stored cursor and hands events over.

The poller asks the feed only for the event types the registered flows handle (`type`, repeated, one
prefix each): the feed's cursor still passes the events it skipped, and an event no flow handles is
none of the engine's business. A page's events are handed over and the cursor stored in one ledger
unit of work, so the cursor never passes an event that was not handed over; a crash or failure
mid-page reads the page again (at-least-once): duplicates are dropped by event id, and effects by
tracking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from syncengine.adapters.http import SystemClient
from syncengine.domain.errors import PermanentFailure
from syncengine.ledger.port import AbstractLedger

MAX_TYPE_PREFIXES = 50
"""The most `type` prefixes one `GET /events` takes (contracts/openapi/_common.yaml, listEvents)."""
_TYPE_PREFIX = re.compile(r"^[a-z0-9_.]{1,100}$")
"""What the feed takes as one `type` prefix (the same spec)."""


def type_filter(prefixes: Sequence[str]) -> list[str] | None:
    """Return the `type` values that ask a feed for events of these prefixes, or None to read every event
    (no prefixes, more than the feed takes, or one it would refuse: reading all is always right)."""
    return None if not _takes_filter(tuple(prefixes)) else list(prefixes)


@lru_cache(maxsize=16)
def _takes_filter(prefixes: tuple[str, ...]) -> bool:
    # asked before every read with the registry's same few dozen prefixes: checked once, not by regex each time
    return 1 <= len(prefixes) <= MAX_TYPE_PREFIXES and all(map(_TYPE_PREFIX.match, prefixes))


class EventSink(Protocol):
    """Take raw inbound events of a system; return how many deliveries they became."""

    def submit(self, system: str, raw: Any, *, replay: bool = False) -> int: ...

    def submit_page(self, system: str, raws: Sequence[Any], *, replay: bool = False) -> int:
        """Take a page of raw events as `submit` takes each (the ledger may record their ids at once)."""
        ...


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll read: events, pages, the cursor it ended on, the simulated latency it took."""

    events: int
    pages: int
    cursor: str | None
    latency_ms: int


class FeedPoller:
    """Polls one system's event feed."""

    def __init__(self, system: str, client: SystemClient, ledger: AbstractLedger, sink: EventSink, *,
                 limit: int = 100, max_pages: int = 10,
                 type_prefixes: Callable[[], Sequence[str]] | None = None) -> None:
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be from 1 to 1000 (the feed's maximum)")
        self.type_prefixes = type_prefixes
        """The event type prefixes to read (the registry's, asked at each read); None reads every event."""
        self.system = system
        self.client = client
        self.ledger = ledger
        self.sink = sink
        self.limit = limit
        self.max_pages = max_pages

    def poll(self) -> PollResult:
        """Read up to `max_pages` pages after the stored cursor, handing each event to the sink."""
        return self._read(self.ledger.cursor(self.system), self.max_pages, replay=False)

    def replay(self, after: str | None) -> PollResult:
        """Read the whole feed after `after` again (None: from the start); tracking skips what was done."""
        return self._read(after, None, replay=True)

    def _read(self, cursor: str | None, max_pages: int | None, *, replay: bool) -> PollResult:
        events = pages = latency_ms = 0
        stored = self.ledger.cursor(self.system) if replay else None  # a poll started from it: only a replay asks
        types = type_filter(self.type_prefixes()) if self.type_prefixes is not None else None
        while max_pages is None or pages < max_pages:
            params: dict[str, Any] = {"limit": self.limit}
            if cursor is not None:
                params["after"] = cursor
            if types is not None:
                params["type"] = types
            result = self.client.get("/events", params)
            pages += 1
            latency_ms += result.latency_ms
            items, next_cursor = _page(self.system, result.body)
            with self.ledger.unit_of_work():
                self.sink.submit_page(self.system, items, replay=replay)
                if not replay or _after(next_cursor, stored):
                    self.ledger.set_cursor(self.system, next_cursor)
            events += len(items)
            if len(items) < self.limit or next_cursor == cursor:
                cursor = next_cursor
                break
            cursor = next_cursor
        return PollResult(events, pages, cursor, latency_ms)


def _page(system: str, body: Any) -> tuple[list[Any], str]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list) \
            or not isinstance(body.get("next_cursor"), str):
        raise PermanentFailure("malformed-feed-page", f"{system} GET /events: expected {{items: [...], next_cursor}}")
    return body["items"], body["next_cursor"]


def _after(cursor: str, stored: str | None) -> bool:
    if stored is None:
        return True
    if cursor.isdigit() and stored.isdigit():
        return int(cursor) > int(stored)
    return cursor != stored
