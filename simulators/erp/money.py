"""Money and calendar helpers of the ERP: one rounding rule, periods, safe date arithmetic.

Rounding rule (the ERP's one documented rule): each invoice or credit-memo line's net amount and its
tax are rounded separately to cents with ROUND_HALF_UP; document totals are sums of rounded lines.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simulators.common.errors import validation_error

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | str | int) -> Decimal:
    """Return an amount rounded half up to cents."""
    # the rounding passed by position: by keyword, the call costs more than the rounding itself
    return (Decimal(value) + 0).quantize(CENT, ROUND_HALF_UP)


def money_str(value: Decimal | str | int) -> str:
    """Return an amount as the API's decimal string (`1250.00`, never `-0.00`)."""
    # str of an amount in cents never takes exponent notation, so it is the `:f` form, at a third of the cost
    text = str(money(value))
    return "0.00" if text == "-0.00" else text


def total(values: Iterable[Decimal | str]) -> Decimal:
    """Return the sum of amounts."""
    return sum((Decimal(value) for value in values), ZERO)


def decimal_str(value: str) -> str:
    """Return a non-money decimal (quantity, rate) in canonical form, keeping its scale."""
    return f"{Decimal(value):f}"


def parse_date(value: str, field: str) -> date:
    """Return a business date from an ISO string, or a 400 naming the field."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise validation_error(field, f"not a calendar date: {value!r}") from error


def add_days(day: date, days: int) -> date:
    """Return `day` plus `days`, clamped to the calendar's ends."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def period_of(day: date) -> str:
    """Return the accounting period (calendar month) of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def period_start(period: str) -> date:
    """Return the first day of a period."""
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1)


def period_end(period: str) -> date:
    """Return the last day of a period."""
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(period: str, months: int) -> str | None:
    """Return the period `months` after `period`, or None beyond year 9999."""
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) + months
    if index < 12 or index >= 10000 * 12:
        return None
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_name(period: str) -> str:
    """Return a period as a reader would write it (`April 2026`)."""
    year, month = (int(part) for part in period.split("-"))
    return f"{calendar.month_name[month]} {year}"
