"""The in-memory ledger (the default): dicts, written in place, with an undo log per unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from syncengine.ledger.batch import TrackingKey
from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.records import (
    DeadLetter,
    DeadLetterStatus,
    ExceptionItem,
    LedgerError,
    ReceivedId,
    Tracking,
    XrefEntry,
)

K = TypeVar("K")
V = TypeVar("V")

_ABSENT: Any = object()
"""What an undo entry restores for a key that had no value: its removal."""


class _Journal:
    """The open unit of work's undo log: each write's table, key and earlier value (None: none open)."""

    __slots__ = ("undo",)

    def __init__(self) -> None:
        self.undo: list[tuple[dict[Any, Any], Any, Any]] | None = None


class _Table(Generic[K, V]):
    """A dict written in place inside a unit of work, which the journal lets roll back.

    A write goes straight to `committed` (what a read sees at once, as the unit of work's own writes
    should be seen; other threads wait on the ledger's lock) and its undo goes to the journal: a unit
    of work costs what it writes, not a pass over every table to open and merge an overlay.
    """

    __slots__ = ("_journal", "committed")

    def __init__(self, journal: _Journal) -> None:
        self.committed: dict[K, V] = {}
        self._journal = journal

    def get(self, key: K) -> V | None:
        return self.committed.get(key)

    def put(self, key: K, value: V) -> None:
        undo = self._journal.undo
        if undo is None:
            raise LedgerError("a ledger write needs an open unit of work")
        rows = self.committed
        undo.append((rows, key, rows.get(key, _ABSENT)))
        rows[key] = value

    def items(self) -> list[tuple[K, V]]:
        return list(self.committed.items())

    def values(self) -> list[V]:
        return list(self.committed.values())


class InMemoryLedger(AbstractLedger):
    """A ledger held in memory: fast, deterministic, gone when the process ends."""

    def __init__(self) -> None:
        super().__init__()
        self._journal = journal = _Journal()
        self._tracking: _Table[TrackingKey, Tracking] = _Table(journal)
        self._received: _Table[tuple[str, str], datetime] = _Table(journal)
        self._xref_by_id: _Table[tuple[str, str, str], XrefEntry] = _Table(journal)
        self._xref_by_key: _Table[tuple[str, str, str], XrefEntry] = _Table(journal)
        # keys of _xref_by_key per canonical key, so links() reads a key's entries, not every entry;
        # a key written in a unit of work that rolls back stays here and finds no entry
        self._keys_by_canonical: dict[str, set[tuple[str, str, str]]] = {}
        self._counters: _Table[str, int] = _Table(journal)
        self._exceptions: _Table[str, ExceptionItem] = _Table(journal)
        self._exception_index: _Table[tuple[str, str], str] = _Table(journal)
        self._dead_letters: _Table[str, DeadLetter] = _Table(journal)
        self._cursors: _Table[str, str] = _Table(journal)
        self._applied: _Table[str, int] = _Table(journal)
        self._tables: tuple[_Table[Any, Any], ...] = (
            self._tracking, self._received, self._xref_by_id, self._xref_by_key,
            self._counters, self._exceptions, self._exception_index, self._dead_letters,
            self._cursors, self._applied)

    def _begin(self) -> None:
        self._journal.undo = []

    def _commit(self) -> None:
        self._journal.undo = None

    def _rollback(self) -> None:
        undo, self._journal.undo = self._journal.undo or [], None
        for rows, key, earlier in reversed(undo):
            if earlier is _ABSENT:
                del rows[key]
            else:
                rows[key] = earlier

    def _has_tracking(self, system: str, source_id: str, source_version: int, handler: str) -> bool:
        return self._tracking.get((system, source_id, source_version, handler)) is not None

    def _insert_tracking(self, tracking: Tracking) -> None:
        key = (tracking.system, tracking.source_id, tracking.source_version, tracking.handler)
        self._tracking.put(key, tracking)

    def _insert_received(self, system: str, event_id: str, now: datetime) -> bool:
        if self._received.get((system, event_id)) is not None:
            return False
        self._received.put((system, event_id), now)
        return True

    def _xref_key(self, kind: str, system: str, external_id: str) -> str | None:
        entry = self._xref_by_id.get((kind, system, external_id))
        return entry.canonical_key if entry else None

    def _xref_id(self, kind: str, system: str, canonical_key: str) -> str | None:
        entry = self._xref_by_key.get((kind, system, canonical_key))
        return entry.external_id if entry else None

    def _xref_entries(self, canonical_key: str) -> list[XrefEntry]:
        found = (self._xref_by_key.get(key) for key in self._keys_by_canonical.get(canonical_key, ()))
        return [entry for entry in found if entry is not None]

    def _insert_xref(self, entry: XrefEntry) -> None:
        self._xref_by_id.put((entry.kind, entry.system, entry.external_id), entry)
        key = (entry.kind, entry.system, entry.canonical_key)
        self._xref_by_key.put(key, entry)
        self._keys_by_canonical.setdefault(entry.canonical_key, set()).add(key)

    # -- batch forms: a dict lookup or write per record, without a call of the single form each ----

    def _tracking_among(self, keys: list[TrackingKey]) -> set[TrackingKey]:
        rows = self._tracking.committed
        return {key for key in keys if key in rows}

    def _insert_trackings(self, trackings: list[Tracking]) -> None:
        put = self._tracking.put
        for tracking in trackings:
            put((tracking.system, tracking.source_id, tracking.source_version, tracking.handler), tracking)

    def _insert_received_many(self, system: str, event_ids: list[str], now: datetime) -> set[str]:
        rows, put = self._received.committed, self._received.put
        new: set[str] = set()
        for event_id in event_ids:
            if (system, event_id) not in rows:
                put((system, event_id), now)
                new.add(event_id)
        return new

    def _get_applied_many(self, keys: list[str]) -> dict[str, int]:
        rows = self._applied.committed
        return {key: rows[key] for key in keys if key in rows}

    def _put_applied_many(self, versions: dict[str, int]) -> None:
        put = self._applied.put
        for key, version in versions.items():
            put(key, version)

    def _xref_ids(self, kind: str, system: str, canonical_keys: list[str]) -> dict[str, str]:
        rows = self._xref_by_key.committed
        entries = [rows.get((kind, system, key)) for key in canonical_keys]
        return {entry.canonical_key: entry.external_id for entry in entries if entry is not None}

    def _xref_keys(self, kind: str, system: str, external_ids: list[str]) -> dict[str, str]:
        rows = self._xref_by_id.committed
        entries = [rows.get((kind, system, external_id)) for external_id in external_ids]
        return {entry.external_id: entry.canonical_key for entry in entries if entry is not None}

    def _next_number(self, counter: str) -> int:
        number = (self._counters.get(counter) or 0) + 1
        self._counters.put(counter, number)
        return number

    def _get_exception(self, exception_id: str) -> ExceptionItem | None:
        return self._exceptions.get(exception_id)

    def _find_exception(self, flow: str, message_id: str) -> ExceptionItem | None:
        exception_id = self._exception_index.get((flow, message_id))
        return self._exceptions.get(exception_id) if exception_id else None

    def _put_exception(self, item: ExceptionItem) -> None:
        self._exceptions.put(item.id, item)
        self._exception_index.put((item.flow, item.message_id), item.id)

    def _all_exceptions(self) -> list[ExceptionItem]:
        return self._exceptions.values()

    def _put_dead_letter(self, letter: DeadLetter) -> None:
        self._dead_letters.put(letter.id, letter)

    def _all_dead_letters(self) -> list[DeadLetter]:
        return self._dead_letters.values()

    def _get_dead_letter(self, letter_id: str) -> DeadLetter | None:
        return self._dead_letters.get(letter_id)

    def _set_dead_letter_status(self, letter_id: str, status: DeadLetterStatus) -> None:
        letter = self._dead_letters.get(letter_id)
        if letter is not None:
            self._dead_letters.put(letter_id, replace(letter, status=status))

    def _all_tracking(self) -> list[Tracking]:
        return self._tracking.values()

    def _all_received(self) -> list[ReceivedId]:
        return [ReceivedId(system, event_id, received_at)
                for (system, event_id), received_at in self._received.items()]

    def _all_xrefs(self) -> list[XrefEntry]:
        return self._xref_by_id.values()

    def _all_counters(self) -> dict[str, int]:
        return dict(self._counters.items())

    def _put_counter(self, counter: str, value: int) -> None:
        self._counters.put(counter, value)

    def _all_cursors(self) -> dict[str, str]:
        return dict(self._cursors.items())

    def _all_applied(self) -> dict[str, int]:
        return dict(self._applied.items())

    def _get_cursor(self, system: str) -> str | None:
        return self._cursors.get(system)

    def _put_cursor(self, system: str, cursor: str) -> None:
        self._cursors.put(system, cursor)

    def _get_applied(self, key: str) -> int | None:
        return self._applied.get(key)

    def _put_applied(self, key: str, version: int) -> None:
        self._applied.put(key, version)
