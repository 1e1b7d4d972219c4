"""Customers pay like real accounts-payable departments: each with its own habit, on working days."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from statistics import mean, pstdev
from types import SimpleNamespace
from typing import Any

import simpy

from scenarios.engine.actors.customers import _payment_day, payment_habit


def _firm(mean_days: float = 42, sd: float = 14) -> Any:
    rng = random.Random(3)
    return SimpleNamespace(params={"finance": {"payment_days": {"mean": mean_days, "sd": sd}}},
                           rng=lambda family: rng, payment_habits={})


def test_a_customer_keeps_its_habit_from_invoice_to_invoice() -> None:
    firm = _firm()
    first = payment_habit(firm, "CUS-000001")
    assert [payment_habit(firm, "CUS-000001") for _ in range(3)] == [first] * 3


def test_habits_differ_between_customers_around_the_scenarios_mean() -> None:
    firm = _firm()
    habits = [payment_habit(firm, f"CUS-{index:06d}") for index in range(400)]
    prompt = [habit for habit in habits if habit <= 20]
    assert 0.06 <= len(prompt) / len(habits) <= 0.16  # a few pay on receipt
    assert 36 <= mean(habits) <= 43
    assert 11 <= pstdev(habits) <= 17  # most of the spread of days to pay is between customers
    assert min(habits) >= 7


def test_payments_due_on_a_weekend_are_made_on_that_weeks_working_days_not_all_on_monday() -> None:
    start = date(2026, 2, 2)
    env = simpy.Environment()

    def until(day: date, hour: float = 0.0) -> simpy.Event:
        moment = (datetime.combine(day, datetime.min.time()) - datetime.combine(start, datetime.min.time()))
        return env.timeout(max(0.0, moment.total_seconds() + hour * 3600 - env.now))

    firm = SimpleNamespace(until=until, today=start)
    rng = random.Random(9)
    paid: Counter[str] = Counter()

    def payer(day: date) -> Any:
        yield from _payment_day(firm, rng, day)  # type: ignore[arg-type]
        paid[(start + timedelta(seconds=env.now)).strftime("%a")] += 1

    for offset in range(7, 7 + 7 * 60):  # every day of sixty weeks after the first
        env.process(payer(start + timedelta(days=offset)))
    env.run()
    assert set(paid) == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert paid["Mon"] < 0.3 * sum(paid.values())
