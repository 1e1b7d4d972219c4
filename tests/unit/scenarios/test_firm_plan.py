"""Deal planning: the price of a deal follows from its planned team, weeks and rate card."""

from __future__ import annotations

import copy
import math
import random
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.engine.config import load
from scenarios.engine.plan import DealPlan, list_rates, plan_deal
from scenarios.engine.values import business_day, month_end, poisson, quarter_hours, weighted

MODELS = ("TIME_AND_MATERIALS", "FIXED_FEE", "RETAINER", "CAPPED_TM")


def plans(model: str, count: int = 40) -> list[DealPlan]:
    params = load("baseline").params
    rng = random.Random(11)
    return [plan_deal(rng, params, billing_model=model, practice="DATA_AI", legal_entity="UK01", currency="GBP",
                      earliest_start=date(2026, 2, 4), week_hours=Decimal("37.5")) for _ in range(count)]


def weekly_value(plan: DealPlan) -> Decimal:
    return sum((plan.rate(slot.role) * slot.hours_per_week for slot in plan.slots), Decimal(0))


def test_time_and_materials_price_is_the_planned_hours_at_the_sold_rates() -> None:
    for plan in plans("TIME_AND_MATERIALS"):
        assert abs(plan.amount - weekly_value(plan) * plan.weeks) <= 50
        assert plan.estimated_hours == sum(slot.hours_per_week for slot in plan.slots) * plan.weeks


def test_sold_rates_are_the_rate_card_or_a_small_discount() -> None:
    card = dict(list_rates(load("baseline").params, "GBP"))
    for plan in plans("TIME_AND_MATERIALS"):
        for role, rate in plan.rate_card:
            assert card[role] * Decimal("0.89") <= rate <= card[role]


def test_fixed_fee_milestones_add_up_to_the_price_and_the_last_falls_on_the_end() -> None:
    for plan in plans("FIXED_FEE"):
        assert sum(m.amount for m in plan.milestones) == plan.amount
        assert plan.milestones[-1].due_date == plan.service_end
        assert plan.milestones[-1].requires_acceptance
        assert all(m.due_date.weekday() < 5 for m in plan.milestones)
        assert plan.amount >= weekly_value(plan) * plan.weeks * Decimal("0.99")


def test_retainers_run_whole_months_at_a_monthly_fee() -> None:
    for plan in plans("RETAINER"):
        assert plan.service_start.day == 1
        assert plan.service_end == month_end(plan.service_end)
        assert plan.monthly_fee is not None
        assert plan.amount % plan.monthly_fee == 0


def test_capped_deals_carry_a_cap_equal_to_their_price() -> None:
    for plan in plans("CAPPED_TM"):
        assert plan.cap_amount == plan.amount
        assert plan.amount > 0


@pytest.mark.parametrize("model", MODELS)
def test_projects_start_on_a_monday_or_first_of_month_and_last_one_to_nine_months(model: str) -> None:
    for plan in plans(model):
        assert plan.service_start >= date(2026, 2, 4)
        assert plan.service_start.weekday() == 0 or plan.service_start.day == 1
        assert 25 <= (plan.service_end - plan.service_start).days <= 9.5 * 31


def test_deal_sizes_follow_the_scenario_range_for_most_deals() -> None:
    sizes = load("baseline").params["sales"]["deal_size"]["TIME_AND_MATERIALS"]
    inside = [plan for plan in plans("TIME_AND_MATERIALS", 100)
              if sizes["min"] * 0.7 <= plan.amount <= sizes["max"] * 1.3]
    assert len(inside) >= 85


def test_random_helpers_are_deterministic_and_sane() -> None:
    first, second = random.Random(3), random.Random(3)
    assert [poisson(first, 4.0) for _ in range(50)] == [poisson(second, 4.0) for _ in range(50)]
    draws = [weighted(random.Random(seed), {"a": 0.0, "b": 1.0}) for seed in range(20)]
    assert set(draws) == {"b"}
    assert quarter_hours(7.62) == Decimal("7.50")
    assert business_day(2026, 2, 2) == date(2026, 2, 3)


def test_teams_are_scoped_with_the_grades_the_entity_employs() -> None:
    params = copy.deepcopy(load("baseline").params)  # a loaded scenario shares its defaults with later loads
    params["firm"]["legal_entities"]["UK01"]["headcount"].update(ANALYST=0, CONSULTANT=30, SENIOR_CONSULTANT=10)
    rng = random.Random(5)
    roles = Counter(slot.role for _ in range(60) for slot in plan_deal(
        rng, params, billing_model="TIME_AND_MATERIALS", practice="DATA_AI", legal_entity="UK01", currency="GBP",
        earliest_start=date(2026, 2, 4), week_hours=Decimal("37.5")).slots)
    assert roles["ANALYST"] == 0 and roles["CONSULTANT"] > 2 * roles["SENIOR_CONSULTANT"] > 0


def test_the_rest_of_an_engagement_under_way_keeps_about_its_team_for_a_share_of_its_weeks() -> None:
    params = load("baseline").params
    whole_plans, rests = (
        [plan_deal(random.Random(seed), params, billing_model="FIXED_FEE", practice="DATA_AI", legal_entity="UK01",
                   currency="GBP", earliest_start=date(2026, 2, 4), week_hours=Decimal("37.5"), share_left=share)
         for seed in range(30)] for share in (1.0, 0.3))
    for whole, rest in zip(whole_plans, rests, strict=True):
        hours = [sum((slot.hours_per_week for slot in plan.slots), Decimal(0)) for plan in (whole, rest)]
        assert abs(hours[1] - hours[0]) <= hours[0] * Decimal("0.3")  # the same size of team (weeks are rounded)
        assert rest.weeks == max(2, round(whole.weeks * 0.3))
        assert rest.amount < whole.amount


def test_deal_sizes_are_skewed_towards_small_deals_with_a_few_large_ones() -> None:
    amounts = sorted(float(plan.amount) for plan in plans("TIME_AND_MATERIALS", 300))
    median, mean = amounts[len(amounts) // 2], sum(amounts) / len(amounts)
    assert mean > 1.15 * median  # right-skewed: the mean is pulled up by a few large deals
    assert amounts[-len(amounts) // 50] > 3 * median  # the largest in fifty is several typical deals
    assert amounts[len(amounts) // 10] < 0.6 * median


def test_a_uniform_deal_size_is_still_possible_without_a_median() -> None:
    params = copy.deepcopy(load("baseline").params)  # a loaded scenario shares its defaults with later loads
    params["sales"]["deal_size"]["FIXED_FEE"] = {"min": 200000, "max": 220000}
    rng = random.Random(2)
    amounts = [plan_deal(rng, params, billing_model="FIXED_FEE", practice="STRATEGY", legal_entity="US01",
                         currency="USD", earliest_start=date(2026, 2, 4), week_hours=Decimal(40)).amount
               for _ in range(30)]
    assert all(Decimal(150000) <= amount <= Decimal(280000) for amount in amounts)


def _quarter_hours_in_decimal(value: float) -> Decimal:
    return (Decimal(str(value)) / Decimal("0.25")).quantize(Decimal(1), rounding=ROUND_HALF_UP) * Decimal("0.25")


@settings(deadline=None)
@given(st.one_of(st.floats(min_value=-500, max_value=500),
                 st.integers(min_value=-4000, max_value=4000).map(lambda eighths: eighths / 8),
                 st.integers(min_value=-4000, max_value=4000).map(lambda eighths: math.nextafter(eighths / 8, 0))))
def test_hours_round_to_the_quarter_hour_half_up_as_their_decimal_text_does(value: float) -> None:
    assert quarter_hours(value).as_tuple() == _quarter_hours_in_decimal(value).as_tuple()


def test_hours_a_hair_below_half_a_quarter_round_down() -> None:
    assert quarter_hours(0.12499999999999999) == Decimal("0.00")
    assert quarter_hours(0.125) == Decimal("0.25")
    assert str(quarter_hours(-0.0)) == "-0.00"
