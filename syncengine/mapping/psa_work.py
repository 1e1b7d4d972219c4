"""Read PSA time entries, expenses, milestones, cost actuals and estimates into the canonical model,
and write the ERP's billing status in the PSA's shape. Pure functions, no I/O.

A record that lacks a field or carries one of the wrong type is a poison message (`MalformedEvent`,
reason `malformed-record`, or `malformed-amount` for money that is not a decimal string), named by
the field, so it is dead-lettered rather than retried.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from syncengine.domain.errors import MalformedEvent
from syncengine.domain.messages import SourceEvent
from syncengine.domain.money import MINOR_UNITS, format_amount, parse_amount
from syncengine.domain.work import (
    BillingStatus,
    EntryStatus,
    Expense,
    Milestone,
    ProjectCost,
    TimeEntry,
    Valuation,
    WorkEntry,
)
from syncengine.mapping.psa_plain import NotPlain, plain_expense, plain_time_entry

MALFORMED = "malformed-record"
TIME_EVENTS = "psa.time_entry."
EXPENSE_EVENTS = "psa.expense."


class Fields:
    """Typed reads of one JSON object of an API payload; a bad field is a poison message naming it."""

    def __init__(self, raw: Any, where: str) -> None:
        if type(raw) is not dict and not isinstance(raw, Mapping):  # a dict first: no ABC check per record
            raise MalformedEvent(MALFORMED, f"{where}: expected an object")
        self.raw = raw
        self.where = where

    def _bad(self, name: str, expected: str) -> MalformedEvent:
        return MalformedEvent(MALFORMED, f"{self.where}: {name} must be {expected}, "
                                                 f"got {self.raw.get(name)!r}")

    def text(self, name: str) -> str:
        """Return a non-empty string field."""
        value = self.raw.get(name)
        if not isinstance(value, str) or not value:
            raise self._bad(name, "a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        """Return a string field that may be null or absent."""
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(name, "a string or null")
        return value

    def integer(self, name: str) -> int:
        """Return an integer field (not a boolean)."""
        value = self.raw.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(name, "an integer")
        return value

    def flag(self, name: str) -> bool:
        """Return a boolean field."""
        value = self.raw.get(name)
        if not isinstance(value, bool):
            raise self._bad(name, "a boolean")
        return value

    def day(self, name: str) -> date:
        """Return an ISO date field."""
        value = self.text(name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self._bad(name, "an ISO date (YYYY-MM-DD)") from None

    def optional_day(self, name: str) -> date | None:
        """Return an ISO date field that may be null."""
        return None if self.raw.get(name) is None else self.day(name)

    def decimal(self, name: str) -> Decimal:
        """Return a finite decimal-string field (a quantity or rate; money uses `amount`)."""
        value = self.raw.get(name)
        if not isinstance(value, str):
            raise self._bad(name, "a decimal string")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self._bad(name, "a decimal string") from None
        if not number.is_finite():
            raise self._bad(name, "a finite decimal string")
        return number

    def amount(self, name: str, currency: str) -> Decimal:
        """Return a money field in `currency` (a float or garbage is a poison message)."""
        return parse_amount(self.raw.get(name), currency, f"{self.where}: {name}")

    def currency(self, name: str) -> str:
        """Return an ISO 4217 currency field the engine knows."""
        value = self.text(name)
        if value not in MINOR_UNITS:
            raise self._bad(name, "a known ISO 4217 currency")
        return value

    def objects(self, name: str) -> list[Fields]:
        """Return a list field of objects, each read with its own position in `where`."""
        value = self.raw.get(name)
        if not isinstance(value, list):
            raise self._bad(name, "a list")
        return [Fields(item, f"{self.where}: {name}[{index}]") for index, item in enumerate(value)]


def _status(fields: Fields) -> EntryStatus:
    value = fields.text("status")
    try:
        return EntryStatus(value)
    except ValueError:
        raise MalformedEvent(MALFORMED, f"{fields.where}: status {value!r} is not an entry status") from None


def _time_valuation(fields: Fields) -> Valuation:
    currency = fields.currency("currency")
    return Valuation(revision=fields.integer("revision"), date=fields.day("date"), quantity=fields.decimal("hours"),
                     rate=fields.decimal("bill_rate"), amount=fields.amount("bill_amount", currency),
                     currency=currency, billable=fields.flag("billable"))


def _expense_valuation(fields: Fields) -> Valuation:
    currency = fields.currency("currency")
    amount = fields.amount("amount", currency)
    return Valuation(revision=fields.integer("revision"), date=fields.day("date"), quantity=Decimal(1), rate=amount,
                     amount=amount, currency=currency, billable=fields.flag("billable"))


def _common(system: str, fields: Fields) -> dict[str, Any]:
    revision = fields.integer("revision")
    if revision < 1:
        raise MalformedEvent(MALFORMED, f"{fields.where}: revision must be >= 1, got {revision}")
    return {"system": system, "entry_id": fields.text("id"), "version": fields.integer("version"),
            "project_id": fields.text("project_id"), "worker_id": fields.text("resource_id"),
            "status": _status(fields), "revision": revision}


def time_entry(system: str, data: Any) -> TimeEntry:
    """Read a PSA time entry (`TimeEntry` schema)."""
    try:
        return plain_time_entry(system, data)
    except NotPlain:
        pass
    fields = Fields(data, f"{system} time entry")
    approvals = tuple(_time_valuation(item) for item in fields.objects("approvals"))
    return TimeEntry(**_common(system, fields), approvals=approvals, description=fields.optional_text("notes"),
                     role=fields.optional_text("role"))


def expense(system: str, data: Any) -> Expense:
    """Read a PSA expense (`Expense` schema)."""
    try:
        return plain_expense(system, data)
    except NotPlain:
        pass
    fields = Fields(data, f"{system} expense")
    approvals = tuple(_expense_valuation(item) for item in fields.objects("approvals"))
    category = fields.text("category")
    description = fields.optional_text("description")
    return Expense(**_common(system, fields), approvals=approvals,
                   description=f"{category}: {description}" if description else category, category=category)


def work_entry(system: str, event_type: str, data: Any) -> WorkEntry:
    """Read the time entry or expense an event of type `psa.time_entry.*` / `psa.expense.*` carries."""
    if event_type.startswith(TIME_EVENTS):
        return time_entry(system, data)
    if event_type.startswith(EXPENSE_EVENTS):
        return expense(system, data)
    raise MalformedEvent(MALFORMED, f"{system} {event_type}: not a time entry or expense event")


ENTRIES_KEPT = 4096
"""How many readings `work_entry_of` keeps (the approvals a worker has in flight, a few MB)."""
_entries: OrderedDict[tuple[str, str, int, str], tuple[Mapping[str, Any], WorkEntry]] = OrderedDict()
_entries_lock = threading.Lock()


def work_entry_of(message: SourceEvent) -> WorkEntry:
    """Read the time entry or expense an event carries as `work_entry` does, once for every flow that reads it.

    An approval is read by billing and by cost actuals, each a message of its own (on the bus, each
    decoded apart): the reading is kept by the event (system, id, sequence, type) with the data it was
    read from, and handed to a later reading of the same event whose data is equal (a `WorkEntry` is
    immutable); ~1 us against ~12-25 us to read it. A malformed record is not kept: each flow's reading
    raises, and each dead-letters its own message as before.
    """
    key = (message.system, message.event_id, message.sequence, message.type)
    kept = _entries.get(key)
    if kept is not None and (kept[0] is message.data or kept[0] == message.data):
        return kept[1]
    entry = work_entry(message.system, message.type, message.data)
    with _entries_lock:
        _entries[key] = (message.data, entry)
        while len(_entries) > ENTRIES_KEPT:
            _entries.popitem(last=False)  # the oldest reading
    return entry


def milestone(system: str, data: Any) -> Milestone:
    """Read a PSA milestone (`Milestone` schema)."""
    fields = Fields(data, f"{system} milestone")
    return Milestone(milestone_id=fields.text("id"), version=fields.integer("version"),
                     project_id=fields.text("project_id"), status=fields.text("status"),
                     requires_acceptance=fields.flag("requires_acceptance"),
                     completed_on=fields.optional_day("completed_on"), accepted_on=fields.optional_day("accepted_on"))


def project_cost(body: Any) -> ProjectCost:
    """Read `getProjectCostActuals`: the cumulative approved labour cost per currency to the day it counts to.

    Only labour measures progress on a fixed fee (DOMAIN.md R2): reimbursable expenses are billed to
    the customer on their own and transfer nothing of the fee's promise, so they are left out.
    """
    fields = Fields(body, "PSA cost actuals")
    cumulative = []
    for line in fields.objects("costs"):
        currency = line.currency("currency")
        cumulative.append((currency, Fields(line.raw.get("cumulative"), f"{line.where}.cumulative")
                           .amount("time", currency)))
    return ProjectCost(project_id=fields.text("project_id"), period=fields.text("period"),
                       through=fields.day("through"), cumulative=tuple(sorted(cumulative)))


@dataclass(frozen=True, slots=True)
class Estimate:
    """A project's estimate at completion of cost, as the PSA's project record carries it."""

    project_id: str
    version: int
    eac_cost: Decimal
    currency: str
    as_of: date


def estimate(system: str, data: Any) -> Estimate | None:
    """Read the current estimate of a PSA project (`Project` schema); None when it has none."""
    fields = Fields(data, f"{system} project")
    if data.get("eac_cost") is None:
        return None
    currency = fields.currency("currency")
    return Estimate(project_id=fields.text("id"), version=fields.integer("version"),
                    eac_cost=fields.amount("eac_cost", currency), currency=currency, as_of=fields.day("eac_as_of"))


def project_billing_status_body(status: BillingStatus) -> dict[str, Any]:
    """Write a billing status as `setProjectBillingStatus` takes it."""
    return {"invoiced": format_amount(status.invoiced, status.currency),
            "credited": format_amount(status.credited, status.currency),
            "paid": format_amount(status.paid, status.currency),
            "currency": status.currency, "credit_hold": status.credit_hold,
            "as_of": status.as_of.date().isoformat()}
