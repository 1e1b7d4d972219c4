"""The PostgreSQL ledger (psycopg 3): a connection per thread, one transaction per unit of work.

Any number of processes share one schema. Tracking, received event ids and cross-references are
inserted with ON CONFLICT, so a concurrent duplicate is detected rather than applied; the
read-modify-writes (exception queue, applied versions, counters) lock their row or key for the
rest of their transaction.

How a lost connection is recovered without applying anything twice: `postgres_session`.

`?synchronous_commit=off` on the store URL has the ledger's sessions commit without waiting for the
WAL to reach disk (PostgreSQL's `synchronous_commit`): a commit costs no disk flush wait, and a
worker or connection that dies loses nothing. What a crash of the PostgreSQL server itself (or its
machine) can lose is the last commits before it, up to three `wal_writer_delay`s (0.6 s by
default), while the workers already acked their bus messages. The ERP's dedupe still holds: an
item posted again is answered 409 with the transaction that holds its `external_id`, and a retried
call is replayed by its Idempotency-Key, so nothing is posted twice when those messages come again
(from a feed whose cursor went back with them). But where the feed's cursor survived and a handler's
commit did not, its messages do not come again and the ledger forgets what it did: a posting's
cross-reference (a later correction of that entry then does not reverse it, billing it twice), an
exception or a dead letter. Replaying the feeds from before the crash (`firmsim engine replay`) links
again what it posts again (409 names the existing transaction), unless a correction of that entry
ran in between. Off by default.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from syncengine.ledger.port import AbstractLedger, standalone
from syncengine.ledger.postgres_batch import PostgresBatches
from syncengine.ledger.postgres_session import PostgresSession
from syncengine.ledger.records import (
    DeadLetter,
    DeadLetterStatus,
    DuplicateTracking,
    ExceptionItem,
    ExceptionStatus,
    LedgerError,
    ReceivedId,
    Tracking,
    XrefConflict,
    XrefEntry,
)

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

TABLES = """
CREATE TABLE IF NOT EXISTS tracking (
    system text NOT NULL, source_id text NOT NULL, source_version bigint NOT NULL, handler text NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (system, source_id, source_version, handler));
CREATE TABLE IF NOT EXISTS received (
    system text NOT NULL, event_id text NOT NULL, received_at timestamptz NOT NULL,
    PRIMARY KEY (system, event_id));
CREATE TABLE IF NOT EXISTS xref (
    kind text NOT NULL, system text NOT NULL, external_id text NOT NULL, canonical_key text NOT NULL,
    PRIMARY KEY (kind, system, external_id),
    UNIQUE (kind, system, canonical_key));
CREATE INDEX IF NOT EXISTS xref_by_key ON xref (canonical_key);
CREATE TABLE IF NOT EXISTS counters (name text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE IF NOT EXISTS exceptions (
    id text PRIMARY KEY, number bigint NOT NULL, flow text NOT NULL, key text NOT NULL,
    message_id text NOT NULL, reason text NOT NULL, detail text NOT NULL, payload jsonb NOT NULL,
    first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL, attempts integer NOT NULL,
    status text NOT NULL,
    UNIQUE (flow, message_id));
CREATE TABLE IF NOT EXISTS dead_letters (
    id text PRIMARY KEY, number bigint NOT NULL, flow text NOT NULL, key text NOT NULL,
    message_id text NOT NULL, reason text NOT NULL, detail text NOT NULL, payload jsonb NOT NULL,
    time timestamptz NOT NULL, status text NOT NULL DEFAULT 'OPEN');
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'OPEN';
CREATE TABLE IF NOT EXISTS cursors (system text PRIMARY KEY, cursor text NOT NULL);
CREATE TABLE IF NOT EXISTS applied_versions (key text PRIMARY KEY, version bigint NOT NULL);
"""

_EXCEPTION_COLUMNS = ("id, flow, key, message_id, reason, detail, payload, first_seen, last_seen, attempts, "
                      "status")
_DEAD_LETTER_COLUMNS = "id, flow, key, message_id, reason, detail, payload, time, status"


def _exception(row: tuple[Any, ...]) -> ExceptionItem:
    return ExceptionItem(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
                         ExceptionStatus(row[10]))


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], DeadLetterStatus(row[8]))


def _number(record_id: str) -> int:
    return int(record_id.rsplit("-", 1)[1])


def split_store_url(store_url: str) -> tuple[str, str]:
    """Split `postgresql://…[?schema=name][&synchronous_commit=off]` into the connection URL and the
    schema (default firmsim); `synchronous_commit` becomes the connection option that sets it."""
    parts = urlsplit(store_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for name, value in query if name == "schema"), "firmsim")
    rest = [(name, value) for name, value in query if name not in ("schema", "synchronous_commit")]
    for name, value in query:
        if name != "synchronous_commit":
            continue
        if value.lower() not in ("on", "off"):
            raise ValueError(f"synchronous_commit: expected on or off, got {value!r}")
        options = [option for key, option in rest if key == "options"]
        rest = [(key, option) for key, option in rest if key != "options"]
        rest.append(("options", " ".join([*options, f"-c synchronous_commit={value.lower()}"])))
    query_text = urlencode(rest, quote_via=quote)  # libpq reads %20 as a space, but not "+"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query_text, parts.fragment)), schema


class PostgresLedger(PostgresSession, PostgresBatches, AbstractLedger):
    """A ledger in one PostgreSQL schema, shared by every thread and process that opens it."""

    def __init__(self, url: str, *, schema: str = "firmsim", retry_attempts: int = 6,
                 retry_base_s: float = 0.05, connect_timeout_s: int = 5) -> None:
        super().__init__()
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"schema: expected a lower-case SQL name ([a-z_][a-z0-9_]*), got {schema!r}")
        if retry_attempts < 1:
            raise ValueError("retry_attempts must be >= 1")
        self.url = url
        self.schema = schema
        self.retry_attempts = retry_attempts
        self.retry_base_s = retry_base_s
        self.connect_timeout_s = connect_timeout_s
        self.application_name = f"firmsim-ledger:{schema}"
        self.lost_connections = 0
        self.statements = 0
        self._lock = nullcontext()
        self._connections: list[psycopg.Connection[Any]] = []
        self._registry = threading.Lock()
        self._links = {}
        # A wrong URL or a database that is down should be told at once, not after a long retry.
        self._retry_standalone(self._create_tables, attempts=2)

    def close(self) -> None:
        """Close every connection this ledger opened."""
        with self._registry:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def _create_tables(self) -> None:
        with self.unit_of_work():
            # Several processes may start at once: CREATE ... IF NOT EXISTS is not safe when they race.
            self._execute("SELECT pg_advisory_xact_lock(hashtext('firmsim.ledger.schema'))")
            self._execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            self._execute(TABLES)

    @standalone
    def record_processed(self, tracking: Tracking) -> None:
        """Record that a handler processed a message; raise DuplicateTracking when it already did."""
        with self.unit_of_work():  # one round trip: the insert itself tells a duplicate
            self._insert_tracking(tracking)

    @standalone
    def record_processed_many(self, trackings: Sequence[Tracking]) -> None:
        """Record several processed messages; raise DuplicateTracking, recording none, when any already was."""
        if not trackings:
            return
        with self.unit_of_work():  # one round trip: the insert's row count tells a duplicate
            self._insert_trackings(list(trackings))

    @standalone
    def link_many(self, entries: Sequence[XrefEntry]) -> None:
        """Link several ids as `link` does each (idempotent); raise XrefConflict, linking none, on a clash."""
        if not entries:
            return
        with self.unit_of_work():  # one round trip (`_link_many`)
            self._link_many(entries)

    # -- tracking, received ids, xref ------------------------------------------------------------

    def _has_tracking(self, system: str, source_id: str, source_version: int, handler: str) -> bool:
        return self._one("SELECT 1 FROM tracking WHERE system=%s AND source_id=%s AND source_version=%s "
                         "AND handler=%s", (system, source_id, source_version, handler)) is not None

    def _insert_tracking(self, tracking: Tracking) -> None:
        cursor = self._execute("INSERT INTO tracking VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                               (tracking.system, tracking.source_id, tracking.source_version, tracking.handler,
                                tracking.processed_at))
        if cursor.rowcount != 1:
            raise DuplicateTracking(f"{tracking.handler} already processed {tracking.system} "
                                    f"{tracking.source_id} v{tracking.source_version} (another worker)")

    def _insert_received(self, system: str, event_id: str, now: datetime) -> bool:
        cursor = self._execute("INSERT INTO received VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                               (system, event_id, now))
        return cursor.rowcount == 1

    def _xref_key(self, kind: str, system: str, external_id: str) -> str | None:
        known = self._links.get(("key", kind, system, external_id))
        if known is not None:
            return known
        row = self._one("SELECT canonical_key FROM xref WHERE kind=%s AND system=%s AND external_id=%s",
                        (kind, system, external_id))
        if row is None:
            return None
        self._note_links([(kind, system, external_id, str(row[0]))])
        return str(row[0])

    def _xref_id(self, kind: str, system: str, canonical_key: str) -> str | None:
        known = self._links.get(("id", kind, system, canonical_key))
        if known is not None:
            return known
        row = self._one("SELECT external_id FROM xref WHERE kind=%s AND system=%s AND canonical_key=%s",
                        (kind, system, canonical_key))
        if row is None:
            return None
        self._note_links([(kind, system, str(row[0]), canonical_key)])
        return str(row[0])

    def _xref_entries(self, canonical_key: str) -> list[XrefEntry]:
        rows = self._execute("SELECT kind, system, external_id, canonical_key FROM xref WHERE canonical_key=%s",
                             (canonical_key,)).fetchall()
        return [XrefEntry(*row) for row in rows]

    def _insert_xref(self, entry: XrefEntry) -> None:
        cursor = self._execute("INSERT INTO xref VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                               (entry.kind, entry.system, entry.external_id, entry.canonical_key))
        if cursor.rowcount == 1:
            self._note_links([(entry.kind, entry.system, entry.external_id, entry.canonical_key)])
            return
        # Another worker linked one side first: harmless if it linked the same pair.
        if self._xref_key(entry.kind, entry.system, entry.external_id) != entry.canonical_key:
            raise XrefConflict(f"{entry.system} {entry.kind} {entry.external_id} or {entry.canonical_key} "
                               f"was linked otherwise by another worker")

    # -- counters, exceptions, dead letters ------------------------------------------------------

    def _next_number(self, counter: str) -> int:
        row = self._one("INSERT INTO counters VALUES (%s, 1) ON CONFLICT (name) DO UPDATE "
                        "SET value = counters.value + 1 RETURNING value", (counter,))
        if row is None:
            raise LedgerError(f"counter {counter!r} returned no value")
        return int(row[0])

    def _get_exception(self, exception_id: str) -> ExceptionItem | None:
        lock = " FOR UPDATE" if self._in_transaction else ""
        row = self._one(f"SELECT {_EXCEPTION_COLUMNS} FROM exceptions WHERE id=%s{lock}", (exception_id,))
        return _exception(row) if row else None

    def _find_exception(self, flow: str, message_id: str) -> ExceptionItem | None:
        self._lock_key(f"exception\x1f{flow}\x1f{message_id}")
        row = self._one(f"SELECT {_EXCEPTION_COLUMNS} FROM exceptions WHERE flow=%s AND message_id=%s",
                        (flow, message_id))
        return _exception(row) if row else None

    def _put_exception(self, item: ExceptionItem) -> None:
        self._execute(
            "INSERT INTO exceptions VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) "
            "DO UPDATE SET key=excluded.key, reason=excluded.reason, detail=excluded.detail, "
            "payload=excluded.payload, last_seen=excluded.last_seen, attempts=excluded.attempts, "
            "status=excluded.status",
            (item.id, _number(item.id), item.flow, item.key, item.message_id, item.reason, item.detail,
             Jsonb(item.payload), item.first_seen, item.last_seen, item.attempts, item.status.value))

    def _all_exceptions(self) -> list[ExceptionItem]:
        rows = self._execute(f"SELECT {_EXCEPTION_COLUMNS} FROM exceptions ORDER BY number").fetchall()
        return [_exception(row) for row in rows]

    def _put_dead_letter(self, letter: DeadLetter) -> None:
        self._execute(f"INSERT INTO dead_letters (number, {_DEAD_LETTER_COLUMNS}) "
                      "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                      (_number(letter.id), letter.id, letter.flow, letter.key, letter.message_id, letter.reason,
                       letter.detail, Jsonb(letter.payload), letter.time, letter.status.value))

    def _all_dead_letters(self) -> list[DeadLetter]:
        rows = self._execute(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters ORDER BY number").fetchall()
        return [_dead_letter(row) for row in rows]

    def _get_dead_letter(self, letter_id: str) -> DeadLetter | None:
        lock = " FOR UPDATE" if self._in_transaction else ""
        row = self._one(f"SELECT {_DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id=%s{lock}", (letter_id,))
        return _dead_letter(row) if row else None

    def _set_dead_letter_status(self, letter_id: str, status: DeadLetterStatus) -> None:
        self._execute("UPDATE dead_letters SET status=%s WHERE id=%s", (status.value, letter_id))

    # -- every record, for a copy ----------------------------------------------------------------

    def _all_tracking(self) -> list[Tracking]:
        rows = self._execute("SELECT system, source_id, source_version, handler, processed_at FROM tracking")
        return [Tracking(*row) for row in rows.fetchall()]

    def _all_received(self) -> list[ReceivedId]:
        return [ReceivedId(*row) for row in self._execute("SELECT system, event_id, received_at FROM received")]

    def _all_xrefs(self) -> list[XrefEntry]:
        return [XrefEntry(*row) for row in self._execute("SELECT kind, system, external_id, canonical_key FROM xref")]

    def _all_counters(self) -> dict[str, int]:
        return {str(row[0]): int(row[1]) for row in self._execute("SELECT name, value FROM counters")}

    def _put_counter(self, counter: str, value: int) -> None:
        self._execute("INSERT INTO counters VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value=excluded.value",
                      (counter, value))

    def _all_cursors(self) -> dict[str, str]:
        return {str(row[0]): str(row[1]) for row in self._execute("SELECT system, cursor FROM cursors")}

    def _all_applied(self) -> dict[str, int]:
        return {str(row[0]): int(row[1]) for row in self._execute("SELECT key, version FROM applied_versions")}

    # -- cursors and applied versions ------------------------------------------------------------

    def _get_cursor(self, system: str) -> str | None:
        row = self._one("SELECT cursor FROM cursors WHERE system=%s", (system,))
        return str(row[0]) if row else None

    def _put_cursor(self, system: str, cursor: str) -> None:
        # A feed read's last write before COMMIT: the transaction's id comes back with it (as `_insert_trackings`).
        row = self._one("INSERT INTO cursors VALUES (%s, %s) ON CONFLICT (system) DO UPDATE "
                        "SET cursor=excluded.cursor RETURNING pg_current_xact_id_if_assigned()::text", (system, cursor))
        self._note_transaction_id(row[0] if row else None)

    def _get_applied(self, key: str) -> int | None:
        # A version-aware handler reads then writes: hold the key until its unit of work ends.
        self._lock_key(f"applied\x1f{key}")
        row = self._one("SELECT version FROM applied_versions WHERE key=%s", (key,))
        return int(row[0]) if row else None

    def _put_applied(self, key: str, version: int) -> None:
        self._execute("INSERT INTO applied_versions VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                      "SET version=excluded.version", (key, version))
