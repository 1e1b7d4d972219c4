"""Consultants: a weekly timesheet (on Friday, or a few days late), expenses, vacations and sick days.

A week that runs into the next month is submitted in two: its days up to the month's last working
day on that day's late morning, before the month-end approval round, and the rest on Friday.

Each person works the hours of their bookings with the scenario's daily variation, in whole days
where a booking is part-time (week_plan); days off and their office's public holidays
(scenarios.engine.holidays) are not booked; returned and reopened entries are corrected and
submitted again. Time not booked on a project (bench, training, pre-sales) is not entered in the
PSA: the firm's PSA holds client projects only, and only project time is synced and billed.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.holidays import is_office_day, office_day_on_or_before, vacation_span
from scenarios.engine.state import Assignment, Expense, TimeEntry, Worker
from scenarios.engine.values import (
    bounded_gauss,
    chance,
    monday_of,
    money,
    month_end,
    poisson,
    quarter_hours,
    text,
    triangular,
    weighted,
    workdays,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
NON_BILLABLE_SHARE = 0.02
VACATION_DAYS = {"US01": 15, "UK01": 25, "DE01": 28}
VACATION_LENGTHS = (1, 2, 3, 5, 5, 8, 10)  # working days of one request
SICK_DAYS_PER_YEAR = 5.0
EXPENSE_CATEGORIES = {"TRAVEL": 0.35, "MEALS": 0.3, "LODGING": 0.25, "SOFTWARE": 0.05, "OTHER": 0.05}
# What one claim of a category costs (low, mode, high): a train or flight, a meal, a night in a
# business hotel (times the nights of the trip), a software licence, parking or supplies.
EXPENSE_AMOUNTS = {"TRAVEL": (25.0, 160.0, 900.0), "MEALS": (12.0, 35.0, 150.0), "LODGING": (110.0, 180.0, 320.0),
                   "SOFTWARE": (10.0, 40.0, 300.0), "OTHER": (5.0, 25.0, 200.0)}
LODGING_NIGHTS = {1: 0.35, 2: 0.3, 3: 0.25, 4: 0.1}
WEEKDAY_OFFSETS = tuple(timedelta(days=offset) for offset in range(5))


def _stream(firm: Firm, worker: Worker) -> Any:
    return firm.rng(f"consultant:{worker.worker_id}")


def _variation(firm: Firm, rng: Any) -> float:
    """Return how a day's hours differ from the plan (the scenario's daily hours over an 8-hour day)."""
    daily = firm.params["delivery"]["daily_hours"]
    return bounded_gauss(rng, float(daily["mean"]), float(daily["sd"]), 1.0, 12.0) / 8


def week_plan(worker: Worker, week: date) -> dict[tuple[int, date], float]:
    """Return the hours a person gives each booking on each day of a week: (booking index, day) -> hours.

    A booking's week is its weekly hours for each of its days the person works (days off and public
    holidays are not made up). Work goes in whole days where it can, as people work: the bookings
    with the fewest days and hours first fill the person's days from Monday, so a partner's two
    hours are one morning and a one-day-a-week seat about one day, not a sliver of every day.
    """
    off, entity = worker.days_off, worker.legal_entity
    days = [day for day in (week + offset for offset in WEEKDAY_OFFSETS)
            if day not in off and worker.employed_on(day) and is_office_day(entity, day)]
    day_hours = float(worker.weekly_hours) / 5
    free = dict.fromkeys(days, day_hours)
    bookings = []
    friday = week + WEEKDAY_OFFSETS[-1]
    for index, assignment in enumerate(worker.assignments):
        # a person keeps every booking they ever had: those outside the week are passed over first
        if assignment.end < week or assignment.start > friday or not assignment.hours_per_week > 0:
            continue
        project = assignment.project
        covered = [day for day in days if assignment.start <= day <= assignment.end and project.works_on(day)]
        if covered:
            bookings.append((len(covered), assignment.hours_per_week, index, covered))
    plan: dict[tuple[int, date], float] = {}
    for _, hours, index, covered in sorted(bookings):
        remaining = float(hours) / 5 * len(covered)
        for day in covered:
            given = min(remaining, free[day])
            if given > 0:
                plan[(index, day)] = plan.get((index, day), 0.0) + given
                free[day] -= given
                remaining -= given
        if remaining > 1e-9:  # booked beyond the week (an overlap): the rest is overtime on its days
            for day in covered:
                plan[(index, day)] = plan.get((index, day), 0.0) + remaining / len(covered)
    return plan


def week_entries(firm: Firm, worker: Worker, days: list[date]) -> list[tuple[Assignment, date, Decimal, bool]]:
    """Return what a person worked in some days of one week: (assignment, day, hours, billable)."""
    if not days:
        return []
    rng = _stream(firm, worker)
    wanted = set(days)
    worked = []
    for (index, day), planned in sorted(week_plan(worker, monday_of(days[0])).items(), key=_day_of_plan_item):
        if day not in wanted:
            continue
        hours = quarter_hours(min(planned * _variation(firm, rng), 12.0))
        if hours > 0:
            worked.append((worker.assignments[index], day, hours, not chance(rng, NON_BILLABLE_SHARE)))
    return worked


def _day_of_plan_item(item: tuple[tuple[int, date], float]) -> date:
    return item[0][1]


def submit_timesheet(firm: Firm, worker: Worker, week: date, days: list[date]) -> Process:
    """Send a week of time in one request (created and submitted), then tell the approvers."""
    worked = week_entries(firm, worker, days)
    if not worked:
        return
    body = {"resource_id": worker.worker_id, "week_start": week.isoformat(), "submit": True,
            "entries": [{"project_id": a.project.project_id, "date": day.isoformat(), "hours": text(hours),
                         "billable": billable} for a, day, hours, billable in worked]}
    result = yield from firm.call("psa", "POST", "/timesheets", body=body, purpose="timesheet")
    if not result.ok:
        return
    for item in result.body["results"]:
        assignment, day, hours, billable = worked[item["index"]]
        if item["status"] == 201:
            entry = TimeEntry(item["id"], assignment, day, hours, billable)
            assignment.project.time_inbox.append(entry)
        else:
            problem = item.get("problem") or {}
            firm.failures[("psa", "/timesheets[entry]", int(item["status"]), str(problem.get("type", "")))] += 1


def resubmit(firm: Firm, entry: TimeEntry, correct_hours: bool) -> Process:
    """Correct a returned or reopened entry and submit it again."""
    path = f"/time-entries/{entry.entry_id}"
    if correct_hours:
        rng = _stream(firm, entry.assignment.worker)
        hours = max(Decimal("0.25"), entry.hours + quarter_hours(rng.choice((-2.0, -1.0, -0.5, 0.5, 1.0))))
        result = yield from firm.call("psa", "PATCH", path, body={"hours": text(hours)})
        if result.ok:
            entry.hours = money(result.body["hours"])
    else:
        yield from firm.call("psa", "PATCH", path, body={"notes": "Corrected task description"})
    result = yield from firm.call("psa", "POST", f"{path}/submit", purpose="time-submit")
    if result.ok:
        entry.status = "SUBMITTED"
        entry.revision = int(result.body["revision"])
        entry.assignment.project.time_inbox.append(entry)


def expense_amount(rng: Any, category: str, bounds: dict[str, float]) -> Decimal:
    """Return what one claim of a category costs, within the scenario's bounds of a claim."""
    low, mode, high = EXPENSE_AMOUNTS[category]
    amount = triangular(rng, low, mode, high)
    if category == "LODGING":
        amount *= weighted(rng, LODGING_NIGHTS)
    return money(min(max(amount, float(bounds["min"])), float(bounds["max"])))


def _expenses(firm: Firm, worker: Worker, worked: list[tuple[Assignment, date]]) -> Process:
    rng = _stream(firm, worker)
    delivery = firm.params["delivery"]
    for _ in range(poisson(rng, float(delivery["expenses_per_consultant_week"]))):
        assignment, day = worked[int(rng.random() * len(worked))]
        category = weighted(rng, EXPENSE_CATEGORIES)
        amount = expense_amount(rng, category, delivery["expense_amount"])
        currency = assignment.project.deal.plan.currency
        billable = chance(rng, 0.85)
        body = {"resource_id": worker.worker_id, "project_id": assignment.project.project_id,
                "date": day.isoformat(), "category": category, "amount": str(amount),
                "currency": currency, "receipt": chance(rng, 0.95), "billable": billable}
        created = yield from firm.call("psa", "POST", "/expenses", body=body, purpose="expense", expect=(422,))
        if not created.ok:
            continue
        submitted = yield from firm.call("psa", "POST", f"/expenses/{created.body['id']}/submit",
                                         purpose="expense-submit")
        if submitted.ok:
            assignment.project.expense_inbox.append(
                Expense(created.body["id"], assignment, day, amount, currency, billable))


def month_end_split(legal_entity: str, week: date, last_day: date) -> date | None:
    """Return the month's last working day when a week's working days run into the next month, else None.

    Firms close the month on its last working day: the days of the week up to then are submitted
    that morning (today's hours included) so that the month's approval round and billing take them.
    """
    if last_day.month == week.month:
        return None
    split = office_day_on_or_before(legal_entity, month_end(week))
    return split if week <= split < last_day else None


def _submission_time(firm: Firm, worker: Worker, last_day: date) -> float:
    rng = _stream(firm, worker)
    moment = firm.at(office_day_on_or_before(worker.legal_entity, last_day), 15.5 + rng.random() * 3)
    if (worker.termination_date is None or last_day < worker.termination_date) and chance(
            rng, float(firm.params["delivery"]["late_submission_rate"])):
        late_days = rng.choice((3, 4, 5))
        moment = firm.at(last_day + timedelta(days=late_days), 9 + rng.random() * 8)
    return moment


@lru_cache(maxsize=1024)
def _week_days(week: date, last_day: date) -> tuple[date, ...]:
    """Return `workdays(week, last_day)`, worked out once for everyone whose week it is."""
    return tuple(workdays(week, last_day))


def consultant(env: simpy.Environment, firm: Firm, worker: Worker) -> Process:
    """Work week after week: book time on Friday (or late), file expenses, plan time off."""
    env.process(time_off(env, firm, worker))
    week = monday_of(max(worker.hire_date, firm.today))
    while week <= firm.period_end:
        last_day = week + timedelta(days=4)
        if worker.termination_date is not None:
            if worker.termination_date < week:
                return
            last_day = min(last_day, worker.termination_date)
        split = month_end_split(worker.legal_entity, week, last_day)
        if split is not None:  # the month's part of the week goes in before the month-end approval round
            yield env.timeout(max(0.0, firm.at(split, 11 + 2.5 * _stream(firm, worker).random()) - float(env.now)))
            yield from submit_timesheet(firm, worker, week, workdays(week, split))
        yield env.timeout(max(0.0, _submission_time(firm, worker, last_day) - float(env.now)))
        days = _week_days(week, last_day)
        yield from submit_timesheet(firm, worker, week, [day for day in days if split is None or day > split])
        off, entity = worker.days_off, worker.legal_entity
        worked = [(a, day) for day in days if day not in off and is_office_day(entity, day)
                  for a in worker.assignments if a.start <= day <= a.end and a.project.works_on(day)]
        if worked:
            yield from _expenses(firm, worker, worked)
        week += timedelta(days=7)


def _request_off(firm: Firm, worker: Worker, start: date, end: date, kind: str) -> Process:
    body = {"start_date": start.isoformat(), "end_date": end.isoformat(), "kind": kind}
    requested = yield from firm.call("hcm", "POST", f"/workers/{worker.worker_id}/time-off", body=body,
                                     purpose="time-off", expect=(409, 422))
    if not requested.ok:
        return
    approved = yield from firm.call("hcm", "POST", f"/time-off/{requested.body['id']}/approve",
                                    body={"comment": "Approved"}, purpose="time-off-approve")
    if approved.ok:
        worker.days_off.update(day for day in workdays(start, end))


def time_off(env: simpy.Environment, firm: Firm, worker: Worker) -> Process:
    """Ask for vacation a few weeks ahead and report sick days, as the year goes."""
    rng = firm.rng(f"time-off:{worker.worker_id}")
    # a request on one working day in (days a year / mean length) gives the year's days, not more
    vacation_rate = VACATION_DAYS[worker.legal_entity] / 260 / (sum(VACATION_LENGTHS) / len(VACATION_LENGTHS))
    sick_rate = SICK_DAYS_PER_YEAR / 260
    draw = rng.random  # two draws a working day of every person's year: the loop is kept lean
    entity, last, one_day = worker.legal_entity, firm.period_end, timedelta(days=1)
    day = max(worker.hire_date, firm.today)
    while day <= last:
        if worker.termination_date is not None and day >= worker.termination_date:
            return
        if is_office_day(entity, day) and day not in worker.days_off:
            if draw() < sick_rate:
                yield firm.until(day, 8.5)
                yield from _request_off(firm, worker, day, day, "SICK")
            elif draw() < vacation_rate:
                yield firm.until(day, 11)
                length = rng.choice(VACATION_LENGTHS)
                start, end = vacation_span(worker.legal_entity, day + timedelta(days=int(rng.uniform(14, 42))), length)
                if worker.termination_date is None or end < worker.termination_date:
                    yield from _request_off(firm, worker, start, end, "VACATION")
        day += one_day
