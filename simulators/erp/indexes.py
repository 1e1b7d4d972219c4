"""Lookup indexes beside the store, so a posting need not scan every record.

An index only suggests record ids; every hit is checked against the store, so an entry left behind
by a rolled-back request, a reset or a reused id is simply ignored.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from simulators.common.store import Record, Store

_INDEXES: weakref.WeakKeyDictionary[Store, dict[str, dict[str, list[str]]]] = weakref.WeakKeyDictionary()


def remember(store: Store, index: str, key: str, record_id: str) -> None:
    """Note that the record `record_id` is found under `key` in `index`."""
    ids = _INDEXES.setdefault(store, {}).setdefault(index, {}).setdefault(key, [])
    if record_id not in ids:
        ids.append(record_id)


def lookup(store: Store, index: str, collection: str, key: str, matches: Callable[[Record], bool]) -> list[Record]:
    """Return the records indexed under `key` that still exist and still match, in id order."""
    ids = _INDEXES.get(store, {}).get(index, {}).get(key, [])
    found = [record for record in (store.find(collection, record_id) for record_id in sorted(ids))
             if record is not None and matches(record)]
    return found
