"""A person's week: part-time bookings are worked in whole days, days off are not made up."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from scenarios.engine.actors.consultants import week_plan
from scenarios.engine.state import Assignment, Worker

MONDAY = date(2026, 2, 2)
FRIDAY = MONDAY + timedelta(days=4)


def _person() -> Worker:
    return Worker("WRK-000300", "Sam Roe", "sam.roe@example.com", "US01", "USD", "MANAGER", "DATA_AI", "EMPLOYEE",
                  Decimal(40), date(2024, 1, 1), Decimal(150000))


def _book(worker: Worker, hours: int, start: date = MONDAY, end: date = FRIDAY) -> Assignment:
    project = SimpleNamespace(works_on=lambda day: True)
    assignment = Assignment(project, worker, "MANAGER", start, end, Decimal(hours))  # type: ignore[arg-type]
    worker.assignments.append(assignment)
    return assignment


def _by_booking(plan: dict[tuple[int, date], float]) -> dict[int, dict[date, float]]:
    found: dict[int, dict[date, float]] = {}
    for (index, day), hours in plan.items():
        found.setdefault(index, {})[day] = hours
    return found


def test_a_full_time_booking_is_eight_hours_every_day() -> None:
    worker = _person()
    _book(worker, 40)
    assert week_plan(worker, MONDAY) == {(0, MONDAY + timedelta(days=n)): 8.0 for n in range(5)}


def test_a_one_day_a_week_seat_is_one_whole_day_and_a_partners_two_hours_one_morning() -> None:
    worker = _person()
    _book(worker, 30)
    _book(worker, 8)
    _book(worker, 2)
    plan = _by_booking(week_plan(worker, MONDAY))
    assert plan[2] == {MONDAY: 2.0}
    assert list(plan[1].values()) in ([8.0], [6.0, 2.0])
    assert sum(plan[0].values()) == 30.0
    for day in (MONDAY + timedelta(days=n) for n in range(5)):
        assert sum(hours for (_, when), hours in week_plan(worker, MONDAY).items() if when == day) <= 8.0


def test_two_half_time_bookings_take_half_the_week_each() -> None:
    worker = _person()
    _book(worker, 20)
    _book(worker, 20)
    plan = _by_booking(week_plan(worker, MONDAY))
    assert sum(plan[0].values()) == sum(plan[1].values()) == 20.0
    assert len(plan[0]) + len(plan[1]) == 6  # one day is shared, the other four belong to one project each


def test_days_off_and_days_outside_a_booking_are_not_made_up() -> None:
    worker = _person()
    worker.days_off.add(MONDAY)
    _book(worker, 40)
    _book(worker, 10, start=MONDAY + timedelta(days=3))  # Thursday and Friday only
    plan = _by_booking(week_plan(worker, MONDAY))
    assert MONDAY not in plan[0]
    assert sum(plan[1].values()) == 4.0  # 10 hours a week for two of its five days
    assert sum(plan[0].values()) == 32.0
    assert set(plan[1]) <= {MONDAY + timedelta(days=3), FRIDAY}
