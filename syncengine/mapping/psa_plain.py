"""Plain readings of PSA time entries and expenses: a well-formed record read without `psa_work.Fields`.

Every approval is read by two flows (billing, cost), and through `Fields` a reading cost 17-25 us, most
of it the checks' calls. A plain reading checks the same things inline on a dict of exactly the JSON
types and gives the same entry; anything else (a missing or odd field, a Mapping that is not a dict)
raises `NotPlain`, and `psa_work` then reads it through `Fields`, which accepts it or refuses it naming
the field.
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


def _text(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if type(value) is not str or not value:
        raise NotPlain
    return value


def _optional_text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and type(value) is not str:
        raise NotPlain
    return value


def _integer(raw: dict[str, Any], name: str) -> int:
    value = raw.get(name)
    if type(value) is not int:  # not a bool either
        raise NotPlain
    return value


def _finite(raw: dict[str, Any], name: str) -> Decimal:
    value = raw.get(name)
    if type(value) is not str:
        raise NotPlain
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise NotPlain from None
    if not number.is_finite():
        raise NotPlain
    return number


def _plain_valuation(raw: Any, amount_field: str | None) -> Valuation:
    """Read an approval: a time entry's (hours x bill rate, `amount_field` None) or an expense's amount."""
    if type(raw) is not dict:
        raise NotPlain
    currency = raw.get("currency")
    if type(currency) is not str or currency not in MINOR_UNITS:
        raise NotPlain
    day = _text(raw, "date")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise NotPlain from None
    billable = raw.get("billable")
    if type(billable) is not bool:
        raise NotPlain
    if amount_field is None:
        quantity, rate = _finite(raw, "hours"), _finite(raw, "bill_rate")
        amount = quantize(_finite(raw, "bill_amount"), currency)
    else:
        amount = quantize(_finite(raw, amount_field), currency)
        quantity, rate = Decimal(1), amount
    return Valuation(revision=_integer(raw, "revision"), date=when, quantity=quantity, rate=rate, amount=amount,
                     currency=currency, billable=billable)


def _plain_common(system: str, raw: Any, amount_field: str | None) -> dict[str, Any]:
    if type(raw) is not dict:
        raise NotPlain
    revision = _integer(raw, "revision")
    status = _STATUSES.get(_text(raw, "status"))
    approvals = raw.get("approvals")
    if revision < 1 or status is None or type(approvals) is not list:
        raise NotPlain
    return {"system": system, "entry_id": _text(raw, "id"), "version": _integer(raw, "version"),
            "project_id": _text(raw, "project_id"), "worker_id": _text(raw, "resource_id"), "status": status,
            "revision": revision, "approvals": tuple(_plain_valuation(item, amount_field) for item in approvals)}


def plain_time_entry(system: str, raw: Any) -> TimeEntry:
    """Read a well-formed PSA time entry, as `psa_work.time_entry` would; raise NotPlain for anything else."""
    common = _plain_common(system, raw, None)
    return TimeEntry(**common, description=_optional_text(raw, "notes"), role=_optional_text(raw, "role"))


def plain_expense(system: str, raw: Any) -> Expense:
    """Read a well-formed PSA expense, as `psa_work.expense` would; raise NotPlain for anything else."""
    common = _plain_common(system, raw, "amount")
    category = _text(raw, "category")
    description = _optional_text(raw, "description")
    return Expense(**common, description=f"{category}: {description}" if description else category,
                   category=category)
