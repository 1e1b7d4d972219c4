"""Availability: a worker's capacity minus approved time off, per ISO week."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request
from simulators.common.errors import business_error
from simulators.common.store import Record, Store
from simulators.hcm.reference import WORKING_DAYS_PER_WEEK, employed_on, find_worker, hours, parse_date, working_days

operations = Operations()

MAX_RANGE_DAYS = 731


def time_off_by_day(store: Store, worker_id: str, start: date, end: date) -> dict[date, Decimal]:
    """Return the approved time-off hours of a worker per working day in a range."""
    booked: dict[date, Decimal] = {}
    approved = [t for t in store.where_equal("time_off", "worker_id", worker_id) if t["status"] == "APPROVED"]
    for time_off in approved:
        first = max(start, date.fromisoformat(time_off["start_date"]))
        last = min(end, date.fromisoformat(time_off["end_date"]))
        for day in working_days(first, last):
            booked[day] = booked.get(day, Decimal(0)) + Decimal(time_off["hours_per_day"])
    return booked


def weekly_availability(store: Store, worker: Record, start: date, end: date) -> list[dict[str, Any]]:
    """Return capacity, time off and available hours for each ISO week touching the range."""
    daily_capacity = Decimal(worker["weekly_capacity_hours"]) / WORKING_DAYS_PER_WEEK
    booked = time_off_by_day(store, worker["id"], start, end)
    weeks: list[dict[str, Any]] = []
    week_start = start - timedelta(days=start.weekday())
    while True:
        days_left = (end - week_start).days
        week_end = week_start + timedelta(days=min(6, days_left))
        days = [day for day in working_days(max(start, week_start), week_end) if employed_on(worker, day)]
        capacity = daily_capacity * len(days)
        time_off = sum((min(booked.get(day, Decimal(0)), daily_capacity) for day in days), Decimal(0))
        year, week, _ = week_start.isocalendar()
        weeks.append({
            "week": f"{year:04d}-W{week:02d}",
            "week_start": week_start.isoformat(),
            "working_days": len(days),
            "capacity_hours": hours(capacity),
            "time_off_hours": hours(time_off),
            "available_hours": hours(capacity - time_off),
        })
        if days_left < 7:
            return weeks
        week_start += timedelta(days=7)


def _total(weeks: list[dict[str, Any]], name: str) -> str:
    return hours(sum((Decimal(week[name]) for week in weeks), Decimal(0)))


@operations("getWorkerAvailability")
def get_worker_availability(request: Request) -> Reply:
    """Return a worker's available hours per ISO week between two dates."""
    worker = find_worker(request.store, request.path["worker_id"])
    start = parse_date(request.query["from"], "from")
    end = parse_date(request.query["to"], "to")
    if end < start:
        raise business_error("invalid-date-range", "Invalid date range", f"to {end} is before from {start}",
                             field="to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise business_error("invalid-date-range", "Invalid date range",
                             f"the range covers at most {MAX_RANGE_DAYS} days", field="to")
    weeks = weekly_availability(request.store, worker, start, end)
    return Reply(200, {
        "worker_id": worker["id"],
        "from": start.isoformat(),
        "to": end.isoformat(),
        "weekly_capacity_hours": worker["weekly_capacity_hours"],
        "capacity_hours": _total(weeks, "capacity_hours"),
        "time_off_hours": _total(weeks, "time_off_hours"),
        "available_hours": _total(weeks, "available_hours"),
        "weeks": weeks,
    })
