"""Expense claims cost what their category costs: a meal is not a flight."""

from __future__ import annotations

import random
from decimal import Decimal
from statistics import median

from scenarios.engine.actors.consultants import expense_amount

BOUNDS: dict[str, float] = {"min": 5, "max": 1500}


def _claims(category: str, bounds: dict[str, float] = BOUNDS) -> list[Decimal]:
    rng = random.Random(7)
    return [expense_amount(rng, category, bounds) for _ in range(2000)]


def test_a_meal_costs_tens_and_a_hotel_stay_hundreds() -> None:
    meals, lodging, travel = _claims("MEALS"), _claims("LODGING"), _claims("TRAVEL")
    assert max(meals) <= 150 and 30 <= median(meals) <= 80
    assert min(lodging) >= 110 and 250 <= median(lodging) <= 600 and max(lodging) > 900  # nights of a trip
    assert 200 <= median(travel) <= 500 and max(travel) <= 900


def test_the_scenarios_bounds_hold_for_every_category() -> None:
    for category in ("TRAVEL", "MEALS", "LODGING", "SOFTWARE", "OTHER"):
        claims = _claims(category, {"min": 40.0, "max": 300.0})
        assert min(claims) >= 40 and max(claims) <= 300
