"""Small value helpers of the firm model: money, hours, business dates and seeded random draws.

Money is `Decimal`, quantized to cents half up (firmsim's one rounding rule) and carried to the
systems as decimal strings. Random draws take the actor family's `random.Random` stream explicitly.
"""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

CENT = Decimal("0.01")
QUARTER_HOUR = Decimal("0.25")
ZERO = Decimal("0.00")
ENTITY_CURRENCY = {"US01": "USD", "UK01": "GBP", "DE01": "EUR"}
ENTITY_COUNTRY = {"US01": "US", "UK01": "GB", "DE01": "DE"}
ENTITY_LOCALE = {"US01": "en_US", "UK01": "en_GB", "DE01": "de_DE"}
ROLES = ("ANALYST", "CONSULTANT", "SENIOR_CONSULTANT", "MANAGER", "SENIOR_MANAGER", "PARTNER")

T = TypeVar("T")


def money(value: Decimal | float | int | str) -> Decimal:
    """Return an amount quantized to cents, half up, without a negative zero."""
    rounded = (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else ZERO


def text(value: Decimal) -> str:
    """Return an amount or hours as the APIs carry it (`"1250.00"`)."""
    return str(money(value))


def whole(value: Decimal, unit: int = 1) -> Decimal:
    """Round to a multiple of `unit` (prices are quoted in round figures), half up."""
    step = Decimal(unit)
    return money((value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


NEGATIVE_ZERO_HOURS = Decimal("-0.00")
_QUARTERS = tuple(Decimal(count) * QUARTER_HOUR for count in range(200))


def quarter_hours(value: float) -> Decimal:
    """Round hours to the quarter hour, half up (away from zero), as people book time.

    The same figure as rounding `Decimal(str(value)) / 0.25` half up, without the decimal
    arithmetic (every timesheet line): times 4 is exact on a float, and a float and the decimal
    text it prints as lie on the same side of each half-quarter (those are floats themselves).
    """
    quarters = abs(value) * 4
    count = math.floor(quarters)
    count += quarters - count >= 0.5
    if math.copysign(1.0, value) < 0:
        return -(Decimal(count) * QUARTER_HOUR) if count else NEGATIVE_ZERO_HOURS
    return _QUARTERS[count] if count < len(_QUARTERS) else Decimal(count) * QUARTER_HOUR


# Dates -------------------------------------------------------------------------------------------

# Days every entity's office is closed (New Year's Day, Christmas Day, Boxing Day / 2nd Christmas Day).
FIRM_HOLIDAYS = ((1, 1), (12, 25), (12, 26))


def is_holiday(day: date) -> bool:
    """Tell whether a date is a firm-wide public holiday."""
    return (day.month, day.day) in FIRM_HOLIDAYS


def monday_of(day: date) -> date:
    """Return the Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def next_monday(day: date) -> date:
    """Return the first Monday on or after `day`."""
    return day + timedelta(days=(7 - day.weekday()) % 7)


def is_workday(day: date) -> bool:
    """Tell whether `day` is a Monday to Friday that is not a firm-wide holiday."""
    return day.weekday() < 5 and not is_holiday(day)


def workday_on_or_after(day: date) -> date:
    """Return `day`, or the next working day when it falls on a weekend or holiday."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workday_on_or_before(day: date) -> date:
    """Return `day`, or the working day before it when it falls on a weekend or holiday."""
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def workdays(start: date, end: date) -> list[date]:
    """Return the working days (Monday to Friday, holidays excepted) from `start` to `end` inclusive."""
    count = (end - start).days + 1
    return [day for day in (start + timedelta(days=offset) for offset in range(max(0, count))) if is_workday(day)]


def month_end(day: date) -> date:
    """Return the last day of the month of `day`."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """Return the first day of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def business_day(year: int, month: int, number: int) -> date:
    """Return the `number`-th Monday-to-Friday day of a month (1 = the first)."""
    day = date(year, month, 1)
    seen = 0
    while True:
        if is_workday(day):
            seen += 1
            if seen == number:
                return day
        day += timedelta(days=1)


def last_business_day(day: date) -> date:
    """Return the last Monday-to-Friday day of the month of `day`."""
    return workday_on_or_before(month_end(day))


def period_of(day: date) -> str:
    """Return the accounting period (`YYYY-MM`) of a date."""
    return f"{day.year:04d}-{day.month:02d}"


# Random draws ------------------------------------------------------------------------------------

def chance(rng: random.Random, probability: float) -> bool:
    """Return True with the given probability."""
    return rng.random() < probability


def weighted(rng: random.Random, weights: Mapping[T, float]) -> T:
    """Pick a key with probability proportional to its weight (in the mapping's order)."""
    items = [(key, weight) for key, weight in weights.items() if weight > 0]
    if not items:
        raise ValueError("no positive weight to choose from")
    total = sum(weight for _, weight in items)
    threshold = rng.random() * total
    cumulative = 0.0
    for key, weight in items:
        cumulative += weight
        if threshold < cumulative:
            return key
    return items[-1][0]


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """Pick one element uniformly."""
    return options[int(rng.random() * len(options))]


def poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth below 30, a rounded normal above)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def triangular(rng: random.Random, low: float, mode: float, high: float) -> float:
    """Draw from a triangular distribution (low <= mode <= high)."""
    if high <= low:
        return low
    return rng.triangular(low, high, min(max(mode, low), high))


def bounded_gauss(rng: random.Random, mean: float, sd: float, low: float, high: float) -> float:
    """Draw a normal value clipped to [low, high]."""
    return min(high, max(low, rng.gauss(mean, sd)))
