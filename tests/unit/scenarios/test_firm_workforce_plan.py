"""The workforce plan hires when the forward bench is thin and the pipeline strong, not while people sit idle."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from scenarios.engine.actors.planning import hires_needed
from scenarios.engine.state import Book, Roster, Worker
from scenarios.engine.values import next_monday

TODAY = date(2026, 3, 2)
PARAMS = {"sales": {"win_rate": 0.4}, "delivery": {"bench_hours_share": 0.2}}


def _firm(people: int, booked_hours: int, pipeline_hours: int = 0) -> Any:
    roster = Roster()
    for number in range(people):
        worker = Worker(f"WRK-{number:06d}", "A B", "a.b@example.com", "US01", "USD", "CONSULTANT", "DATA_AI",
                        "EMPLOYEE", Decimal(40), date(2024, 1, 1), Decimal(100000))
        week = next_monday(TODAY)
        for _ in range(20):
            worker.load[week] = Decimal(booked_hours)
            week += timedelta(days=7)
        roster.add(worker)
    book = Book()
    if pipeline_hours:
        plan = SimpleNamespace(legal_entity="US01", service_start=TODAY, service_end=TODAY + timedelta(days=180),
                               slots=[SimpleNamespace(hours_per_week=Decimal(pipeline_hours))])
        book.deals["OPP-000001"] = SimpleNamespace(plan=plan, status="OPEN", project=None)  # type: ignore[assignment]
    return SimpleNamespace(roster=roster, book=book, params=PARAMS, week_hours=lambda entity: Decimal(40))


def test_nobody_is_hired_while_a_fifth_of_the_hours_are_free() -> None:
    count, outlook = hires_needed(_firm(50, 30), "US01", TODAY)
    assert count == 0 and outlook.booked_share == 0.75


def test_a_full_book_and_a_strong_pipeline_hire_the_gap_above_the_planned_bench() -> None:
    count, outlook = hires_needed(_firm(50, 34, pipeline_hours=400), "US01", TODAY)
    # demand 50 x 34 + 0.4 x 400 = 1,860 h; 80 % of 2,000 h is 1,600: 260 h, six and a half people
    assert outlook.demand == Decimal(1860) and count == 2  # a recruiting team hires 4 % of the entity a month


def test_a_small_gap_in_a_large_entity_hires_what_it_needs() -> None:
    count, _ = hires_needed(_firm(200, 33), "US01", TODAY)
    assert count == 5  # 200 x 33 = 6,600 h against 6,400 h: 200 h, five people
