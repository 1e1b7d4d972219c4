"""Plain readings of PSA time entries and expenses: a well-formed record read without `psa_work.Fields`.

Every approval is read by two flows (billing, cost), and through `Fields` a reading cost 17-25 us, most
of it the checks' calls. A plain reading checks the same things inline on a dict of exactly the JSON
types and gives the same entry; anything else (a missing or odd field, a Mapping that is not a dict)
raises `NotPlain`, and `psa_work` then reads it through `Fields`, which accepts it or refuses it naming
the field. Which check fails first does not matter: every failure is the same `NotPlain`. The checks
are written out in each reader rather than in small helpers, and the entries are built positionally:
the helpers' calls and the keyword arguments were half of a reading's ~16 us.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from syncengine.domain.money import MINOR_UNITS, quantize
from syncengine.domain.work import EntryStatus, Expense, TimeEntry, Valuation


class NotPlain(Exception):
    """A record the plain reading leaves to `psa_work.Fields`."""


_STATUSES = {status.value: status for status in EntryStatus}


def _optional_text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and type(value) is not str:
        raise NotPlain
    return value


def _day_of(raw: dict[str, Any]) -> date:
    day = raw.get("date")
    if type(day) is not str:
        raise NotPlain
    try:
        return date.fromisoformat(day)  # an empty string is no date either
    except ValueError:
        raise NotPlain from None


def _decimals(*texts: Any) -> list[Decimal]:
    """Read finite decimal strings."""
    numbers = []
    for text in texts:
        if type(text) is not str:
            raise NotPlain
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise NotPlain from None
        if not number.is_finite():
            raise NotPlain
        numbers.append(number)
    return numbers


def _checked(raw: Any) -> tuple[str, bool, int]:
    """Return an approval's currency, billable flag and revision, checked."""
    if type(raw) is not dict:
        raise NotPlain
    currency, billable, revision = raw.get("currency"), raw.get("billable"), raw.get("revision")
    if (type(currency) is not str or currency not in MINOR_UNITS or type(billable) is not bool
            or type(revision) is not int):  # not a bool either
        raise NotPlain
    return currency, billable, revision


def _time_valuation(raw: Any) -> Valuation:
    """Read a time entry's approval: hours x bill rate."""
    currency, billable, revision = _checked(raw)
    when = _day_of(raw)
    quantity, rate, amount = _decimals(raw.get("hours"), raw.get("bill_rate"), raw.get("bill_amount"))
    return Valuation(revision, when, quantity, rate, quantize(amount, currency), currency, billable)


def _expense_valuation(raw: Any) -> Valuation:
    """Read an expense's approval: one of its amount."""
    currency, billable, revision = _checked(raw)
    when = _day_of(raw)
    amount = quantize(_decimals(raw.get("amount"))[0], currency)
    return Valuation(revision, when, Decimal(1), amount, amount, currency, billable)


def _plain_common(raw: Any) -> tuple[str, int, str, str, EntryStatus, int, list[Any]]:
    """Return an entry's id, version, project, resource, status, revision and raw approvals, checked."""
    if type(raw) is not dict:
        raise NotPlain
    get = raw.get
    entry_id, version, project_id, worker_id = get("id"), get("version"), get("project_id"), get("resource_id")
    revision, status_text, approvals = get("revision"), get("status"), get("approvals")
    status = _STATUSES.get(status_text) if type(status_text) is str else None
    if (type(entry_id) is not str or not entry_id or type(version) is not int
            or type(project_id) is not str or not project_id or type(worker_id) is not str or not worker_id
            or type(revision) is not int or revision < 1 or status is None or type(approvals) is not list):
        raise NotPlain
    return entry_id, version, project_id, worker_id, status, revision, approvals


def plain_time_entry(system: str, raw: Any) -> TimeEntry:
    """Read a well-formed PSA time entry, as `psa_work.time_entry` would; raise NotPlain for anything else."""
    entry_id, version, project_id, worker_id, status, revision, approvals = _plain_common(raw)
    valuations = tuple([_time_valuation(item) for item in approvals])
    return TimeEntry(system, entry_id, version, project_id, worker_id, status, revision, valuations,
                     _optional_text(raw, "notes"), _optional_text(raw, "role"))


def plain_expense(system: str, raw: Any) -> Expense:
    """Read a well-formed PSA expense, as `psa_work.expense` would; raise NotPlain for anything else."""
    entry_id, version, project_id, worker_id, status, revision, approvals = _plain_common(raw)
    valuations = tuple([_expense_valuation(item) for item in approvals])
    category = raw.get("category")
    if type(category) is not str or not category:
        raise NotPlain
    description = _optional_text(raw, "description")
    return Expense(system, entry_id, version, project_id, worker_id, status, revision, valuations,
                   f"{category}: {description}" if description else category, None, category)
