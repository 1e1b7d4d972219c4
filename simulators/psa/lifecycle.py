"""The approval lifecycle shared by time entries and expenses, one at a time or in bulk.

DRAFT -> SUBMITTED -> APPROVED | RETURNED; RETURNED, RECALLED (taken back while SUBMITTED) and
REOPENED (taken back after approval, starting the next revision) are editable and submittable
again. Approval values the entry and appends the valuation to `approvals`; the cost ledger gets
the approved cost, and a reopen reverses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from simulators.common.api import Handler, Operations, Reply, Request, ok
from simulators.common.clock import isoformat
from simulators.common.errors import ApiProblem, invalid_transition, not_found
from simulators.common.store import Record, Store
from simulators.psa import cost_ledger
from simulators.psa.staffing import check_bookable
from simulators.psa.values import day, find_referenced

EDITABLE = frozenset({"DRAFT", "RETURNED", "RECALLED", "REOPENED"})
DELETED = "DELETED"

# action -> (statuses it is allowed from, status it leads to, event verb)
ACTIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "submit": (EDITABLE, "SUBMITTED", "submitted"),
    "approve": (frozenset({"SUBMITTED"}), "APPROVED", "approved"),
    "return": (frozenset({"SUBMITTED"}), "RETURNED", "returned"),
    "recall": (frozenset({"SUBMITTED"}), "RECALLED", "recalled"),
    "reopen": (frozenset({"APPROVED"}), "REOPENED", "reopened"),
}


@dataclass(frozen=True, slots=True)
class EntryKind:
    """What differs between time entries and expenses."""

    collection: str
    noun: str
    event: str
    path_id: str
    value: Callable[[Store, Record], Record]
    """Return the valuation of an entry being approved (its fields go to `approvals`)."""
    valued_fields: tuple[str, ...]
    """Valuation fields also kept on the entry itself while it is APPROVED."""
    cost: Callable[[Record], tuple[Decimal, str, str, Decimal]]
    """Return (hours, ledger component, currency, cost) of an approval."""


def get_entry(store: Store, kind: EntryKind, entry_id: str) -> Record:
    """Return a live entry, or raise 404 (deleted entries are gone for the API)."""
    entry = store.find(kind.collection, entry_id)
    if entry is None or entry["status"] == DELETED:
        raise not_found(kind.noun, entry_id)
    return entry


def check_bookable_entry(store: Store, entry: Record) -> Record:
    """Apply the booking rules to an entry as it stands; return the assignment that covers it."""
    resource = find_referenced(store, "resources", entry["resource_id"], "resource_id")
    project = find_referenced(store, "projects", entry["project_id"], "project_id")
    return check_bookable(store, resource, project, day(entry["date"]), entry["task_id"])


def _post_cost(store: Store, kind: EntryKind, entry: Record, approval: Record, sign: int) -> None:
    hours, component, currency, amount = kind.cost(approval)
    cost_ledger.post(store, entry["project_id"], approval["date"], hours * sign, component, currency, amount * sign)


def transition(request: Request, kind: EntryKind, entry: Record, action: str, reason: str | None = None,
               bookable: bool = False) -> Record:
    """Apply a lifecycle action to an entry (409 when not allowed from its status) and emit its event.

    `bookable`: the booking rules were just applied to the entry as it stands (a timesheet submits the
    entry it has created in the same request), so a submit need not apply them again.
    """
    allowed, target, verb = ACTIONS[action]
    if entry["status"] not in allowed:
        raise invalid_transition(kind.noun, entry["id"], entry["status"], action)
    stamp = isoformat(request.now)
    changes: dict[str, Any] = {"status": target}
    if action == "submit":
        if not bookable:
            check_bookable_entry(request.store, entry)
        changes["submitted_at"] = stamp
    elif action == "approve":
        valuation = kind.value(request.store, entry)
        approval = {"revision": entry["revision"], **valuation, "approved_at": stamp}
        changes.update({name: valuation[name] for name in kind.valued_fields})
        changes.update(approved_at=stamp, approvals=[*entry["approvals"], approval])
        _post_cost(request.store, kind, entry, approval, 1)
    elif action == "return":
        changes["return_reason"] = reason
    elif action == "reopen":
        _post_cost(request.store, kind, entry, entry["approvals"][-1], -1)
        changes.update({name: None for name in kind.valued_fields})
        changes.update(approved_at=None, revision=entry["revision"] + 1, reopen_reason=reason)
    updated = request.store.update(kind.collection, entry["id"], changes)
    request.emit(f"{kind.event}.{verb}", updated)
    return updated


def transition_handler(kind: EntryKind, action: str) -> Handler:
    """Return the handler of one entry's lifecycle action."""

    def handle(request: Request) -> Reply:
        entry = get_entry(request.store, kind, request.path[kind.path_id])
        request.check_if_match(entry)
        reason = request.body.get("reason") if isinstance(request.body, dict) else None
        return ok(transition(request, kind, entry, action, reason))

    handle.__doc__ = f"Apply `{action}` to one {kind.noun}."
    return handle


def bulk_handler(kind: EntryKind, action: str) -> Handler:
    """Return the handler applying an action to many entries, one result per id."""

    def handle(request: Request) -> Reply:
        reason = request.body.get("reason")
        results: list[Record] = []
        for index, entry_id in enumerate(request.body["ids"]):
            mark = len(request.events)
            try:
                with request.store.transaction():
                    entry = get_entry(request.store, kind, entry_id)
                    transition(request, kind, entry, action, reason)
                results.append({"index": index, "status": 200, "id": entry_id})
            except ApiProblem as problem:
                del request.events[mark:]
                results.append({"index": index, "status": problem.status, "id": entry_id,
                                "problem": problem.to_dict()})
        return Reply(200, {"results": results})

    handle.__doc__ = f"Apply `{action}` to many {kind.noun} records."
    return handle


def check_editable(kind: EntryKind, entry: Record, action: str) -> None:
    """Refuse to edit an entry that is not in an editable status."""
    if entry["status"] not in EDITABLE:
        raise invalid_transition(kind.noun, entry["id"], entry["status"], action)


def delete_handler(kind: EntryKind) -> Handler:
    """Return the handler deleting a DRAFT entry (kept as a tombstone the API no longer shows)."""

    def handle(request: Request) -> Reply:
        entry = get_entry(request.store, kind, request.path[kind.path_id])
        request.check_if_match(entry)
        if entry["status"] != "DRAFT":
            raise invalid_transition(kind.noun, entry["id"], entry["status"], "delete")
        deleted = request.store.update(kind.collection, entry["id"], {"status": DELETED})
        request.emit(f"{kind.event}.deleted", deleted)
        return Reply(204)

    handle.__doc__ = f"Delete a DRAFT {kind.noun}."
    return handle


def get_handler(kind: EntryKind) -> Handler:
    """Return the handler reading one entry."""

    def handle(request: Request) -> Reply:
        return ok(get_entry(request.store, kind, request.path[kind.path_id]))

    handle.__doc__ = f"Read one {kind.noun}."
    return handle


def _days(date_from: str | None, date_to: str | None, most: int = 62) -> list[str] | None:
    """Return the ISO days from `date_from` to `date_to`, None unless both are ISO dates at most `most` days apart."""
    if date_from is None or date_to is None:
        return None
    try:
        first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        return None
    if first.isoformat() != date_from or last.isoformat() != date_to or (last - first).days > most:
        return None
    return [(first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)]


def list_handler(kind: EntryKind) -> Handler:
    """Return the handler listing entries with the project, resource, status and date filters."""

    def handle(request: Request) -> Reply:
        query = request.query

        def wanted(entry: Record) -> bool:
            return (entry["status"] != DELETED
                    and all(entry[name] == query[name] for name in ("project_id", "resource_id", "status")
                            if name in query)
                    and ("date_from" not in query or entry["date"] >= query["date_from"])
                    and ("date_to" not in query or entry["date"] <= query["date_to"]))

        for indexed in ("project_id", "resource_id"):
            if indexed in query:
                days = _days(query.get("date_from"), query.get("date_to"))
                if days is None:
                    candidates = request.store.where_equal(kind.collection, indexed, query[indexed])
                else:  # a week of a long project: its days, not every entry the project ever had
                    candidates = request.store.where_equal_any(kind.collection, (indexed, "date"),
                                                               [(query[indexed], on) for on in days])
                return request.page([entry for entry in candidates if wanted(entry)])
        return request.page(request.store.where(kind.collection, wanted))

    handle.__doc__ = f"List {kind.noun} records."
    return handle


def register(operations: Operations, kind: EntryKind, singular: str, plural: str) -> None:
    """Register the shared handlers of an entry kind under its operationIds."""
    operations(f"get{singular}")(get_handler(kind))
    operations(f"list{plural}")(list_handler(kind))
    operations(f"delete{singular}")(delete_handler(kind))
    for action in ACTIONS:
        operations(f"{action}{singular}")(transition_handler(kind, action))
    operations(f"bulkApprove{plural}")(bulk_handler(kind, "approve"))
    operations(f"bulkReturn{plural}")(bulk_handler(kind, "return"))
