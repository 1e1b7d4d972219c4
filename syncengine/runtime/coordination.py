"""Who does what among the distributed workers: feed intake per system and partitions, by lock.

PostgreSQL session-level advisory locks name the owner of each system's intake (exactly one poller
per system at a time) and of each partition (the worker that consumes it). A worker that dies loses
its session, and so its locks, at once; another takes them over. Each worker also holds a membership
lock, so every worker can count the live ones and take its fair share of the partitions, and writes
a heartbeat row that `inspect` reads (what is in flight, what is backing off, what is unread).
The broker's single-active-consumer rule still guards each partition's order while locks move.
"""

from __future__ import annotations

import abc
import contextlib
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from syncengine.ledger.postgres import split_store_url

HEARTBEAT_FRESH_S = 5.0
GROWN_ROWS = 1000
"""A ledger table is analyzed once this many of its rows (and more than it had) changed since the last time."""


class CoordinationError(Exception):
    """The coordination store cannot be reached; the message names it."""


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """What one worker reports in its heartbeat."""

    worker: str
    partitions: int
    owned: int
    in_flight: int
    backing_off: int
    unread: int
    systems: int = 0
    intake_owned: int = 0
    drained_age_s: float | None = None
    """How long ago the oldest of its feeds' last empty reads began (None: a feed of its has not been found
    empty since it took the feed over, or it owns none; FeedIntake.drained_age)."""
    heartbeat_age_s: float = 0.0
    """How old the heartbeat is (set when read back: `live_workers`)."""


def store_location(store_url: str) -> tuple[str, str]:
    """Split `postgresql://…[?schema=name][&synchronous_commit=off]` into the connection URL and the schema
    (default firmsim), as the ledger does (`ledger.postgres.split_store_url`)."""
    if urlsplit(store_url).scheme not in ("postgresql", "postgres"):
        raise CoordinationError(f"--store {store_url!r}: expected a postgresql:// URL")
    try:
        return split_store_url(store_url)
    except ValueError as error:
        raise CoordinationError(f"--store {store_url!r}: {error}") from error


def _key(text: str) -> int:
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def _member_class(schema: str, namespace: str) -> int:
    """The advisory-lock class of a namespace's membership locks (one per worker, keyed by its id)."""
    return _key(f"{schema}/{namespace}/members")


_MEMBER_LOCK = ("l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = %s::bigint::oid "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")
"""Whether the pg_locks row `l` is a granted membership lock of a class (`_member_class`) in this database."""


class Coordinator(abc.ABC):
    """Ownership of named resources among workers, and their heartbeats."""

    @abc.abstractmethod
    def try_own(self, resource: str) -> bool:
        """Take a resource if nobody holds it (True also when this worker already does)."""

    @abc.abstractmethod
    def release(self, resource: str) -> None:
        """Give a resource up."""

    @abc.abstractmethod
    def members(self) -> int:
        """Return how many workers are alive."""

    @abc.abstractmethod
    def report(self, status: WorkerStatus) -> None:
        """Write this worker's heartbeat; raise CoordinationError when the store is lost."""

    def refresh_statistics(self) -> list[str]:
        """Have the store's planner statistics follow the ledger's growth; return the tables analyzed."""
        return []

    def close(self) -> None:  # noqa: B027 - adapters without resources need nothing
        """Release everything this worker holds."""


class SoloCoordinator(Coordinator):
    """A single worker owns everything (in-process runs and tests)."""

    def __init__(self) -> None:
        self.statuses: dict[str, WorkerStatus] = {}

    def try_own(self, resource: str) -> bool:
        """Own any resource."""
        return True

    def release(self, resource: str) -> None:
        """Nothing to give up."""

    def members(self) -> int:
        """Return 1."""
        return 1

    def report(self, status: WorkerStatus) -> None:
        """Keep the latest status."""
        self.statuses[status.worker] = status


class PgCoordinator(Coordinator):
    """Advisory locks and heartbeats in one PostgreSQL session per worker."""

    def __init__(self, store_url: str, namespace: str, worker: str) -> None:
        self.url, self.schema = store_location(store_url)
        self.namespace = namespace
        self.worker = worker
        self._class = _key(f"{self.schema}/{namespace}")
        self._member_class = _member_class(self.schema, namespace)
        self._owned: set[str] = set()
        self._lock = threading.Lock()
        self._connection = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                         application_name=f"firmsim-worker:{self.namespace}:{self.worker}"[:63])
            # Concurrent CREATE … IF NOT EXISTS can still collide in PostgreSQL: one at a time.
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s, 0)", (self._member_class,))
                connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                connection.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.engine_workers (worker text PRIMARY KEY, namespace text NOT NULL, "
                    "heartbeat timestamptz NOT NULL, partitions int NOT NULL, owned int NOT NULL, "
                    "in_flight int NOT NULL, backing_off int NOT NULL, unread int NOT NULL, systems int NOT NULL, "
                    "intake_owned int NOT NULL)").format(
                    sql.Identifier(self.schema)))
                # a store made by an earlier release has no such column
                connection.execute(sql.SQL(
                    "ALTER TABLE {}.engine_workers ADD COLUMN IF NOT EXISTS drained_at timestamptz").format(
                    sql.Identifier(self.schema)))
            connection.execute("SELECT pg_advisory_lock(%s, %s)", (self._member_class, _key(self.worker)))
        except psycopg.Error as error:
            raise CoordinationError(f"cannot reach PostgreSQL at {urlsplit(self.url).hostname}: "
                                    f"{str(error).splitlines()[0] if str(error) else type(error).__name__}") from error
        return connection

    def _run(self, query: Any, parameters: tuple[Any, ...] = (), *, rows: bool = True) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                cursor = self._connection.execute(query, parameters)
                return cursor.fetchall() if rows else []
            except psycopg.Error as error:
                # The session, and every lock it held, is gone: start over with nothing owned.
                self._owned.clear()
                self._connection.close()
                with contextlib.suppress(CoordinationError):
                    self._connection = self._connect()
                raise CoordinationError(f"lost the coordination session: {type(error).__name__}") from error

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Run a block while no other worker of this namespace runs one of the same name (waits)."""
        self._run("SELECT pg_advisory_lock(%s, %s)", (self._class, _key(f"exclusive:{name}")))
        try:
            yield
        finally:
            self._run("SELECT pg_advisory_unlock(%s, %s)", (self._class, _key(f"exclusive:{name}")))

    def try_own(self, resource: str) -> bool:
        """Take a resource's advisory lock if it is free."""
        if resource in self._owned:
            return True
        [(taken,)] = self._run("SELECT pg_try_advisory_lock(%s, %s)", (self._class, _key(resource)))
        if taken:
            self._owned.add(resource)
        return bool(taken)

    def release(self, resource: str) -> None:
        """Unlock a resource."""
        if resource in self._owned:
            self._owned.discard(resource)
            self._run("SELECT pg_advisory_unlock(%s, %s)", (self._class, _key(resource)))

    def owns(self, resource: str) -> bool:
        """Tell whether this worker holds a resource (as far as its session is alive)."""
        return resource in self._owned

    def members(self) -> int:
        """Count the membership locks of this namespace held in this database."""
        [(count,)] = self._run(
            "SELECT count(*) FROM pg_locks l WHERE " + _MEMBER_LOCK, (self._member_class,))
        return max(1, int(count))

    def report(self, status: WorkerStatus) -> None:
        """Upsert this worker's heartbeat row."""
        self._run(sql.SQL(
            "INSERT INTO {}.engine_workers (worker, namespace, heartbeat, partitions, owned, in_flight, backing_off, "
            "unread, systems, intake_owned, drained_at) VALUES (%s, %s, now(), %s, %s, %s, %s, %s, %s, %s, "
            "now() - make_interval(secs => %s)) ON CONFLICT (worker) "
            "DO UPDATE SET heartbeat = now(), partitions = excluded.partitions, owned = excluded.owned, "
            "in_flight = excluded.in_flight, backing_off = excluded.backing_off, unread = excluded.unread, "
            "systems = excluded.systems, intake_owned = excluded.intake_owned, drained_at = excluded.drained_at "
            "RETURNING 1").format(sql.Identifier(self.schema)),
            (status.worker, self.namespace, status.partitions, status.owned, status.in_flight, status.backing_off,
             status.unread, status.systems, status.intake_owned, status.drained_age_s))

    def refresh_statistics(self) -> list[str]:
        """ANALYZE each ledger table whose rows changed since its last analysis outnumber its rows then (and
        GROWN_ROWS), without waiting for a table another worker analyzes; return the tables analyzed.

        A ledger starts empty, and PostgreSQL plans a statement from the statistics it has: planned while a
        table was empty or never analyzed, a link or lookup by key scans the whole table instead of using
        its index, and each costs more as the table grows (bench_engine, 1 worker, 20,000 approvals:
        PostgreSQL's CPU per event 0.44-0.67 ms against 0.07-0.08 ms for 4,000; the link statement ~1 s
        each). Autovacuum analyzes a table only every minute at best and after 10 % of it changed; an
        analysis here when a table has doubled is a logarithmic number of them. Not before PostgreSQL 12
        (no SKIP_LOCKED; a failed statement would cost this session and its locks): autovacuum alone."""
        if self._connection.info.server_version < 120000:
            return []
        rows = self._run(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = %s "
            "AND n_mod_since_analyze > greatest(%s, n_live_tup - n_mod_since_analyze)",
            (self.schema, GROWN_ROWS))
        analyzed = []
        for (table,) in rows:
            self._run(sql.SQL("ANALYZE (SKIP_LOCKED) {}.{}").format(sql.Identifier(self.schema),
                                                                    sql.Identifier(table)), rows=False)
            analyzed.append(str(table))
        return analyzed

    def close(self) -> None:
        """Delete the heartbeat row and end the session (which drops every lock)."""
        with contextlib.suppress(CoordinationError):
            self._run(sql.SQL("DELETE FROM {}.engine_workers WHERE worker = %s RETURNING 1").format(
                sql.Identifier(self.schema)), (self.worker,))
        with self._lock:
            self._owned.clear()
            self._connection.close()


def live_workers(store_url: str, namespace: str, connection: psycopg.Connection[Any] | None = None
                 ) -> list[WorkerStatus]:
    """Return the heartbeats of the live workers of a namespace: rows written in the last few seconds by a
    worker whose membership lock is held, by a session that began before the row was written.

    A worker killed (SIGKILL) leaves its last row fresh for HEARTBEAT_FRESH_S, saying what it had in hand
    then (often nothing unread, nothing in flight, every feed owned); its session, and so its membership
    lock, ends at once. Counting such a row would report idle before a successor has taken the feeds over
    and read them."""
    url, schema = store_location(store_url)
    members = _member_class(schema, namespace)
    try:
        with contextlib.ExitStack() as stack:
            if connection is None:
                connection = stack.enter_context(psycopg.connect(url, autocommit=True, connect_timeout=5))
            exists = connection.execute("SELECT to_regclass(%s)", (f"{schema}.engine_workers",)).fetchone()
            if not exists or exists[0] is None:
                return []
            rows = connection.execute(sql.SQL(
                "SELECT worker, partitions, owned, in_flight, backing_off, unread, systems, intake_owned, "
                "extract(epoch FROM now() - drained_at)::float8, extract(epoch FROM now() - heartbeat)::float8, "
                "heartbeat FROM {}.engine_workers "
                "WHERE namespace = %s AND heartbeat > now() - make_interval(secs => %s) ORDER BY worker").format(
                sql.Identifier(schema)), (namespace, HEARTBEAT_FRESH_S)).fetchall()
            # The membership locks held now, with when their sessions began (unknown: another role's session).
            held = dict(connection.execute(
                "SELECT l.objid::bigint, a.backend_start FROM pg_locks l "
                "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE " + _MEMBER_LOCK,
                (members,)).fetchall())
    except psycopg.Error as error:
        raise CoordinationError(f"cannot read the workers' heartbeats: {type(error).__name__}") from error
    live = []
    for *status, heartbeat in rows:
        key = _key(status[0])
        if key in held and (held[key] is None or held[key] <= heartbeat):
            live.append(WorkerStatus(*status))
    return live
