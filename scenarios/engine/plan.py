"""Deal planning: the team, weeks and price a sales rep and a partner put into a statement of work.

A deal's price follows from its planned effort at the rate card, as in real proposals: the rep
aims at a deal size from the scenario's distribution for the billing model, scopes a team (its
grades in the proportions the entity employs them) and a duration from the delivery parameters
that can deliver that much work, and prices the plan:
time and materials at the (possibly discounted) rate card, fixed fee with a risk premium and
milestones, a retainer as a monthly fee, capped T&M with a cap near the estimate.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from scenarios.engine.values import (
    ROLES,
    add_months,
    chance,
    money,
    month_end,
    next_monday,
    triangular,
    weighted,
    whole,
    workday_on_or_before,
)

WEEKS_PER_MONTH = 4.345
LEAD_ROLES = {"MANAGER": 0.75, "SENIOR_MANAGER": 0.25}
TEAM_ROLES = ("ANALYST", "CONSULTANT", "SENIOR_CONSULTANT")
PARTNER_HOURS = Decimal(2)
MIN_SLOT_HOURS = Decimal(8)
LARGE_DEAL_Z = 2.05  # `max` of a lognormal deal size is its 98th percentile
SIZE_DRAWS = 4  # draws of a lognormal deal size before one outside min..max is clipped
MILESTONE_NAMES = ("Mobilisation and plan", "Design sign-off", "Build complete", "Go-live", "Final report")


@dataclass(frozen=True, slots=True)
class Slot:
    """One seat on the planned team: a role at a number of hours a week."""

    role: str
    hours_per_week: Decimal


@dataclass(frozen=True, slots=True)
class Milestone:
    """One billing milestone of a fixed-fee deal."""

    name: str
    amount: Decimal
    due_date: date
    requires_acceptance: bool

    def to_api(self) -> dict[str, Any]:
        """Return the milestone as the CRM takes it."""
        return {"name": self.name, "amount": str(self.amount), "due_date": self.due_date.isoformat(),
                "requires_acceptance": self.requires_acceptance}


@dataclass(frozen=True, slots=True)
class DealPlan:
    """What is sold: model, dates, team, hours, price and the model's own terms."""

    billing_model: str
    practice: str
    legal_entity: str
    currency: str
    service_start: date
    service_end: date
    slots: tuple[Slot, ...]
    estimated_hours: Decimal
    amount: Decimal
    rate_card: tuple[tuple[str, Decimal], ...]
    milestones: tuple[Milestone, ...] = ()
    monthly_fee: Decimal | None = None
    cap_amount: Decimal | None = None

    @property
    def weeks(self) -> int:
        """Return the planned length in whole weeks."""
        return max(1, round(((self.service_end - self.service_start).days + 3) / 7))

    def rate(self, role: str) -> Decimal:
        """Return the deal's hourly rate for a role."""
        for name, rate in reversed(self.rate_card):  # as dict(rate_card)[role], without building it per approval
            if name == role:
                return rate
        raise KeyError(role)

    def rate_card_api(self) -> list[dict[str, str]]:
        """Return the rate card as the CRM takes it."""
        return [{"role": role, "hourly_rate": str(rate)} for role, rate in self.rate_card]


def list_rates(params: dict[str, Any], currency: str) -> tuple[tuple[str, Decimal], ...]:
    """Return the firm's rate card of a currency, in role order."""
    card = params["firm"]["rate_cards"][currency]
    return tuple((role, money(card[role])) for role in ROLES if role in card)


def _amount_target(rng: random.Random, size: dict[str, float]) -> float:
    """Draw a deal size: lognormal around `median` when given (many small deals, a few large ones;
    `max` is about the largest deal in fifty), else triangular with a `mode`, else uniform."""
    low, high = float(size["min"]), float(size["max"])
    if "median" in size:
        median = min(max(float(size["median"]), low), high)
        sigma = max(math.log(high / median), 0.01) / LARGE_DEAL_Z if median > 0 else 0.0
        for _ in range(SIZE_DRAWS):
            target = rng.lognormvariate(math.log(median), sigma) if median > 0 else 0.0
            if low <= target <= high:
                return target
        return min(max(target, low), high)
    if "mode" not in size:
        return rng.uniform(low, high)
    return triangular(rng, low, float(size["mode"]), high)


def _weeks(rng: random.Random, months: dict[str, float]) -> int:
    low, high = float(months["min"]), float(months["max"])
    mode = float(months.get("mode", (low + high) / 2))
    return max(2, round(triangular(rng, low, mode, high) * WEEKS_PER_MONTH))


def _grade_mix(params: dict[str, Any], legal_entity: str) -> dict[str, float]:
    """Return how often each team grade is scoped: as often as the entity has people of that grade."""
    headcount = (params["firm"]["legal_entities"].get(legal_entity) or {}).get("headcount") or {}
    mix = {role: float(headcount.get(role, 0)) for role in TEAM_ROLES}
    return mix if any(mix.values()) else dict.fromkeys(TEAM_ROLES, 1.0)


def _team(rng: random.Random, params: dict[str, Any], rates: dict[str, Decimal], week_hours: Decimal,
          weekly_value: Decimal, grades: dict[str, float]) -> list[Slot]:
    """Scope a team whose weekly value at the rate card comes close to `weekly_value`."""
    sizes = params["delivery"]["team_size"]
    low, high = max(1, int(sizes["min"])), max(1, int(sizes["max"]))
    lead = weighted(rng, LEAD_ROLES)
    large = weekly_value > rates[lead] * week_hours * 3
    slots = [Slot("PARTNER", PARTNER_HOURS)] if "PARTNER" in rates and large else []
    remaining = weekly_value - sum((rates[s.role] * s.hours_per_week for s in slots), Decimal(0))
    lead_hours = week_hours if remaining > rates[lead] * week_hours * 5 else week_hours / 2
    slots.append(Slot(lead, money(lead_hours)))
    remaining -= rates[lead] * lead_hours
    shares = {role: Decimal(str(share / sum(grades.values()))) for role, share in grades.items()}
    member_rate = sum((rates[role] * shares[role] for role in TEAM_ROLES), Decimal(0))
    members = int((remaining / (member_rate * week_hours)).to_integral_value())
    members = min(max(members, low - 1), high - 1)
    for index in range(members):
        role = weighted(rng, grades)
        share = remaining / (members - index) if members - index else Decimal(0)
        hours = min(week_hours, max(MIN_SLOT_HOURS, share / rates[role]))
        hours = money(whole(hours * 2) / 2)
        slots.append(Slot(role, hours))
        remaining -= rates[role] * hours
    return slots


def _milestones(rng: random.Random, amount: Decimal, start: date, end: date) -> tuple[Milestone, ...]:
    weeks = (end - start).days / 7
    count = 1 if weeks <= 6 else 2 if weeks <= 13 else 3 if weeks <= 26 else 4
    step = (end - start) / count
    share = whole(amount / count, 100)
    milestones = []
    for index in range(count):
        due = end if index == count - 1 else start + step * (index + 1)
        due = workday_on_or_before(due)
        value = amount - share * (count - 1) if index == count - 1 else share
        name = MILESTONE_NAMES[-1] if index == count - 1 else MILESTONE_NAMES[index]
        milestones.append(Milestone(name, money(value), due, index == count - 1 or chance(rng, 0.4)))
    return tuple(milestones)


def plan_deal(rng: random.Random, params: dict[str, Any], *, billing_model: str, practice: str,
              legal_entity: str, currency: str, earliest_start: date, week_hours: Decimal,
              share_left: float = 1.0) -> DealPlan:
    """Scope and price one deal of a billing model starting on or after `earliest_start`.

    `share_left` < 1 plans only the rest of an engagement already under way (the opening book): the
    same team, for that share of the weeks.
    """
    rates = list_rates(params, currency)
    discount = weighted(rng, {Decimal("0"): 0.6, Decimal("0.05"): 0.3, Decimal("0.10"): 0.1})
    sold_rates = tuple((role, whole(rate * (1 - discount))) for role, rate in rates)
    rate_of = dict(sold_rates)
    target = Decimal(str(_amount_target(rng, params["sales"]["deal_size"][billing_model])))
    weeks = _weeks(rng, params["delivery"]["project_months"])
    if share_left < 1:
        weeks = max(2, round(weeks * share_left))
    if billing_model == "RETAINER":
        start = add_months(earliest_start, 1) if earliest_start.day > 1 else earliest_start
        months = max(1, round(weeks / WEEKS_PER_MONTH))
        end = month_end(add_months(start, months - 1))
        weeks = max(1, round((end - start).days / 7))
    else:
        start = next_monday(earliest_start)
        end = start + timedelta(days=weeks * 7 - 3)
        months = 0
    weekly_target = target * Decimal(str(share_left)) / weeks  # the whole engagement's weekly value
    slots = _team(rng, params, rate_of, week_hours, weekly_target, _grade_mix(params, legal_entity))
    weekly_hours = sum((slot.hours_per_week for slot in slots), Decimal(0))
    hours = money(weekly_hours * weeks)
    value = money(sum((rate_of[s.role] * s.hours_per_week for s in slots), Decimal(0)) * weeks)
    plan: dict[str, Any] = {}
    if billing_model == "TIME_AND_MATERIALS":
        amount = whole(value, 100)
    elif billing_model == "CAPPED_TM":
        amount = whole(value * Decimal(str(rng.uniform(0.92, 1.05))), 1000)
        plan["cap_amount"] = amount
    elif billing_model == "FIXED_FEE":
        amount = whole(value * Decimal(str(rng.uniform(1.0, 1.15))), 1000)
        plan["milestones"] = _milestones(rng, amount, start, end)
    else:
        fee = whole(value / months, 100)
        amount = money(fee * months)
        plan["monthly_fee"] = fee
    return DealPlan(billing_model=billing_model, practice=practice, legal_entity=legal_entity, currency=currency,
                    service_start=start, service_end=end, slots=tuple(slots), estimated_hours=hours,
                    amount=amount, rate_card=sold_rates, **plan)
