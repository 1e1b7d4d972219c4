"""The ledger's batch operations: what the single forms do, for many records at once.

`processed_among`, `record_processed_many`, `record_received_many`, `applied_versions`,
`set_applied_versions`, `external_ids` and `link_many` cost one statement each on a database ledger
(an adapter overrides the `_...many` forms below; their defaults loop over the single forms), so a
bulk approval's hundred messages cost a handful of round trips instead of a dozen each. Each checks
everything before it writes, as the single forms do.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import datetime

from syncengine.ledger.records import DuplicateTracking, Tracking, XrefConflict, XrefEntry
from syncengine.ledger.work import UnitsOfWork, standalone

TrackingKey = tuple[str, str, int, str]
"""(system, source id, source version, handler): what a tracking record is unique on."""


class LedgerBatches(UnitsOfWork):
    """Tracking, received ids, applied versions and cross-references, many at a time."""

    @standalone
    def processed_among(self, keys: Sequence[TrackingKey]) -> set[TrackingKey]:
        """Return which (system, source id, version, handler) of `keys` were already processed."""
        if not keys:
            return set()
        with self._lock:
            return self._tracking_among(list(dict.fromkeys(keys)))

    @standalone
    def record_processed_many(self, trackings: Sequence[Tracking]) -> None:
        """Record several processed messages; raise DuplicateTracking, recording none, when any already was."""
        if not trackings:
            return
        with self.unit_of_work():
            keys = [_tracking_key(tracking) for tracking in trackings]
            if len(set(keys)) != len(keys):
                raise DuplicateTracking("the same message is tracked twice in one batch")
            done = self._tracking_among(keys)
            if done:
                system, source_id, version, handler = min(done)
                raise DuplicateTracking(f"{handler} already processed {system} {source_id} v{version}")
            self._insert_trackings(list(trackings))

    @standalone
    def record_received_many(self, system: str, event_ids: Sequence[str], now: datetime) -> set[str]:
        """Record inbound event ids; return the ones that are new (an id twice in the list counts once)."""
        if not event_ids:
            return set()
        with self.unit_of_work():
            return self._insert_received_many(system, list(dict.fromkeys(event_ids)), now)

    @standalone
    def applied_versions(self, keys: Sequence[str]) -> dict[str, int]:
        """Return the last version applied of each key that has one (keys without one are left out)."""
        if not keys:
            return {}
        with self._lock:
            return self._get_applied_many(sorted(set(keys)))

    @standalone
    def set_applied_versions(self, versions: Mapping[str, int]) -> None:
        """Store the last version applied of several keys."""
        if not versions:
            return
        with self.unit_of_work():
            self._put_applied_many(dict(versions))

    @standalone
    def external_ids(self, kind: str, system: str, canonical_keys: Sequence[str]) -> dict[str, str]:
        """Return one system's id of a `kind` for each canonical key linked to one (others left out)."""
        if not canonical_keys:
            return {}
        with self._lock:
            return self._xref_ids(kind, system, list(dict.fromkeys(canonical_keys)))

    @standalone
    def link_many(self, entries: Sequence[XrefEntry]) -> None:
        """Link several ids as `link` does each (idempotent); raise XrefConflict, linking none, on a clash."""
        if not entries:
            return
        with self.unit_of_work():
            new: dict[tuple[str, str, str], XrefEntry] = {}
            for group, members in _by_kind_and_system(entries).items():
                kind, system = group
                by_id, by_key = _checked_within(kind, system, members)
                linked_keys = self._xref_keys(kind, system, list(by_id))
                linked_ids = self._xref_ids(kind, system, list(by_key))
                new.update(_unlinked(kind, system, members, linked_keys, linked_ids))
            if new:
                self._insert_xrefs(list(new.values()))

    # -- batch forms: one statement each on a database; these defaults loop over the single forms

    def _tracking_among(self, keys: list[TrackingKey]) -> set[TrackingKey]:
        return {key for key in keys if self._has_tracking(*key)}

    def _insert_trackings(self, trackings: list[Tracking]) -> None:
        for tracking in trackings:
            self._insert_tracking(tracking)

    def _insert_received_many(self, system: str, event_ids: list[str], now: datetime) -> set[str]:
        return {event_id for event_id in event_ids if self._insert_received(system, event_id, now)}

    def _get_applied_many(self, keys: list[str]) -> dict[str, int]:
        versions = {key: self._get_applied(key) for key in keys}
        return {key: version for key, version in versions.items() if version is not None}

    def _put_applied_many(self, versions: dict[str, int]) -> None:
        for key, version in versions.items():
            self._put_applied(key, version)

    def _xref_ids(self, kind: str, system: str, canonical_keys: list[str]) -> dict[str, str]:
        found = {key: self._xref_id(kind, system, key) for key in canonical_keys}
        return {key: external_id for key, external_id in found.items() if external_id is not None}

    def _xref_keys(self, kind: str, system: str, external_ids: list[str]) -> dict[str, str]:
        found = {external_id: self._xref_key(kind, system, external_id) for external_id in external_ids}
        return {external_id: key for external_id, key in found.items() if key is not None}

    def _insert_xrefs(self, entries: list[XrefEntry]) -> None:
        for entry in entries:
            self._insert_xref(entry)


    # -- the single forms, which every adapter provides ---------------------------------------------

    @abc.abstractmethod
    def _has_tracking(self, system: str, source_id: str, source_version: int, handler: str) -> bool: ...

    @abc.abstractmethod
    def _insert_tracking(self, tracking: Tracking) -> None: ...

    @abc.abstractmethod
    def _insert_received(self, system: str, event_id: str, now: datetime) -> bool: ...

    @abc.abstractmethod
    def _xref_key(self, kind: str, system: str, external_id: str) -> str | None: ...

    @abc.abstractmethod
    def _xref_id(self, kind: str, system: str, canonical_key: str) -> str | None: ...

    @abc.abstractmethod
    def _insert_xref(self, entry: XrefEntry) -> None: ...

    @abc.abstractmethod
    def _get_applied(self, key: str) -> int | None: ...

    @abc.abstractmethod
    def _put_applied(self, key: str, version: int) -> None: ...


def _tracking_key(tracking: Tracking) -> TrackingKey:
    return (tracking.system, tracking.source_id, tracking.source_version, tracking.handler)


def _by_kind_and_system(entries: Sequence[XrefEntry]) -> dict[tuple[str, str], list[XrefEntry]]:
    groups: dict[tuple[str, str], list[XrefEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.kind, entry.system), []).append(entry)
    return groups


def _checked_within(kind: str, system: str, members: list[XrefEntry]) -> tuple[dict[str, str], dict[str, str]]:
    """Return one group's links by external id and by canonical key; raise XrefConflict on a clash inside it."""
    by_id: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for entry in members:
        if by_id.setdefault(entry.external_id, entry.canonical_key) != entry.canonical_key:
            raise XrefConflict(f"{system} {kind} {entry.external_id} is linked to two keys in one "
                               f"batch: {by_id[entry.external_id]} and {entry.canonical_key}")
        if by_key.setdefault(entry.canonical_key, entry.external_id) != entry.external_id:
            raise XrefConflict(f"{entry.canonical_key} gets two {system} {kind} ids in one batch: "
                               f"{by_key[entry.canonical_key]} and {entry.external_id}")
    return by_id, by_key


def _unlinked(kind: str, system: str, members: list[XrefEntry], linked_keys: Mapping[str, str],
              linked_ids: Mapping[str, str]) -> dict[tuple[str, str, str], XrefEntry]:
    """Return one group's entries not linked yet; raise XrefConflict where one side is linked otherwise."""
    new: dict[tuple[str, str, str], XrefEntry] = {}
    for entry in members:
        linked_key = linked_keys.get(entry.external_id)
        if linked_key == entry.canonical_key:
            continue
        if linked_key is not None:
            raise XrefConflict(f"{system} {kind} {entry.external_id} is already linked to {linked_key}, "
                               f"not {entry.canonical_key}")
        linked_id = linked_ids.get(entry.canonical_key)
        if linked_id is not None:
            raise XrefConflict(f"{entry.canonical_key} already has {system} {kind} {linked_id}, "
                               f"not {entry.external_id}")
        new[(kind, system, entry.external_id)] = entry
    return new
