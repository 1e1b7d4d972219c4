"""Timesheets at month end: a week running into the next month is submitted in two."""

from __future__ import annotations

from datetime import date

from scenarios.engine.actors.consultants import month_end_split


def test_a_week_running_into_the_next_month_is_split_at_the_months_last_working_day() -> None:
    assert month_end_split("US01", date(2026, 3, 30), date(2026, 4, 3)) == date(2026, 3, 31)
    assert month_end_split("DE01", date(2026, 4, 27), date(2026, 5, 1)) == date(2026, 4, 30)


def test_a_week_inside_one_month_or_ending_on_its_last_day_is_submitted_whole() -> None:
    assert month_end_split("US01", date(2026, 3, 23), date(2026, 3, 27)) is None
    assert month_end_split("UK01", date(2026, 1, 26), date(2026, 1, 30)) is None  # Friday is the month's last day
    # UK's August ends on a bank holiday Monday: the week of 31 August has no August working day to split off
    assert month_end_split("UK01", date(2026, 8, 31), date(2026, 9, 4)) is None
    assert month_end_split("US01", date(2026, 8, 31), date(2026, 9, 4)) == date(2026, 8, 31)
