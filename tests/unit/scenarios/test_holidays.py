"""Public holidays: each office's people neither work nor book time on their own country's holidays."""

from __future__ import annotations

from datetime import date

import pytest

from scenarios.engine.holidays import (
    easter_sunday,
    is_office_day,
    office_day_on_or_before,
    public_holidays,
    vacation_span,
)


@pytest.mark.parametrize(("year", "easter"), [(2019, date(2019, 4, 21)), (2024, date(2024, 3, 31)),
                                              (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28))])
def test_easter_sunday_is_the_published_date(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_each_office_keeps_its_own_country_holidays_in_2026() -> None:
    assert sorted(public_holidays("US01", 2026)) == [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 5, 25), date(2026, 7, 3), date(2026, 9, 7),
        date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 25)]
    assert sorted(public_holidays("UK01", 2026)) == [  # Boxing Day is a Saturday: substitute on Monday 28th
        date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
        date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28)]
    assert sorted(public_holidays("DE01", 2026)) == [
        date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 14),
        date(2026, 5, 25), date(2026, 10, 3), date(2026, 12, 25), date(2026, 12, 26)]


def test_martin_luther_king_day_is_worked_in_london_and_frankfurt_but_not_in_new_york() -> None:
    mlk = date(2026, 1, 19)
    assert [is_office_day(entity, mlk) for entity in ("US01", "UK01", "DE01")] == [False, True, True]


def test_a_timesheet_week_ending_on_good_friday_is_submitted_on_thursday_in_europe() -> None:
    good_friday = date(2026, 4, 3)
    assert office_day_on_or_before("UK01", good_friday) == date(2026, 4, 2)
    assert office_day_on_or_before("US01", good_friday) == good_friday


def test_a_vacation_starts_and_ends_on_working_days() -> None:
    saturday = date(2026, 1, 17)
    assert vacation_span("UK01", saturday, 2) == (date(2026, 1, 19), date(2026, 1, 20))
    assert vacation_span("US01", saturday, 2) == (date(2026, 1, 20), date(2026, 1, 21))  # MLK day is off anyway
    assert vacation_span("DE01", date(2026, 12, 24), 3) == (date(2026, 12, 24), date(2026, 12, 29))


def test_a_week_or_more_of_vacation_starts_on_a_monday_and_counts_working_days() -> None:
    assert vacation_span("UK01", date(2026, 1, 14), 5) == (date(2026, 1, 19), date(2026, 1, 23))
    assert vacation_span("UK01", date(2026, 3, 30), 8) == (date(2026, 3, 30), date(2026, 4, 10))  # Easter
    assert all(is_office_day("DE01", day) for length in (1, 2, 3, 5, 8, 10)
               for day in vacation_span("DE01", date(2026, 5, 23), length))
