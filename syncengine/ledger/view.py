"""A handler's view of the ledger for a batch of messages: read in bulk first, written in bulk last.

A batch handler runs a key's messages in order as its single form would one by one, but against this
view: `load_*` reads what the batch will need in one statement per kind of record, each read and
write after that is answered in memory, and `flush` writes what changed in one statement per kind.
Reads the view was not loaded with go to the ledger (and are kept). It lives inside the unit of work
of its messages, so what it reads is held as the ledger holds it (PostgreSQL locks applied versions)
and what it writes commits with their tracking records, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.records import XrefConflict, XrefEntry


class LedgerView:
    """Applied versions and cross-references as a batch sees them: the ledger's, then its own writes."""

    def __init__(self, ledger: AbstractLedger) -> None:
        self.ledger = ledger
        self._applied: dict[str, int | None] = {}
        self._ids: dict[tuple[str, str, str], str | None] = {}
        self._written_versions: dict[str, int] = {}
        self._written_links: list[XrefEntry] = []

    def load_applied(self, keys: Iterable[str]) -> None:
        """Read the applied versions of `keys` not read yet, in one go."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._applied]
        if wanted:
            found = self.ledger.applied_versions(wanted)
            self._applied.update((key, found.get(key)) for key in wanted)

    def load_external_ids(self, kind: str, system: str, canonical_keys: Iterable[str]) -> None:
        """Read one system's ids of a `kind` for `canonical_keys` not read yet, in one go."""
        wanted = [key for key in dict.fromkeys(canonical_keys) if (kind, system, key) not in self._ids]
        if wanted:
            found = self.ledger.external_ids(kind, system, wanted)
            self._ids.update(((kind, system, key), found.get(key)) for key in wanted)

    def applied_version(self, key: str) -> int | None:
        """Return the last version applied for a key, as the batch sees it."""
        if key not in self._applied:
            self._applied[key] = self.ledger.applied_version(key)
        return self._applied[key]

    def set_applied_version(self, key: str, version: int) -> None:
        """Note the last version applied for a key (written by `flush`)."""
        self._applied[key] = version
        self._written_versions[key] = version

    def external_id(self, kind: str, system: str, canonical_key: str) -> str | None:
        """Return one system's id of a `kind` linked to a canonical key, as the batch sees it."""
        record = (kind, system, canonical_key)
        if record not in self._ids:
            self._ids[record] = self.ledger.external_id(kind, system, canonical_key)
        return self._ids[record]

    def link(self, kind: str, system: str, external_id: str, canonical_key: str) -> None:
        """Note a link (written by `flush`, which also refuses an id already linked to another key)."""
        linked_id = self.external_id(kind, system, canonical_key)
        if linked_id == external_id:
            return
        if linked_id is not None:
            raise XrefConflict(f"{canonical_key} already has {system} {kind} {linked_id}, not {external_id}")
        self._ids[(kind, system, canonical_key)] = external_id
        self._written_links.append(XrefEntry(kind, system, external_id, canonical_key))

    def flush(self) -> None:
        """Write the batch's applied versions and links, one statement each."""
        versions, links = self._written_versions, self._written_links
        self._written_versions, self._written_links = {}, []
        self.ledger.set_applied_versions(versions)
        self.ledger.link_many(links)
