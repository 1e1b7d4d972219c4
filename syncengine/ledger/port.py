"""The ledger port: the engine's own durable records, written in units of work.

A handler's effects on the ledger (cross-references, applied versions) and the tracking record that
says it ran commit in one unit of work, or not at all (eventsourcing's `Follower.process_event`):

    with ledger.unit_of_work():
        if not ledger.already_processed(system, source_id, version, handler):
            ... handler writes xrefs ...
            ledger.record_processed(Tracking(...))

The batch operations (`processed_among`, `record_processed_many`, `record_received_many`,
`applied_versions`, `set_applied_versions`, `external_ids`, `link_many`) do for many records what
their single forms do for one, in one statement each on a database ledger: a bulk approval's hundred
messages cost a handful of round trips instead of a dozen each.

Units of work nest: an inner one joins the outer, which alone commits. Every public write outside
a unit of work runs in its own. Each method checks everything before it writes, so an error raised
by one leaves nothing half-written. Units of work are per thread; an adapter with one connection
serialises threads with its lock, one with a connection per thread (PostgreSQL) lets them run.
"""

from __future__ import annotations

import abc
from dataclasses import replace
from datetime import datetime
from typing import Any

from syncengine.ledger.batch import LedgerBatches, TrackingKey
from syncengine.ledger.records import (
    DeadLetter,
    DeadLetterStatus,
    DuplicateTracking,
    ExceptionItem,
    ExceptionStatus,
    LedgerContents,
    LedgerError,
    ReceivedId,
    Tracking,
    XrefConflict,
    XrefEntry,
)
from syncengine.ledger.work import standalone

__all__ = ["AbstractLedger", "TrackingKey", "standalone"]


class AbstractLedger(LedgerBatches):
    """Tracking, id cross-reference, exception queue, dead letters, feed cursors, applied versions."""

    def close(self) -> None:
        """Release the adapter's resources."""

    # -- tracking and intake dedupe --------------------------------------------------------------

    @standalone
    def already_processed(self, system: str, source_id: str, source_version: int, handler: str) -> bool:
        """Tell whether `handler` already processed this version of this source record."""
        with self._lock:
            return self._has_tracking(system, source_id, source_version, handler)

    @standalone
    def record_processed(self, tracking: Tracking) -> None:
        """Record that a handler processed a message; raise DuplicateTracking when it already did."""
        with self.unit_of_work():
            if self._has_tracking(tracking.system, tracking.source_id, tracking.source_version, tracking.handler):
                raise DuplicateTracking(f"{tracking.handler} already processed {tracking.system} "
                                        f"{tracking.source_id} v{tracking.source_version}")
            self._insert_tracking(tracking)

    @standalone
    def record_received(self, system: str, event_id: str, now: datetime) -> bool:
        """Record an inbound event id; tell whether it is new (False: a duplicate delivery)."""
        with self.unit_of_work():
            return self._insert_received(system, event_id, now)

    # -- id cross-reference ----------------------------------------------------------------------

    @standalone
    def link(self, kind: str, system: str, external_id: str, canonical_key: str) -> None:
        """Link one system's id of a `kind` to a canonical key (idempotent; raise XrefConflict on a clash)."""
        with self.unit_of_work():
            linked_key = self._xref_key(kind, system, external_id)
            if linked_key == canonical_key:
                return
            if linked_key is not None:
                raise XrefConflict(f"{system} {kind} {external_id} is already linked to {linked_key}, "
                                   f"not {canonical_key}")
            linked_id = self._xref_id(kind, system, canonical_key)
            if linked_id is not None:
                raise XrefConflict(f"{canonical_key} already has {system} {kind} {linked_id}, not {external_id}")
            self._insert_xref(XrefEntry(kind, system, external_id, canonical_key))

    @standalone
    def canonical_key(self, kind: str, system: str, external_id: str) -> str | None:
        """Return the canonical key one system's id is linked to."""
        with self._lock:
            return self._xref_key(kind, system, external_id)

    @standalone
    def external_id(self, kind: str, system: str, canonical_key: str) -> str | None:
        """Return one system's id of a `kind` linked to a canonical key."""
        with self._lock:
            return self._xref_id(kind, system, canonical_key)

    @standalone
    def links(self, canonical_key: str) -> list[XrefEntry]:
        """Return every id linked to a canonical key, sorted by system, kind and id."""
        with self._lock:
            return sorted(self._xref_entries(canonical_key), key=lambda e: (e.system, e.kind, e.external_id))

    # -- exception queue -------------------------------------------------------------------------

    @standalone
    def record_exception(self, *, flow: str, key: str, message_id: str, reason: str, detail: str,
                         payload: dict[str, Any], now: datetime) -> ExceptionItem:
        """Queue a refused message; the same message refused again reopens and counts on its item."""
        with self.unit_of_work():
            existing = self._find_exception(flow, message_id)
            if existing is not None:
                item = replace(existing, key=key, reason=reason, detail=detail, payload=payload, last_seen=now,
                               attempts=existing.attempts + 1, status=ExceptionStatus.OPEN)
            else:
                number = self._next_number("exceptions")
                item = ExceptionItem(f"EXC-{number:06d}", flow, key, message_id, reason, detail, payload,
                                     now, now, 1, ExceptionStatus.OPEN)
            self._put_exception(item)
            return item

    @standalone
    def exception(self, exception_id: str) -> ExceptionItem:
        """Return one exception; raise LedgerError when there is none with that id."""
        with self._lock:
            item = self._get_exception(exception_id)
        if item is None:
            raise LedgerError(f"no exception {exception_id!r}")
        return item

    @standalone
    def exceptions(self, status: ExceptionStatus | None = None, flow: str | None = None) -> list[ExceptionItem]:
        """Return exceptions in the order they were first raised, optionally by status and flow."""
        with self._lock:
            items = self._all_exceptions()
        return sorted((item for item in items if (status is None or item.status == status)
                       and (flow is None or item.flow == flow)), key=lambda item: _number(item.id))

    @standalone
    def redrive_exception(self, exception_id: str, now: datetime) -> ExceptionItem:
        """Mark an OPEN exception as re-driven; the caller hands its payload back to the engine."""
        with self.unit_of_work():
            item = self.exception(exception_id)
            if item.status != ExceptionStatus.OPEN:
                raise LedgerError(f"exception {exception_id} is {item.status}, only an OPEN one can be re-driven")
            item = replace(item, status=ExceptionStatus.REDRIVEN, last_seen=now)
            self._put_exception(item)
            return item

    @standalone
    def resolve_exception(self, exception_id: str, now: datetime) -> ExceptionItem:
        """Mark an exception as resolved (its message went through, or an operator closed it)."""
        with self.unit_of_work():
            item = replace(self.exception(exception_id), status=ExceptionStatus.RESOLVED, last_seen=now)
            self._put_exception(item)
            return item

    # -- dead letters ----------------------------------------------------------------------------

    @standalone
    def dead_letter(self, *, flow: str, key: str, message_id: str, reason: str, detail: str,
                    payload: dict[str, Any], now: datetime) -> DeadLetter:
        """Keep a message that could not be handled."""
        with self.unit_of_work():
            number = self._next_number("dead_letters")
            letter = DeadLetter(f"DLQ-{number:06d}", flow, key, message_id, reason, detail, payload, now)
            self._put_dead_letter(letter)
            return letter

    @standalone
    def dead_letters(self, status: DeadLetterStatus | None = None) -> list[DeadLetter]:
        """Return the dead letters in the order they arrived, optionally by status."""
        with self._lock:
            letters = self._all_dead_letters()
        return sorted((letter for letter in letters if status is None or letter.status == status),
                      key=lambda letter: _number(letter.id))

    @standalone
    def dead_letter_by_id(self, letter_id: str) -> DeadLetter:
        """Return one dead letter; raise LedgerError when there is none with that id."""
        with self._lock:
            letter = self._get_dead_letter(letter_id)
        if letter is None:
            raise LedgerError(f"no dead letter {letter_id!r}")
        return letter

    @standalone
    def redrive_dead_letter(self, letter_id: str) -> DeadLetter:
        """Mark an OPEN dead letter as re-driven; the caller hands its payload back to the engine."""
        with self.unit_of_work():
            letter = self.dead_letter_by_id(letter_id)
            if letter.status != DeadLetterStatus.OPEN:
                raise LedgerError(f"dead letter {letter_id} is {letter.status}, only an OPEN one can be re-driven")
            letter = replace(letter, status=DeadLetterStatus.REDRIVEN)
            self._set_dead_letter_status(letter_id, letter.status)
            return letter

    # -- feed cursors and applied versions -------------------------------------------------------

    @standalone
    def cursor(self, system: str) -> str | None:
        """Return the feed cursor of a system (None: read from the beginning)."""
        with self._lock:
            return self._get_cursor(system)

    @standalone
    def set_cursor(self, system: str, cursor: str) -> None:
        """Store the feed cursor of a system."""
        with self.unit_of_work():
            self._put_cursor(system, cursor)

    @standalone
    def applied_version(self, key: str) -> int | None:
        """Return the last version applied for a key (version-aware flows), None if none yet."""
        with self._lock:
            return self._get_applied(key)

    @standalone
    def set_applied_version(self, key: str, version: int) -> None:
        """Store the last version applied for a key."""
        with self.unit_of_work():
            self._put_applied(key, version)

    # -- everything at once: a copy to another ledger ----------------------------------------------

    @standalone
    def contents(self) -> LedgerContents:
        """Return every record the ledger holds, read in one unit of work."""
        with self.unit_of_work():
            return LedgerContents(
                tracking=tuple(self._all_tracking()), received=tuple(self._all_received()),
                xrefs=tuple(self._all_xrefs()), counters=self._all_counters(),
                exceptions=tuple(self._all_exceptions()), dead_letters=tuple(self._all_dead_letters()),
                cursors=self._all_cursors(), applied_versions=self._all_applied())

    @standalone
    def load(self, contents: LedgerContents) -> None:
        """Write every record of `contents` into this ledger, which must be empty, in one unit of work."""
        with self.unit_of_work():
            if not self.contents().is_empty():
                raise LedgerError("a ledger can only be loaded while it is empty, and this one holds records")
            if contents.tracking:
                self._insert_trackings(list(contents.tracking))
            for (system, received_at), event_ids in _received_by_system_and_time(contents.received).items():
                self._insert_received_many(system, event_ids, received_at)
            if contents.xrefs:
                self._insert_xrefs(list(contents.xrefs))
            for name, value in contents.counters.items():
                self._put_counter(name, value)
            for item in contents.exceptions:
                self._put_exception(item)
            for letter in contents.dead_letters:
                self._put_dead_letter(letter)
            for system, cursor in contents.cursors.items():
                self._put_cursor(system, cursor)
            if contents.applied_versions:
                self._put_applied_many(dict(contents.applied_versions))

    def copy_to(self, target: AbstractLedger) -> None:
        """Copy every record of this ledger into `target`, an empty ledger of any adapter.

        A simulated run keeps its ledger in memory and leaves it in a SQLite file at the end this way."""
        target.load(self.contents())

    # -- what an adapter provides (besides the single forms of `LedgerBatches`) ---------------------

    @abc.abstractmethod
    def _all_tracking(self) -> list[Tracking]: ...

    @abc.abstractmethod
    def _all_received(self) -> list[ReceivedId]: ...

    @abc.abstractmethod
    def _all_xrefs(self) -> list[XrefEntry]: ...

    @abc.abstractmethod
    def _all_counters(self) -> dict[str, int]: ...

    @abc.abstractmethod
    def _put_counter(self, counter: str, value: int) -> None: ...

    @abc.abstractmethod
    def _all_cursors(self) -> dict[str, str]: ...

    @abc.abstractmethod
    def _all_applied(self) -> dict[str, int]: ...

    @abc.abstractmethod
    def _xref_entries(self, canonical_key: str) -> list[XrefEntry]: ...

    @abc.abstractmethod
    def _next_number(self, counter: str) -> int: ...

    @abc.abstractmethod
    def _get_exception(self, exception_id: str) -> ExceptionItem | None: ...

    @abc.abstractmethod
    def _find_exception(self, flow: str, message_id: str) -> ExceptionItem | None: ...

    @abc.abstractmethod
    def _put_exception(self, item: ExceptionItem) -> None: ...

    @abc.abstractmethod
    def _all_exceptions(self) -> list[ExceptionItem]: ...

    @abc.abstractmethod
    def _put_dead_letter(self, letter: DeadLetter) -> None: ...

    @abc.abstractmethod
    def _all_dead_letters(self) -> list[DeadLetter]: ...

    @abc.abstractmethod
    def _get_dead_letter(self, letter_id: str) -> DeadLetter | None: ...

    @abc.abstractmethod
    def _set_dead_letter_status(self, letter_id: str, status: DeadLetterStatus) -> None: ...

    @abc.abstractmethod
    def _get_cursor(self, system: str) -> str | None: ...

    @abc.abstractmethod
    def _put_cursor(self, system: str, cursor: str) -> None: ...


def _received_by_system_and_time(received: tuple[ReceivedId, ...]) -> dict[tuple[str, datetime], list[str]]:
    groups: dict[tuple[str, datetime], list[str]] = {}
    for record in received:
        groups.setdefault((record.system, record.received_at), []).append(record.event_id)
    return groups


def _number(record_id: str) -> int:
    return int(record_id.rsplit("-", 1)[1])
