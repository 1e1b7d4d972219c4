"""Reading values out of facts and state exports: money, dates, periods, and ids inside nested data.

Money is Decimal, rounded with one rule: half up to the cent (`cents`), as DESIGN.md rule 5 says.
Readers never trust their input: a malformed value raises `BadValue`, which the oracle turns into a
violation naming the record rather than a traceback.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE_DAY = timedelta(days=1)


class BadValue(ValueError):
    """A value in truth or in a state export that cannot be read as what it should be."""


def decimal(value: Any, what: str = "amount") -> Decimal:
    """Return a Decimal from a decimal string or int (never a float)."""
    kind = type(value)
    if kind is Decimal:
        return value  # type: ignore[no-any-return]
    if kind is not str and kind is not int:
        raise BadValue(f"{what}: expected a decimal string, got {value!r}")
    try:
        result = Decimal(value)
    except InvalidOperation as error:
        raise BadValue(f"{what}: expected a decimal string, got {value!r}") from error
    if not result.is_finite():
        raise BadValue(f"{what}: expected a finite decimal, got {value!r}")
    return result


def optional_decimal(value: Any, what: str = "amount") -> Decimal | None:
    """Return a Decimal, or None for None."""
    return None if value is None else decimal(value, what)


def cents(value: Decimal) -> Decimal:
    """Round half up to the cent, without a negative zero."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else ZERO


def money_text(value: Decimal | None) -> str | None:
    """Write an amount as the APIs carry it ("1250.00")."""
    return None if value is None else f"{cents(value):f}"


def same_money(actual: Any, expected: Decimal) -> bool:
    """Tell whether a system's amount equals the expected one to the cent (zero tolerance)."""
    try:
        value = decimal(actual)
    except BadValue:
        return False
    return value == expected or cents(value) == cents(expected)  # equal amounts are equal to the cent


def day(value: Any, what: str = "date") -> date:
    """Return a business date from an ISO date (or the date part of an ISO instant)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise BadValue(f"{what}: expected an ISO date, got {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as error:
        raise BadValue(f"{what}: expected an ISO date, got {value!r}") from error


def optional_day(value: Any, what: str = "date") -> date | None:
    """Return a business date, or None for None."""
    return None if value is None else day(value, what)


def period_end(period: Any) -> date:
    """Return the last day of a `YYYY-MM` period (an ISO date is taken as the period end itself)."""
    if isinstance(period, str) and len(period) == 7:
        try:
            year, month = int(period[:4]), int(period[5:])
            return date(year, month, calendar.monthrange(year, month)[1])
        except ValueError as error:
            raise BadValue(f"period: expected YYYY-MM, got {period!r}") from error
    return day(period, "period")


def month_starts(first: date, last: date) -> Iterator[date]:
    """Yield the first day of every month from the month of `first` to the month of `last`."""
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield date(year, month, 1)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def month_end(day: date) -> date:
    """Return the last day of a date's month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """Return the first day of the month `months` after a date's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def days_in_month(first: date) -> int:
    """Return how many days the month of a date has."""
    return calendar.monthrange(first.year, first.month)[1]


def strings_in(value: Any) -> Iterator[str]:
    """Yield every string inside nested dicts and lists (keys excluded), depth first, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
