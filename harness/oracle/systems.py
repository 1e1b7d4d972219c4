"""The systems' end state as the admin API exports it (`GET /admin/state`), indexed for checking.

An export is {"system", "kind", "records": {collection: [records]}, "state": {...}}. The oracle
picks one instance per kind (crm, psa, hcm, erp): the one named after its kind, else the only one of
that kind. A missing system or collection reads as empty, so an invariant fails on what is missing
rather than the oracle crashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.oracle.values import strings_in

Record = dict[str, Any]


class AmbiguousSystem(ValueError):
    """More than one instance of a kind and none named after it (a cutover run needs its own oracle)."""


@dataclass(frozen=True)
class SystemState:
    """One system's records by collection, in id order, with lookups indexed on first use.

    The export is read, never changed: the indexes stay valid for the life of the check.
    """

    name: str
    kind: str
    records: Mapping[str, list[Record]] = field(default_factory=dict)
    _lists: dict[str, list[Record]] = field(default_factory=dict, compare=False, repr=False)
    _groups: dict[tuple[str, str], dict[Any, list[Record]]] = field(default_factory=dict, compare=False, repr=False)
    _positions: dict[str, dict[int, int]] = field(default_factory=dict, compare=False, repr=False)
    _by_id: dict[str, dict[str, Record]] = field(default_factory=dict, compare=False, repr=False)
    _firsts: dict[tuple[str, ...], dict[Any, Record]] = field(default_factory=dict, compare=False, repr=False)

    def all(self, collection: str) -> list[Record]:
        """Return the records of a collection (empty when the system has no such collection)."""
        if collection not in self._lists:
            self._lists[collection] = [r for r in self.records.get(collection, []) if isinstance(r, dict)]
        return self._lists[collection]

    def position(self, collection: str, record: Record) -> int:
        """Return where a record of the collection stands in id order (for sorting records found by lookups)."""
        if collection not in self._positions:
            self._positions[collection] = {id(item): index for index, item in enumerate(self.all(collection))}
        return self._positions[collection][id(record)]

    def by_id(self, collection: str) -> Mapping[str, Record]:
        """Return a collection keyed by record id (the first record of an id, should ids repeat); read only."""
        found = self._by_id.get(collection)
        if found is None:
            found = self._by_id[collection] = {str(key): records[0]
                                               for key, records in self.group(collection, "id").items()}
        return found

    def first_of(self, collections: tuple[str, ...]) -> Mapping[Any, Record]:
        """Return the records of several collections keyed by id: for an id in more than one, the record that
        `get` finds first going through the collections in order (read only)."""
        found = self._firsts.get(collections)
        if found is None:
            found = {}
            for collection in collections:
                for key, records in self.group(collection, "id").items():
                    if key not in found and records[0]:
                        found[key] = records[0]
            self._firsts[collections] = found
        return found

    def get(self, collection: str, record_id: str | None) -> Record | None:
        """Return one record, or None."""
        if record_id is None:
            return None
        found = self.group(collection, "id").get(record_id)
        return found[0] if found else None

    def where(self, collection: str, **fields: Any) -> list[Record]:
        """Return the records whose fields equal the given values, in id order."""
        if not fields:
            return list(self.all(collection))
        (first, value), *others = fields.items()
        candidates = self.group(collection, first).get(value, []) if _hashable(value) else [
            r for r in self.all(collection) if r.get(first) == value]
        return [record for record in candidates if all(record.get(name) == want for name, want in others)]

    def group(self, collection: str, name: str) -> dict[Any, list[Record]]:
        """Return a collection grouped by one field's value (unhashable values are left out)."""
        key = (collection, name)
        if key not in self._groups:
            groups: dict[Any, list[Record]] = {}
            for record in self.all(collection):
                value = record.get(name)
                if isinstance(value, HASHABLE):
                    groups.setdefault(value, []).append(record)
            self._groups[key] = groups
        return self._groups[key]


HASHABLE = (str, int, float, bool, type(None))
"""The field values records are grouped by (a tuple: isinstance is faster with one than with a union)."""


def _hashable(value: Any) -> bool:
    return isinstance(value, HASHABLE)


def pick(states: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]], kind: str) -> SystemState:
    """Return the instance of a kind among the exports (an empty state when there is none)."""
    exports = list(states.values()) if isinstance(states, Mapping) else list(states)
    of_kind = [export for export in exports if isinstance(export, Mapping)
               and export.get("kind", export.get("system")) == kind]
    named = [export for export in of_kind if export.get("system") == kind]
    if len(named) == 1:
        chosen = named[0]
    elif len(of_kind) == 1:
        chosen = of_kind[0]
    elif not of_kind:
        return SystemState(kind, kind)
    else:
        names = sorted(str(export.get("system")) for export in of_kind)
        raise AmbiguousSystem(f"{len(of_kind)} {kind} systems ({', '.join(names)}) and none named {kind!r}")
    records = chosen.get("records") or {}
    return SystemState(str(chosen.get("system", kind)), kind, records if isinstance(records, Mapping) else {})


@dataclass(frozen=True)
class Systems:
    """The four systems of record."""

    crm: SystemState
    psa: SystemState
    hcm: SystemState
    erp: SystemState
    _contracts: dict[str | None, list[Record]] = field(default_factory=dict, compare=False, repr=False)
    _change_contracts: dict[str, list[Record]] = field(default_factory=dict, compare=False, repr=False)
    _projects: dict[str | None, list[Record]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_exports(cls, states: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]]) -> Systems:
        """Pick the crm, psa, hcm and erp exports."""
        return cls(pick(states, "crm"), pick(states, "psa"), pick(states, "hcm"), pick(states, "erp"))

    def contracts_of(self, opportunity_id: str) -> list[Record]:
        """Return the ERP contracts made from a CRM opportunity (not those booked from its change orders)."""
        self._index_contracts()
        return self._contracts.get(opportunity_id, [])

    def change_contracts_of(self, amendment_id: str) -> list[Record]:
        """Return the ERP contracts booked from a CRM change order (a separate contract, DOMAIN R5 branch 1)."""
        self._index_contracts()
        return self._change_contracts.get(amendment_id, [])

    def amendment_of_contract(self, contract: Record) -> str | None:
        """Return the CRM change order an ERP contract was booked from, None for a deal's own contract.

        A change order that is a separate contract is booked with the amendment as its source (and
        the deal as its opportunity); a deal's own contract has the opportunity as its source.
        """
        source_id = contract.get("source_id")
        if contract.get("source_system") == "crm" and isinstance(source_id, str) \
                and self.crm.get("amendments", source_id) is not None:
            return source_id
        return None

    def _index_contracts(self) -> None:
        if self._contracts or self._change_contracts:
            return
        for contract in self.erp.all("contracts"):
            amendment_id = self.amendment_of_contract(contract)
            if amendment_id is not None:
                self._change_contracts.setdefault(amendment_id, []).append(contract)
            else:
                self._contracts.setdefault(opportunity_of_contract(contract), []).append(contract)

    def projects_of(self, opportunity_id: str) -> list[Record]:
        """Return the PSA projects made from a CRM opportunity."""
        if not self._projects:
            for project in self.psa.all("projects"):
                self._projects.setdefault(opportunity_of_project(project), []).append(project)
        return self._projects.get(opportunity_id, [])


def opportunity_of_contract(contract: Record) -> str | None:
    """Return the CRM opportunity an ERP contract was made from."""
    if contract.get("crm_opportunity_id"):
        return str(contract["crm_opportunity_id"])
    if contract.get("source_system") == "crm" and contract.get("source_id"):
        return str(contract["source_id"])
    return None


def opportunity_of_project(project: Record) -> str | None:
    """Return the CRM opportunity a PSA project was made from."""
    if project.get("crm_opportunity_id"):
        return str(project["crm_opportunity_id"])
    if project.get("source_system") == "crm" and project.get("source_id"):
        return str(project["source_id"])
    return None


@dataclass(frozen=True)
class EngineView:
    """What a sync engine reports about itself: exception queue, dead letters, messages in flight."""

    exceptions: list[Record]
    dead_letters: list[Record]
    in_flight: int
    explanations: dict[str, str]

    @classmethod
    def read(cls, view: Mapping[str, Any] | None) -> EngineView | None:
        """Read the plain-dict engine view (None for an external engine that reports nothing)."""
        if view is None:
            return None
        explained = view.get("explained_dead_letters") or {}
        return cls([dict(item) for item in view.get("exceptions") or [] if isinstance(item, Mapping)],
                   [dict(item) for item in view.get("dead_letters") or [] if isinstance(item, Mapping)],
                   int(view.get("in_flight") or 0),
                   {str(key): str(value) for key, value in explained.items()} if isinstance(explained, Mapping)
                   else {})


def names(item: Record, record_id: str) -> bool:
    """Tell whether an exception or dead letter names a record id (its key, message id or payload)."""
    return record_id in strings_in([item.get("key"), item.get("message_id"), item.get("payload")]) or any(
        isinstance(text, str) and record_id in text.replace("/", ":").split(":")
        for text in (item.get("key"), item.get("message_id")))
