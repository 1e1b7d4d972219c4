"""Workforce planning: how many people each legal entity hires, from its forward bench and pipeline.

Once a month HR and the practice leads look at the weeks in which a hire made now would start:
the hours already booked on the entity's people, the seats nobody could fill, the deals won but
not yet staffed and the open pipeline weighted by the win rate. When that demand leaves less than
the planned bench (`delivery.bench_hours_share` of the capacity) free, they hire the difference;
when people sit on the bench, nobody is hired and attrition and ending contracts shrink the firm.
A recruiting team brings in only so many people a month (`HIRES_PER_HEAD_MONTH` of the entity).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from scenarios.engine.values import next_monday

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm
    from scenarios.engine.plan import DealPlan

PLAN_AHEAD_DAYS = 21  # a hire made now starts three to five weeks out
PLAN_WEEKS = 6
HIRES_PER_HEAD_MONTH = 0.04


@dataclass(frozen=True, slots=True)
class Outlook:
    """An entity's weekly hours in the planning window: capacity and the demand on it."""

    people: int
    capacity: Decimal
    booked: Decimal
    open_seats: Decimal
    pipeline: Decimal

    @property
    def demand(self) -> Decimal:
        """Return the hours a week the entity's work needs."""
        return self.booked + self.open_seats + self.pipeline

    @property
    def booked_share(self) -> float:
        """Return the demand as a share of the capacity."""
        return float(self.demand / self.capacity) if self.capacity else 1.0


def _weeks(first: date) -> list[date]:
    return [first + timedelta(days=7 * index) for index in range(PLAN_WEEKS)]


def _overlap(start: date, end: date, weeks: list[date]) -> Decimal:
    """Return the share of the planning weeks a service period covers."""
    return Decimal(sum(1 for week in weeks if start <= week + timedelta(days=4) and week <= end)) / len(weeks)


def _plan_hours(plan: DealPlan, weeks: list[date]) -> Decimal:
    return sum((slot.hours_per_week for slot in plan.slots), Decimal(0)) * _overlap(
        plan.service_start, plan.service_end, weeks)


def outlook(firm: Firm, entity: str, today: date) -> Outlook:
    """Return an entity's capacity and demand in the weeks a hire made today would start."""
    weeks = _weeks(next_monday(today + timedelta(days=PLAN_AHEAD_DAYS)))
    last = weeks[-1] + timedelta(days=4)
    people = [worker for worker in firm.roster.by_entity.get(entity, ()) if worker.employed_on(weeks[0])
              and (worker.termination_date is None or worker.termination_date >= last)]
    capacity = sum((worker.weekly_hours for worker in people), Decimal(0))
    booked = Decimal(0)
    for worker in people:
        for week in weeks:
            booked += min(worker.load.get(week, Decimal(0)), worker.weekly_hours)
    open_seats = pipeline = Decimal(0)
    win_rate = Decimal(str(firm.params["sales"]["win_rate"]))
    for deal in firm.book.deals.values():
        plan = deal.plan
        if plan.legal_entity != entity:
            continue
        project = deal.project
        if deal.status == "OPEN":
            pipeline += _plan_hours(plan, weeks) * win_rate
        elif deal.status == "WON" and project is None:
            pipeline += _plan_hours(plan, weeks)
        elif deal.status == "WON" and project is not None and project.open_seats and project.stop_date is None:
            share = _overlap(max(project.start, weeks[0]), project.end, weeks)
            open_seats += sum((hours for _, hours in project.open_seats), Decimal(0)) * share
    return Outlook(len(people), capacity, booked / len(weeks), open_seats, pipeline)


def hires_needed(firm: Firm, entity: str, today: date) -> tuple[int, Outlook]:
    """Return how many people an entity should hire this month, and the outlook it was judged on."""
    seen = outlook(firm, entity, today)
    free = Decimal(1) - Decimal(str(firm.params["delivery"]["bench_hours_share"]))
    gap = seen.demand - seen.capacity * free
    if gap <= 0:
        return 0, seen
    wanted = int((gap / firm.week_hours(entity)).to_integral_value())
    return min(wanted, max(1, round(seen.people * HIRES_PER_HEAD_MONTH))), seen
