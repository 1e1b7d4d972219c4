"""Public holidays of each legal entity's office: the days its people do not work or book time.

US01 keeps the holidays most US professional-services firms give (New Year's Day, Martin Luther
King Jr. Day, Memorial Day, Independence Day, Labor Day, Thanksgiving and the day after,
Christmas; a Saturday holiday is observed on the Friday before, a Sunday one on the Monday after).
UK01 keeps the bank holidays of England and Wales (a weekend holiday moves to the next free
weekday). DE01 keeps Germany's nationwide holidays (no substitutes). Every office is also closed
on the firm-wide days of `scenarios.engine.values.FIRM_HOLIDAYS`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

from scenarios.engine.values import is_workday


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of a year (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """Return the n-th `weekday` (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _us(year: int) -> set[date]:
    def observed(day: date) -> date:
        return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day

    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return {observed(date(year, 1, 1)), _nth_weekday(year, 1, 0, 3), _nth_weekday(year, 5, 0, -1),
            observed(date(year, 7, 4)), _nth_weekday(year, 9, 0, 1), thanksgiving,
            thanksgiving + timedelta(days=1), observed(date(year, 12, 25))}


def _uk(year: int) -> set[date]:
    easter = easter_sunday(year)
    days = {easter - timedelta(days=2), easter + timedelta(days=1), _nth_weekday(year, 5, 0, 1),
            _nth_weekday(year, 5, 0, -1), _nth_weekday(year, 8, 0, -1)}
    for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        while fixed.weekday() >= 5 or fixed in days:
            fixed += timedelta(days=1)
        days.add(fixed)
    return days


def _de(year: int) -> set[date]:
    easter = easter_sunday(year)
    return {date(year, 1, 1), easter - timedelta(days=2), easter + timedelta(days=1), date(year, 5, 1),
            easter + timedelta(days=39), easter + timedelta(days=50), date(year, 10, 3), date(year, 12, 25),
            date(year, 12, 26)}


CALENDARS = {"US01": _us, "UK01": _uk, "DE01": _de}


@lru_cache(maxsize=64)
def public_holidays(legal_entity: str, year: int) -> frozenset[date]:
    """Return the public holidays of an entity's office in a year (none for an entity without a calendar)."""
    calendar = CALENDARS.get(legal_entity)
    return frozenset(calendar(year)) if calendar else frozenset()


@cache  # asked for every person's every day (timesheets, time off)
def is_office_day(legal_entity: str, day: date) -> bool:
    """Tell whether an entity's people work on a date: Monday to Friday, not a firm or public holiday."""
    return is_workday(day) and day not in public_holidays(legal_entity, day.year)


def office_days(legal_entity: str, start: date, end: date) -> list[date]:
    """Return an entity's working days from `start` to `end` inclusive."""
    count = (end - start).days + 1
    return [day for day in (start + timedelta(days=offset) for offset in range(max(0, count)))
            if is_office_day(legal_entity, day)]


def office_day_on_or_before(legal_entity: str, day: date) -> date:
    """Return `day`, or the entity's working day before it."""
    while not is_office_day(legal_entity, day):
        day -= timedelta(days=1)
    return day


def vacation_span(legal_entity: str, earliest: date, length: int) -> tuple[date, date]:
    """Return the first and last day of a vacation of `length` working days wanted from `earliest` on.

    It starts on a working day (a week or more from the Monday of a week, as people book whole
    weeks) and ends on its last working day, never on a weekend or holiday.
    """
    start = earliest + timedelta(days=(7 - earliest.weekday()) % 7) if length >= 5 else earliest
    while not is_office_day(legal_entity, start):
        start += timedelta(days=1)
    end, left = start, max(1, length) - 1
    while left:
        end += timedelta(days=1)
        left -= int(is_office_day(legal_entity, end))
    return start, end
