"""The PostgreSQL ledger's batch forms: one statement per batch, the rows passed as arrays (`unnest`).

Each array goes as one array literal (`_array`), not a Python list: psycopg dumps a list element by
element (100 ids in 4 columns: 438 us of client CPU per statement; as literals 134 us; a list of 100
timestamps alone 570 us), ~10 % of a distributed worker's CPU (py-spy).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import psycopg

from syncengine.ledger.batch import LedgerBatches, TrackingKey, _by_kind_and_system, _checked_within, _unlinked
from syncengine.ledger.records import DuplicateTracking, Tracking, XrefConflict, XrefEntry


class PostgresBatches:
    """Tracking, received ids, applied versions and cross-references, many rows per statement (a ledger mixin)."""

    _local: threading.local

    def _execute(self, query: Any, parameters: tuple[Any, ...] | None = None) -> psycopg.Cursor[Any]:
        raise NotImplementedError  # PostgresSession's

    @property
    def _in_transaction(self) -> bool:
        raise NotImplementedError  # PostgresSession's

    def _note_transaction_id(self, transaction_id: str | None) -> None:
        raise NotImplementedError  # PostgresSession's

    _links: dict[tuple[str, str, str, str], str]  # PostgresSession's

    def _note_links(self, links: Iterable[tuple[str, str, str, str]]) -> None:
        raise NotImplementedError  # PostgresSession's

    def _tracking_among(self, keys: list[TrackingKey]) -> set[TrackingKey]:
        rows = self._execute(
            "SELECT system, source_id, source_version, handler FROM tracking "
            "JOIN unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]) "
            "AS wanted(system, source_id, source_version, handler) USING (system, source_id, source_version, handler)",
            tuple(_array(column) for column in zip(*keys, strict=True))).fetchall()
        return {(str(row[0]), str(row[1]), int(row[2]), str(row[3])) for row in rows}

    def _insert_trackings(self, trackings: list[Tracking]) -> None:
        # The transaction's id comes back with the rows inserted: a unit of work's last write before COMMIT,
        # which then need not ask for it (a round trip of ~12 per handled batch).
        row = self._execute(
            "WITH inserted AS (INSERT INTO tracking SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], "
            "%s::text[], %s::timestamptz[]) ON CONFLICT DO NOTHING RETURNING 1) "
            "SELECT count(*), pg_current_xact_id_if_assigned()::text FROM inserted",
            (_array(t.system for t in trackings), _array(t.source_id for t in trackings),
             _array(t.source_version for t in trackings), _array(t.handler for t in trackings),
             _instants(t.processed_at for t in trackings))).fetchone()
        inserted = int(row[0]) if row else 0
        self._note_transaction_id(row[1] if row else None)
        if inserted != len(trackings):
            raise DuplicateTracking(f"{len(trackings) - inserted} of {len(trackings)} messages were already "
                                    f"processed (another worker)")

    def _insert_received_many(self, system: str, event_ids: list[str], now: datetime) -> set[str]:
        rows = self._execute("INSERT INTO received SELECT %s, event_id, %s FROM unnest(%s::text[]) AS event_id "
                             "ON CONFLICT DO NOTHING RETURNING event_id", (system, now, _array(event_ids))).fetchall()
        return {str(row[0]) for row in rows}

    def _get_applied_many(self, keys: list[str]) -> dict[str, int]:
        if self._in_transaction:
            # As `_get_applied`: hold each key until the unit of work ends, in one order (no deadlock);
            # the read is a statement of its own, so that it sees what a previous holder committed.
            self._execute("SELECT count(pg_advisory_xact_lock(hashtextextended('applied' || chr(31) || key, 0))) "
                          "FROM unnest(%s::text[]) AS key", (_array(keys),))
        rows = self._execute("SELECT key, version FROM applied_versions WHERE key = ANY(%s::text[])",
                             (_array(keys),)).fetchall()
        return {str(row[0]): int(row[1]) for row in rows}

    def _put_applied_many(self, versions: dict[str, int]) -> None:
        self._execute("INSERT INTO applied_versions SELECT * FROM unnest(%s::text[], %s::bigint[]) "
                      "ON CONFLICT (key) DO UPDATE SET version=excluded.version",
                      (_array(versions), _array(versions.values())))

    def _xref_ids(self, kind: str, system: str, canonical_keys: list[str]) -> dict[str, str]:
        found, unknown = self._known(("id", kind, system), canonical_keys)
        if unknown:
            rows = self._execute("SELECT canonical_key, external_id FROM xref WHERE kind=%s AND system=%s "
                                 "AND canonical_key = ANY(%s::text[])", (kind, system, _array(unknown))).fetchall()
            self._note_links([(kind, system, str(row[1]), str(row[0])) for row in rows])
            found.update((str(row[0]), str(row[1])) for row in rows)
        return found

    def _xref_keys(self, kind: str, system: str, external_ids: list[str]) -> dict[str, str]:
        found, unknown = self._known(("key", kind, system), external_ids)
        if unknown:
            rows = self._execute("SELECT external_id, canonical_key FROM xref WHERE kind=%s AND system=%s "
                                 "AND external_id = ANY(%s::text[])", (kind, system, _array(unknown))).fetchall()
            self._note_links([(kind, system, str(row[0]), str(row[1])) for row in rows])
            found.update((str(row[0]), str(row[1])) for row in rows)
        return found

    def _known(self, side: tuple[str, str, str], values: list[str]) -> tuple[dict[str, str], list[str]]:
        """Split values into those whose link this ledger knows (with it) and the rest."""
        found: dict[str, str] = {}
        unknown = []
        for value in values:
            linked = self._links.get((*side, value))
            if linked is None:
                unknown.append(value)
            else:
                found[value] = linked
        return found, unknown

    def _link_many(self, entries: Sequence[XrefEntry]) -> None:
        """Link several ids as `LedgerBatches.link_many` does, within a unit of work, with the same checks and
        messages: one statement (`_link_unless_clash`) reads what either side of each entry is linked to and
        inserts them all unless one clashes, where the general form reads by id, then by key, then inserts (3
        statements of a handled batch's ~12)."""
        groups = _by_kind_and_system(entries)
        try:
            sides = {group: _checked_within(*group, members) for group, members in groups.items()}
        except XrefConflict:  # a batch that clashes within itself: raise what the general form raises
            LedgerBatches.link_many(cast(LedgerBatches, self), entries)
            return
        links = self._links
        unique = {(entry.kind, entry.system, entry.external_id): entry for entry in entries}  # same pairs (checked)
        pending = [entry for entry in unique.values()
                   if links.get(("key", entry.kind, entry.system, entry.external_id)) != entry.canonical_key]
        if not pending:
            return
        linked, inserted = self._link_unless_clash(pending)
        self._note_links(linked)
        new: dict[tuple[str, str, str], XrefEntry] = {}
        for (kind, system), members in groups.items():
            by_id, by_key = sides[kind, system]
            linked_keys = {external_id: links[key] for external_id in by_id
                           if (key := ("key", kind, system, external_id)) in links}
            linked_ids = {canonical_key: links[key] for canonical_key in by_key
                          if (key := ("id", kind, system, canonical_key)) in links}
            for link_kind, link_system, external_id, canonical_key in linked:
                if (link_kind, link_system) == (kind, system):
                    if external_id in by_id:
                        linked_keys[external_id] = canonical_key
                    if canonical_key in by_key:
                        linked_ids[canonical_key] = external_id
            new.update(_unlinked(kind, system, members, linked_keys, linked_ids))
        if inserted == len(new):
            self._note_links([(e.kind, e.system, e.external_id, e.canonical_key) for e in new.values()])
            return
        self._check_linked_by_another(list(new.values()))

    def _link_unless_clash(self, entries: list[XrefEntry]) -> tuple[list[tuple[str, str, str, str]], int]:
        """Insert the entries unless one side of one is linked otherwise; return the links either side of them
        had (as this statement's snapshot saw them) and how many rows were inserted."""
        row = self._execute(
            "WITH wanted AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS w(kind, system, external_id, canonical_key)), "
            "linked AS (SELECT x.kind, x.system, x.external_id, x.canonical_key FROM wanted "
            "JOIN xref x USING (kind, system, external_id) "
            "UNION SELECT x.kind, x.system, x.external_id, x.canonical_key FROM wanted "
            "JOIN xref x USING (kind, system, canonical_key)), "
            "inserted AS (INSERT INTO xref SELECT * FROM wanted WHERE NOT EXISTS (SELECT FROM linked l "
            "JOIN wanted w USING (kind, system) WHERE (l.external_id = w.external_id) <> (l.canonical_key = "
            "w.canonical_key)) ON CONFLICT DO NOTHING RETURNING 1) "
            "SELECT (SELECT count(*) FROM inserted), array_agg(kind), array_agg(system), array_agg(external_id), "
            "array_agg(canonical_key) FROM linked",
            (_array(e.kind for e in entries), _array(e.system for e in entries),
             _array(e.external_id for e in entries), _array(e.canonical_key for e in entries))).fetchone()
        if row is None or row[1] is None:
            return [], int(row[0]) if row else 0
        return list(zip(row[1], row[2], row[3], row[4], strict=True)), int(row[0])

    def _insert_xrefs(self, entries: list[XrefEntry]) -> None:
        cursor = self._execute(
            "INSERT INTO xref SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
            "ON CONFLICT DO NOTHING",
            (_array(e.kind for e in entries), _array(e.system for e in entries),
             _array(e.external_id for e in entries), _array(e.canonical_key for e in entries)))
        if cursor.rowcount == len(entries):
            self._note_links([(e.kind, e.system, e.external_id, e.canonical_key) for e in entries])
            return
        self._check_linked_by_another(entries)

    def _check_linked_by_another(self, entries: list[XrefEntry]) -> None:
        """Raise XrefConflict unless every entry is linked as it says (another worker linked some first:
        harmless where it linked the same pairs)."""
        for entry in entries:
            if self._xref_keys(entry.kind, entry.system, [entry.external_id]).get(entry.external_id) \
                    != entry.canonical_key:
                raise XrefConflict(f"{entry.system} {entry.kind} {entry.external_id} or {entry.canonical_key} "
                                   f"was linked otherwise by another worker")


def _instants(instants: Iterable[datetime]) -> str:
    """Return a PostgreSQL array literal of instants (`%s::timestamptz[]`), each distinct one formatted once: a
    batch's rows share one, and `isoformat` costs ~4 us (a hundred rows: 0.4 ms)."""
    formatted: dict[datetime, str] = {}
    return _array(formatted.get(instant) or formatted.setdefault(instant, instant.isoformat()) for instant in instants)


def _array(values: Iterable[str | int]) -> str:
    """Return a PostgreSQL array literal of strings or integers (cast in the statement: `%s::text[]`).

    Each element is double-quoted; a quote or backslash in one is escaped, looked for once in them all (ids
    have none: escaping each element cost twice as much, ~0.2 us, over ~15 elements per message handled)."""
    texts = list(map(str, values))
    whole = "".join(texts)
    if '"' in whole or "\\" in whole:
        texts = [text.replace("\\", "\\\\").replace('"', '\\"') for text in texts]
    return '{"' + '","'.join(texts) + '"}' if texts else "{}"
