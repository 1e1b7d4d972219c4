"""An in-memory record store with deterministic ids, versions and an undo log per request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any

from simulators.common.clock import Clock, isoformat
from simulators.common.errors import not_found

Record = dict[str, Any]
Fields = str | tuple[str, ...] | Callable[[Record], Any]
"""What an index is keyed by: one field, several (the key is then the tuple of their values), or a
function of the record (a module-level one, so each lookup finds the same index)."""


_STAMPS = frozenset(("version", "updated_at"))  # what every `update` changes besides its changes
_NO_INDEXES: dict[Fields, dict[Any, set[str]]] = {}


def _watched(fields: Fields) -> frozenset[str] | None:
    """Return the fields an index key is read from, or None when a function reads the record."""
    if fields.__class__ is str:
        return frozenset((fields,))
    if fields.__class__ is tuple:
        return frozenset(fields)
    return None


def _key(record: Record, fields: Fields) -> Any:
    if fields.__class__ is str:
        return record.get(fields)
    if fields.__class__ is tuple:
        return tuple(map(record.get, fields))
    return fields(record)  # type: ignore[operator]


class _Transaction:
    """The block of `Store.transaction`: a class rather than a generator, as it wraps every request."""

    __slots__ = ("counters", "outer", "store")

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        store.lock.acquire()
        self.outer = store._undo
        store._undo = []
        self.counters = dict(store._counters)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        store = self.store
        try:
            if kind is not None:
                store._roll_back(self.counters)
        finally:
            undo = store._undo
            if self.outer is not None and undo is not None:
                self.outer.extend(undo)
            store._undo = self.outer
            store.lock.release()


class Store:
    """Collections of JSON-ready records keyed by id.

    Records handed out must not be mutated in place: `update` writes a new dict, which is what
    lets the undo log roll a failed request back.

    A run keeps every record, and every version an event carries, to its end (a year's time entries
    alone, 26 fields each, are over a million versions). An inserted record is the attribute dict of
    an instance of its collection's own class, so records of one collection share one table of keys
    (CPython's key-sharing dicts: 296 rather than 832 bytes for 26 fields), and an update copies it,
    which keeps the sharing; a record that leaves its collection's keys (more than 30, or others) is
    an ordinary dict. Either way it is a plain dict with the same keys in the same order.
    """

    def __init__(self, clock: Clock, prefixes: dict[str, str]) -> None:
        self.clock = clock
        self.prefixes = dict(prefixes)
        self.lock = threading.RLock()
        self._collections: dict[str, dict[str, Record]] = {name: {} for name in prefixes}
        self._counters: dict[str, int] = {name: 0 for name in prefixes}
        self._shapes: dict[str, type] = {name: type(f"{name}_record", (), {}) for name in prefixes}
        self._undo: list[tuple[str, str, Record | None]] | None = None
        self._last_id: dict[str, str] = {name: "" for name in prefixes}
        self._unsorted: set[str] = set()
        self._indexes: dict[str, dict[Fields, dict[Any, set[str]]]] = {}
        # per collection, the fields an `update` must touch for its indexes to move; None: any field
        self._index_fields: dict[str, frozenset[str] | None] = {}
        self.state: dict[str, Any] = {}

    def clear(self) -> None:
        """Forget every record and reset the id counters."""
        with self.lock:
            for name in self._collections:
                self._collections[name] = {}
                self._counters[name] = 0
                self._last_id[name] = ""
            self._unsorted = set()
            self._indexes = {}
            self._index_fields = {}
            self.state = {}

    def now(self) -> datetime:
        """Return the store's clock reading."""
        return self.clock.now()

    def new_id(self, collection: str) -> str:
        """Return the next id of a collection (`PREFIX-000001`)."""
        self._counters[collection] += 1
        return f"{self.prefixes[collection]}-{self._counters[collection]:06d}"

    def transaction(self) -> AbstractContextManager[None]:
        """Run a block so that an exception undoes every write it made."""
        return _Transaction(self)

    def _roll_back(self, counters: dict[str, int]) -> None:
        for collection, record_id, previous in reversed(self._undo or ()):
            current = self._collections[collection].get(record_id)
            if previous is None:
                self._collections[collection].pop(record_id, None)
            else:
                self._collections[collection][record_id] = previous
            self._reindex(collection, record_id, current, previous)
            self._unsorted.add(collection)
        self._counters = counters

    def _write(self, collection: str, record: Record, reindex: bool = True) -> None:
        records = self._collections[collection]
        record_id = record["id"]
        previous = records.get(record_id)
        if self._undo is not None:
            self._undo.append((collection, record_id, previous))
        if previous is None:
            if records and record_id < self._last_id[collection]:
                self._unsorted.add(collection)
            elif not records or record_id > self._last_id[collection]:
                self._last_id[collection] = record_id
        records[record_id] = record
        if reindex and collection in self._indexes:
            self._reindex(collection, record_id, previous, record)

    def _reindex(self, collection: str, record_id: str, old: Record | None, new: Record | None) -> None:
        for name, index in self._indexes.get(collection, _NO_INDEXES).items():
            old_value = None if old is None else _key(old, name)
            new_value = None if new is None else _key(new, name)
            if old is not None and new is not None and old_value == new_value:
                continue  # most writes change no indexed field: nothing to move
            if old is not None:
                ids = index.get(old_value)
                if ids is not None:
                    ids.discard(record_id)
                    if not ids:
                        del index[old_value]
            if new is not None:
                index.setdefault(new_value, set()).add(record_id)

    def insert(self, collection: str, fields: Record, record_id: str | None = None) -> Record:
        """Add a record, giving it an id, version 1 and timestamps."""
        stamp = isoformat(self.now())
        if record_id is None:
            record_id = self.new_id(collection)
        record: Record = vars(self._shapes[collection]())  # {"id": .., **fields, "version": 1, ..} with shared keys
        record["id"] = record_id
        for name, value in fields.items():
            record[name] = value
        record["version"] = 1
        record["created_at"] = record["updated_at"] = stamp
        self._write(collection, record)
        return record

    def seed(self, collection: str, record: Record) -> Record:
        """Add a record exactly as given (admin seed), keeping the id counter ahead of its id."""
        if collection not in self._collections:
            raise KeyError(collection)
        stamp = isoformat(self.now())
        record = {"version": 1, "created_at": stamp, "updated_at": stamp, **record}
        if "id" not in record:
            record["id"] = self.new_id(collection)
        else:
            suffix = str(record["id"]).rsplit("-", 1)[-1]
            if suffix.isdigit():
                self._counters[collection] = max(self._counters[collection], int(suffix))
        self._write(collection, record)
        return record

    def update(self, collection: str, record_id: str, changes: Record) -> Record:
        """Write changes to a record as a new version."""
        current = self.get(collection, record_id)
        record = current.copy()  # as {**current, **changes, ..}, with current's shared keys (see Store)
        record.update(changes)
        record["version"] = current["version"] + 1
        record["updated_at"] = isoformat(self.now())
        if collection in self._index_fields and record_id == record["id"]:
            watched = self._index_fields[collection]
            if watched is not None and watched.isdisjoint(changes):
                # no indexed field among the changes: every index key stays as it was, nothing to move
                self._write(collection, record, reindex=False)
                return record
        self._write(collection, record)
        return record

    def get(self, collection: str, record_id: str) -> Record:
        """Return a record, or raise a 404 problem."""
        record = self._collections[collection].get(record_id)
        if record is None:
            raise not_found(collection.rstrip("s").replace("_", " "), record_id)
        return record

    def find(self, collection: str, record_id: str) -> Record | None:
        """Return a record or None."""
        return self._collections[collection].get(record_id)

    def all(self, collection: str) -> list[Record]:
        """Return the records of a collection in id order."""
        records = self._collections[collection]
        if collection in self._unsorted:
            # ids are handed out in order, so only seeded or rolled-back records need a re-sort
            self._collections[collection] = records = {key: records[key] for key in sorted(records)}
            self._unsorted.discard(collection)
        return list(records.values())

    def where(self, collection: str, predicate: Callable[[Record], bool]) -> list[Record]:
        """Return the records that satisfy a predicate, in id order."""
        return [record for record in self.all(collection) if predicate(record)]

    def where_equal(self, collection: str, name: Fields, value: Any) -> list[Record]:
        """Return the records whose scalar field `name` equals `value`, in id order, through an index.

        The index is built on the first lookup of that field and kept up to date by every write,
        rollback and reset, so a lookup costs the matching records rather than a scan. `name` may
        be a tuple of fields, `value` then the tuple of their values.
        """
        ids = self._index(collection, name).get(value)
        if not ids:
            return []
        records = self._collections[collection]
        return [records[record_id] for record_id in sorted(ids)]

    def where_equal_any(self, collection: str, name: Fields, values: Iterable[Any]) -> list[Record]:
        """Return the records whose field `name` (or tuple of fields) equals one of `values`, in id order."""
        index = self._index(collection, name)
        ids: set[str] = set()
        for value in values:
            ids.update(index.get(value, ()))
        records = self._collections[collection]
        return [records[record_id] for record_id in sorted(ids)]

    def _index(self, collection: str, name: Fields) -> dict[Any, set[str]]:
        indexes = self._indexes.get(collection)
        if indexes is None:
            indexes = self._indexes[collection] = {}
        index = indexes.get(name)
        if index is None:
            watched = _watched(name)
            known = self._index_fields.get(collection, frozenset())
            self._index_fields[collection] = None if watched is None or known is None or not _STAMPS.isdisjoint(
                watched) else known | watched
            index = indexes[name] = {}
            for record_id, record in self._collections[collection].items():
                index.setdefault(_key(record, name), set()).add(record_id)
        return index

    def first(self, collection: str, predicate: Callable[[Record], bool]) -> Record | None:
        """Return the first record (in id order) that satisfies a predicate."""
        for record in self.all(collection):
            if predicate(record):
                return record
        return None

    def collections(self) -> Iterable[str]:
        """Return the collection names."""
        return self._collections.keys()

    def export(self) -> dict[str, list[Record]]:
        """Return every collection as sorted lists (deterministic)."""
        with self.lock:
            return {name: self.all(name) for name in sorted(self._collections)}
