"""The SQLite ledger (stdlib sqlite3): one connection per ledger, WAL, one transaction per unit of work."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.records import (
    DeadLetter,
    DeadLetterStatus,
    DuplicateTracking,
    ExceptionItem,
    ExceptionStatus,
    LedgerError,
    ReceivedId,
    Tracking,
    XrefEntry,
)
from syncengine.ledger.work import standalone

SCHEMA = """
CREATE TABLE IF NOT EXISTS tracking (
    system TEXT NOT NULL, source_id TEXT NOT NULL, source_version INTEGER NOT NULL, handler TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (system, source_id, source_version, handler));
CREATE TABLE IF NOT EXISTS received (
    system TEXT NOT NULL, event_id TEXT NOT NULL, received_at TEXT NOT NULL,
    PRIMARY KEY (system, event_id));
CREATE TABLE IF NOT EXISTS xref (
    kind TEXT NOT NULL, system TEXT NOT NULL, external_id TEXT NOT NULL, canonical_key TEXT NOT NULL,
    PRIMARY KEY (kind, system, external_id),
    UNIQUE (kind, system, canonical_key));
CREATE INDEX IF NOT EXISTS xref_by_key ON xref (canonical_key);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS exceptions (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL, flow TEXT NOT NULL, key TEXT NOT NULL,
    message_id TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, payload TEXT NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, attempts INTEGER NOT NULL, status TEXT NOT NULL,
    UNIQUE (flow, message_id));
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL, flow TEXT NOT NULL, key TEXT NOT NULL,
    message_id TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, payload TEXT NOT NULL,
    time TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'OPEN');
CREATE TABLE IF NOT EXISTS cursors (system TEXT PRIMARY KEY, cursor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applied_versions (key TEXT PRIMARY KEY, version INTEGER NOT NULL);
"""

_EXCEPTION_COLUMNS = ("id, flow, key, message_id, reason, detail, payload, first_seen, last_seen, attempts, "
                      "status")
_DEAD_LETTER_COLUMNS = "id, flow, key, message_id, reason, detail, payload, time, status"


CHUNK = 200
"""Rows per statement of a batch operation (SQLite allows 32,766 parameters)."""


STATEMENT_CACHE = 2048
"""Prepared statements a connection keeps: a batch statement's text differs per row count (up to CHUNK), so
five kinds of batch make ~1,000 texts, and sqlite3's default of 128 had most of them compiled again each time."""


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _marks(count: int, width: int = 1) -> str:
    row = "?" if width == 1 else "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * count)


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def _exception(row: sqlite3.Row) -> ExceptionItem:
    return ExceptionItem(row["id"], row["flow"], row["key"], row["message_id"], row["reason"], row["detail"],
                         json.loads(row["payload"]), datetime.fromisoformat(row["first_seen"]),
                         datetime.fromisoformat(row["last_seen"]), row["attempts"], ExceptionStatus(row["status"]))


def _dead_letter(row: sqlite3.Row) -> DeadLetter:
    return DeadLetter(row["id"], row["flow"], row["key"], row["message_id"], row["reason"], row["detail"],
                      json.loads(row["payload"]), datetime.fromisoformat(row["time"]),
                      DeadLetterStatus(row["status"]))


class SqliteLedger(AbstractLedger):
    """A ledger in one SQLite file (or `:memory:`), safe to reopen after a restart."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                           cached_statements=STATEMENT_CACHE)
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA busy_timeout=5000")
        self._connection.executescript(SCHEMA)
        columns = {row["name"] for row in self._execute("PRAGMA table_info(dead_letters)")}
        if "status" not in columns:  # a ledger written before dead letters could be re-driven
            self._execute("ALTER TABLE dead_letters ADD COLUMN status TEXT NOT NULL DEFAULT 'OPEN'")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._connection.close()

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._connection.execute(sql, parameters)

    def _one(self, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._execute(sql, parameters).fetchone()
        return row

    def _begin(self) -> None:
        self._execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._execute("COMMIT")

    def _rollback(self) -> None:
        self._execute("ROLLBACK")

    def _has_tracking(self, system: str, source_id: str, source_version: int, handler: str) -> bool:
        return self._one("SELECT 1 FROM tracking WHERE system=? AND source_id=? AND source_version=? AND handler=?",
                         (system, source_id, source_version, handler)) is not None

    def _insert_tracking(self, tracking: Tracking) -> None:
        self._execute("INSERT INTO tracking VALUES (?, ?, ?, ?, ?)",
                      (tracking.system, tracking.source_id, tracking.source_version, tracking.handler,
                       tracking.processed_at.isoformat()))

    def _insert_received(self, system: str, event_id: str, now: datetime) -> bool:
        cursor = self._execute("INSERT INTO received VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               (system, event_id, now.isoformat()))
        return cursor.rowcount == 1

    def _xref_key(self, kind: str, system: str, external_id: str) -> str | None:
        row = self._one("SELECT canonical_key FROM xref WHERE kind=? AND system=? AND external_id=?",
                        (kind, system, external_id))
        return str(row[0]) if row else None

    def _xref_id(self, kind: str, system: str, canonical_key: str) -> str | None:
        row = self._one("SELECT external_id FROM xref WHERE kind=? AND system=? AND canonical_key=?",
                        (kind, system, canonical_key))
        return str(row[0]) if row else None

    def _xref_entries(self, canonical_key: str) -> list[XrefEntry]:
        rows = self._execute("SELECT kind, system, external_id, canonical_key FROM xref WHERE canonical_key=?",
                             (canonical_key,)).fetchall()
        return [XrefEntry(*row) for row in rows]

    def _insert_xref(self, entry: XrefEntry) -> None:
        self._execute("INSERT INTO xref VALUES (?, ?, ?, ?)",
                      (entry.kind, entry.system, entry.external_id, entry.canonical_key))

    # -- batch forms -----------------------------------------------------------------------------

    @standalone
    def record_processed_many(self, trackings: Sequence[Tracking]) -> None:
        """Record several processed messages; raise DuplicateTracking, recording none, when any already was.

        One statement: the insert's count of new rows tells a duplicate (one already tracked, or the same
        message twice in the batch), without a look-up first: the dispatcher has just asked
        `processed_among` in the same unit of work, and the look-up cost a third of the batch's tracking."""
        if not trackings:
            return
        with self.unit_of_work():
            self._insert_trackings(list(trackings))

    def _tracking_among(self, keys: list[tuple[str, str, int, str]]) -> set[tuple[str, str, int, str]]:
        found: set[tuple[str, str, int, str]] = set()
        for chunk in _chunks(keys):
            # a join from the keys, so each is a search of the primary key: SQLite answers a row-value
            # `IN (VALUES ...)` by scanning the whole table (a full year of tracking per batch)
            rows = self._execute("SELECT t.system, t.source_id, t.source_version, t.handler "
                                 f"FROM (VALUES {_marks(len(chunk), 4)}) AS k JOIN tracking AS t "
                                 "ON t.system = k.column1 AND t.source_id = k.column2 "
                                 "AND t.source_version = k.column3 AND t.handler = k.column4",
                                 tuple(value for key in chunk for value in key)).fetchall()
            found.update((row[0], row[1], row[2], row[3]) for row in rows)
        return found

    def _insert_trackings(self, trackings: list[Tracking]) -> None:
        instants: dict[datetime, str] = {}  # a batch's records mostly share one instant: format it once
        for tracking in trackings:
            if tracking.processed_at not in instants:
                instants[tracking.processed_at] = tracking.processed_at.isoformat()
        cursor = self._connection.executemany("INSERT INTO tracking VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", [
            (tracking.system, tracking.source_id, tracking.source_version, tracking.handler,
             instants[tracking.processed_at]) for tracking in trackings])
        if cursor.rowcount != len(trackings):  # the unit of work that raises rolls back the ones inserted
            raise DuplicateTracking(f"{len(trackings) - cursor.rowcount} of {len(trackings)} messages were "
                                    "already processed")

    def _insert_received_many(self, system: str, event_ids: list[str], now: datetime) -> set[str]:
        new: set[str] = set()
        received_at = now.isoformat()
        for chunk in _chunks(event_ids):
            rows = self._execute(f"INSERT INTO received VALUES {_marks(len(chunk), 3)} ON CONFLICT DO NOTHING "
                                 "RETURNING event_id",
                                 tuple(value for event_id in chunk for value in (system, event_id, received_at)))
            new.update(str(row[0]) for row in rows.fetchall())
        return new

    def _get_applied_many(self, keys: list[str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        for chunk in _chunks(keys):
            rows = self._execute(f"SELECT key, version FROM applied_versions WHERE key IN ({_marks(len(chunk))})",
                                 tuple(chunk)).fetchall()
            versions.update((str(row[0]), int(row[1])) for row in rows)
        return versions

    def _put_applied_many(self, versions: dict[str, int]) -> None:
        self._connection.executemany("INSERT INTO applied_versions VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                                     "version=excluded.version", list(versions.items()))

    def _xref_ids(self, kind: str, system: str, canonical_keys: list[str]) -> dict[str, str]:
        return self._xref_lookup("canonical_key, external_id", "canonical_key", kind, system, canonical_keys)

    def _xref_keys(self, kind: str, system: str, external_ids: list[str]) -> dict[str, str]:
        return self._xref_lookup("external_id, canonical_key", "external_id", kind, system, external_ids)

    def _xref_lookup(self, columns: str, by: str, kind: str, system: str, values: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(values):
            rows = self._execute(f"SELECT {columns} FROM xref WHERE kind=? AND system=? AND {by} IN "
                                 f"({_marks(len(chunk))})", (kind, system, *chunk)).fetchall()
            found.update((str(row[0]), str(row[1])) for row in rows)
        return found

    def _insert_xrefs(self, entries: list[XrefEntry]) -> None:
        self._connection.executemany("INSERT INTO xref VALUES (?, ?, ?, ?)", [
            (entry.kind, entry.system, entry.external_id, entry.canonical_key) for entry in entries])

    # -- counters, exceptions, dead letters, cursors, applied versions ---------------------------

    def _next_number(self, counter: str) -> int:
        row = self._one("INSERT INTO counters VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 "
                        "RETURNING value", (counter,))
        if row is None:
            raise LedgerError(f"counter {counter!r} returned no value")
        return int(row[0])

    def _get_exception(self, exception_id: str) -> ExceptionItem | None:
        row = self._one(f"SELECT {_EXCEPTION_COLUMNS} FROM exceptions WHERE id=?", (exception_id,))
        return _exception(row) if row else None

    def _find_exception(self, flow: str, message_id: str) -> ExceptionItem | None:
        row = self._one(f"SELECT {_EXCEPTION_COLUMNS} FROM exceptions WHERE flow=? AND message_id=?",
                        (flow, message_id))
        return _exception(row) if row else None

    def _put_exception(self, item: ExceptionItem) -> None:
        self._execute(
            "INSERT INTO exceptions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "key=excluded.key, reason=excluded.reason, detail=excluded.detail, payload=excluded.payload, "
            "last_seen=excluded.last_seen, attempts=excluded.attempts, status=excluded.status",
            (item.id, int(item.id.rsplit("-", 1)[1]), item.flow, item.key, item.message_id, item.reason,
             item.detail, _dump(item.payload), item.first_seen.isoformat(), item.last_seen.isoformat(),
             item.attempts, item.status.value))

    def _all_exceptions(self) -> list[ExceptionItem]:
        rows = self._execute(f"SELECT {_EXCEPTION_COLUMNS} FROM exceptions ORDER BY number").fetchall()
        return [_exception(row) for row in rows]

    def _put_dead_letter(self, letter: DeadLetter) -> None:
        self._execute(f"INSERT INTO dead_letters (number, {_DEAD_LETTER_COLUMNS}) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (int(letter.id.rsplit("-", 1)[1]), letter.id, letter.flow, letter.key, letter.message_id,
                       letter.reason, letter.detail, _dump(letter.payload), letter.time.isoformat(),
                       letter.status.value))

    def _all_dead_letters(self) -> list[DeadLetter]:
        rows = self._execute(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters ORDER BY number").fetchall()
        return [_dead_letter(row) for row in rows]

    def _get_dead_letter(self, letter_id: str) -> DeadLetter | None:
        row = self._one(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id=?", (letter_id,))
        return _dead_letter(row) if row else None

    def _set_dead_letter_status(self, letter_id: str, status: DeadLetterStatus) -> None:
        self._execute("UPDATE dead_letters SET status=? WHERE id=?", (status.value, letter_id))

    # -- every record, for a copy ----------------------------------------------------------------

    def _all_tracking(self) -> list[Tracking]:
        rows = self._execute("SELECT system, source_id, source_version, handler, processed_at FROM tracking")
        return [Tracking(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4])) for row in rows]

    def _all_received(self) -> list[ReceivedId]:
        rows = self._execute("SELECT system, event_id, received_at FROM received")
        return [ReceivedId(row[0], row[1], datetime.fromisoformat(row[2])) for row in rows]

    def _all_xrefs(self) -> list[XrefEntry]:
        return [XrefEntry(*row) for row in self._execute("SELECT kind, system, external_id, canonical_key FROM xref")]

    def _all_counters(self) -> dict[str, int]:
        return {str(row[0]): int(row[1]) for row in self._execute("SELECT name, value FROM counters")}

    def _put_counter(self, counter: str, value: int) -> None:
        self._execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value=excluded.value",
                      (counter, value))

    def _all_cursors(self) -> dict[str, str]:
        return {str(row[0]): str(row[1]) for row in self._execute("SELECT system, cursor FROM cursors")}

    def _all_applied(self) -> dict[str, int]:
        return {str(row[0]): int(row[1]) for row in self._execute("SELECT key, version FROM applied_versions")}

    def _get_cursor(self, system: str) -> str | None:
        row = self._one("SELECT cursor FROM cursors WHERE system=?", (system,))
        return str(row[0]) if row else None

    def _put_cursor(self, system: str, cursor: str) -> None:
        self._execute("INSERT INTO cursors VALUES (?, ?) ON CONFLICT (system) DO UPDATE SET cursor=excluded.cursor",
                      (system, cursor))

    def _get_applied(self, key: str) -> int | None:
        row = self._one("SELECT version FROM applied_versions WHERE key=?", (key,))
        return int(row[0]) if row else None

    def _put_applied(self, key: str, version: int) -> None:
        self._execute("INSERT INTO applied_versions VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                      "version=excluded.version", (key, version))
