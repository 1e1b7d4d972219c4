"""Customers pay like real accounts-payable departments: each with its own habit, on working days."""

from __future__ import annotations

import random
from statistics import mean, pstdev
from types import SimpleNamespace
from typing import Any

from scenarios.engine.actors.customers import payment_habit


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
