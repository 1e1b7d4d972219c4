"""How the PostgreSQL ledger talks to the server: a connection per thread, and what a lost one means.

A connection the server drops is replaced. What was cut short is re-run only when that cannot
apply anything twice: a public operation outside a unit of work is re-run as a whole (the server
rolled its transaction back); a unit of work the engine opened raises `LedgerUnavailable` and the
engine retries the message (tracking skips it if it did commit, outbound idempotency keys make its
calls safe to repeat). A COMMIT whose answer was lost is settled by asking the server what became
of the transaction (`pg_xact_status`), never by guessing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.errors import DeadlockDetected, SerializationFailure, TransactionRollback

from syncengine.domain.errors import ConflictFailure
from syncengine.ledger.records import LedgerUnavailable

R = TypeVar("R")
Link = tuple[str, str, str, str]
"""A cross-reference: (kind, system, external_id, canonical_key)."""
LINKS_KEPT = 100_000
"""At most this many lookups of links are kept (both directions of each); past it the memory starts afresh."""
# The server chose this transaction as the loser of a conflict; running it again may well succeed.
ROLLED_BACK_BY_SERVER = (TransactionRollback, SerializationFailure, DeadlockDetected)


def first_line(error: BaseException) -> str:
    """Return the first line of an error's message (psycopg's run over several)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class PostgresSession:
    """Connections per thread, transactions, and recovery from lost connections (a ledger mixin)."""

    url: str
    schema: str
    application_name: str
    retry_attempts: int
    retry_base_s: float
    connect_timeout_s: int
    lost_connections: int
    statements: int
    """Statements sent to the server (a diagnostic: `bench_engine` reports them per event; threads may race on it)."""
    _local: threading.local
    _connections: list[psycopg.Connection[Any]]
    _registry: threading.Lock
    _links: dict[tuple[str, str, str, str], str]
    """Cross-references this ledger saw committed, by ("key", kind, system, external_id) and ("id", kind,
    system, canonical_key). A link never changes or goes (the table's two unique keys; no statement deletes
    one), so once committed it holds for every worker: its lookups need not reach the server again (they
    were ~3 of the ~12 statements of a handled batch)."""

    # -- links -----------------------------------------------------------------------------------

    def _note_links(self, links: Iterable[Link]) -> None:
        """Keep links read or written: at once outside a unit of work, at its COMMIT within one (a rolled back
        insert is no link)."""
        if not self._in_transaction:
            self._keep_links(links)
            return
        pending: list[Link] | None = getattr(self._local, "links", None)
        if pending is None:
            pending = self._local.links = []
        pending.extend(links)

    def _keep_links(self, links: Iterable[Link]) -> None:
        known = self._links
        if len(known) > LINKS_KEPT:
            known.clear()
        for kind, system, external_id, canonical_key in links:
            known["key", kind, system, external_id] = canonical_key
            known["id", kind, system, canonical_key] = external_id

    # -- connections -----------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            connection = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout_s,
                                         application_name=self.application_name)
            connection.execute(sql.SQL("SET search_path TO {}; SET TIME ZONE 'UTC'").format(
                sql.Identifier(self.schema)))
        except psycopg.ProgrammingError as error:
            raise ValueError(f"not a usable PostgreSQL URL: {first_line(error)}") from error
        except psycopg.OperationalError as error:
            raise LedgerUnavailable(f"cannot reach PostgreSQL: {first_line(error)}", rolled_back=True) from error
        with self._registry:
            self._connections.append(connection)
        return connection

    def _connection(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self._local.connection = self._connect()
        return connection

    def _cursor(self, connection: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
        """Return this thread's cursor on its connection. One cursor serves every statement of the thread (each
        caller reads its rows or row count before the next statement): `Connection.execute` builds a cursor per
        statement, ~35 us of CPU of the ~85 a statement costs the client (process_time, 2,000 statements)."""
        cursor: psycopg.Cursor[Any] | None = getattr(self._local, "cursor", None)
        if cursor is None or getattr(self._local, "cursor_connection", None) is not connection:
            cursor = self._local.cursor = connection.cursor()
            self._local.cursor_connection = connection
        return cursor

    def _discard(self, connection: psycopg.Connection[Any]) -> None:
        self.lost_connections += 1
        self._local.connection = None
        with self._registry:
            if connection in self._connections:
                self._connections.remove(connection)
        connection.close()

    @property
    def _in_transaction(self) -> bool:
        return bool(getattr(self._local, "in_transaction", False))

    def _execute(self, query: Any, parameters: tuple[Any, ...] | None = None) -> psycopg.Cursor[Any]:
        connection = self._connection()
        self.statements += 1
        try:
            return self._cursor(connection).execute(query, parameters)
        except ROLLED_BACK_BY_SERVER as error:
            raise ConflictFailure("ledger-conflict", first_line(error)) from error
        except psycopg.OperationalError as error:
            if not (connection.broken or connection.closed):
                raise
            self._discard(connection)
            self._local.in_transaction = False
            # The server rolls back whatever transaction a lost connection had open.
            raise LedgerUnavailable(f"PostgreSQL connection lost: {first_line(error)}",
                                    rolled_back=True) from error

    def _one(self, query: Any, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._execute(query, parameters).fetchone()
        return row

    def _pause(self, attempt: int) -> None:
        time.sleep(min(2.0, self.retry_base_s * 2 ** (attempt - 1)))

    def _retry_standalone(self, operation: Callable[[], R], attempts: int | None = None) -> R:
        """Re-run an operation that is its own unit of work while its failures surely left nothing behind."""
        attempts = attempts or self.retry_attempts
        for attempt in range(1, attempts + 1):
            try:
                return operation()
            except LedgerUnavailable as error:
                if not error.rolled_back or attempt == attempts:
                    raise
                self._pause(attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    # -- units of work ---------------------------------------------------------------------------

    def _begin(self) -> None:
        for attempt in range(1, self.retry_attempts + 1):
            try:
                self._execute("BEGIN")
                break
            except LedgerUnavailable:
                if attempt == self.retry_attempts:
                    raise
                self._pause(attempt)
        self._local.in_transaction = True
        self._local.transaction_id = None
        self._local.links = None

    def _note_transaction_id(self, transaction_id: str | None) -> None:
        """Keep the id a statement of the open transaction read (`pg_current_xact_id_if_assigned()` after a
        write): assigned at its first write and never changed, so COMMIT need not ask for it again."""
        if transaction_id is not None and self._in_transaction:
            self._local.transaction_id = transaction_id

    def _commit(self) -> None:
        transaction_id: str | None = getattr(self._local, "transaction_id", None)
        self._local.transaction_id = None
        if transaction_id is None:
            row = self._one("SELECT pg_current_xact_id_if_assigned()::text", ())
            transaction_id = row[0] if row else None
        links: list[Link] | None = getattr(self._local, "links", None)
        self._local.links = None
        connection = self._connection()
        self.statements += 1
        try:
            self._cursor(connection).execute("COMMIT")
            if links:
                self._keep_links(links)
        except ROLLED_BACK_BY_SERVER as error:
            raise ConflictFailure("ledger-conflict", first_line(error)) from error
        except psycopg.OperationalError as error:
            if not (connection.broken or connection.closed):
                raise
            self._discard(connection)
            if transaction_id is not None:
                self._settle(transaction_id, error)
        finally:
            self._local.in_transaction = False

    def _settle(self, transaction_id: str, error: BaseException) -> None:
        """Find out whether a transaction whose COMMIT lost its answer committed; raise unless it did."""
        for attempt in range(1, self.retry_attempts + 1):
            try:
                row = self._one("SELECT pg_xact_status(%s::xid8)", (transaction_id,))
            except LedgerUnavailable:
                row = None
            status = row[0] if row else None
            if status == "committed":
                return
            if status == "aborted":
                raise LedgerUnavailable(f"PostgreSQL connection lost at COMMIT, which did not happen: "
                                        f"{first_line(error)}", rolled_back=True) from error
            self._pause(attempt)
        raise LedgerUnavailable(f"PostgreSQL connection lost at COMMIT and its outcome is unknown: "
                                f"{first_line(error)}", rolled_back=False) from error

    def _rollback(self) -> None:
        self._local.in_transaction = False
        self._local.transaction_id = None
        self._local.links = None
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            return
        self.statements += 1
        try:
            self._cursor(connection).execute("ROLLBACK")
        except psycopg.OperationalError:
            self._discard(connection)

    def _lock_key(self, name: str) -> None:
        """Hold a lock on a name until the transaction ends (serialises a read-modify-write)."""
        if self._in_transaction:
            self._execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))
