"""Time off: requested by the worker, then APPROVED or REJECTED; REQUESTED or APPROVED may be CANCELLED."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.clock import isoformat
from simulators.common.errors import ApiProblem, business_error, invalid_transition
from simulators.common.store import Record
from simulators.hcm.reference import WORKING_DAYS_PER_WEEK, conflict, find_worker, hours, parse_date, working_days

operations = Operations()

MAX_REQUEST_DAYS = 366
BLOCKING = ("REQUESTED", "APPROVED")


def _invalid_range(detail: str, field: str) -> ApiProblem:
    return business_error("invalid-date-range", "Invalid date range", detail, field=field)


def _check_employment(worker: Record, start: date, end: date) -> None:
    if start.isoformat() < worker["hire_date"]:
        raise business_error("outside-employment", "Outside employment",
                             f"start_date {start} is before the hire date {worker['hire_date']}", field="start_date")
    if worker["termination_date"] is not None and end.isoformat() > worker["termination_date"]:
        raise business_error("outside-employment", "Outside employment",
                             f"end_date {end} is after the termination date {worker['termination_date']}",
                             field="end_date")


@operations("requestTimeOff")
def request_time_off(request: Request) -> Reply:
    """Record a time-off request for a worker."""
    worker = find_worker(request.store, request.path["worker_id"])
    body = request.body
    start = parse_date(body["start_date"], "start_date")
    end = parse_date(body["end_date"], "end_date")
    if end < start:
        raise _invalid_range(f"end_date {end} is before start_date {start}", "end_date")
    if (end - start).days + 1 > MAX_REQUEST_DAYS:
        raise _invalid_range(f"a request covers at most {MAX_REQUEST_DAYS} days", "end_date")
    days = working_days(start, end)
    if not days:
        raise _invalid_range(f"{start} to {end} has no working day (Monday to Friday)", "end_date")
    _check_employment(worker, start, end)
    overlapping = next((other for other in request.store.where_equal("time_off", "worker_id", worker["id"])
                        if other["status"] in BLOCKING
                        and other["start_date"] <= end.isoformat() and start.isoformat() <= other["end_date"]), None)
    if overlapping is not None:
        raise conflict(f"Overlaps {overlapping['id']} ({overlapping['start_date']} to {overlapping['end_date']}, "
                       f"{overlapping['status']})", "start_date")
    per_day = Decimal(body.get("hours_per_day", Decimal(worker["weekly_capacity_hours"]) / WORKING_DAYS_PER_WEEK))
    time_off = request.store.insert("time_off", {
        "worker_id": worker["id"],
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "kind": body["kind"],
        "hours_per_day": hours(per_day),
        "working_days": len(days),
        "total_hours": hours(Decimal(hours(per_day)) * len(days)),
        "status": "REQUESTED",
        "note": body.get("note"),
        "decided_at": None,
        "decision_comment": None,
    })
    request.emit("hcm.time_off.requested", time_off)
    return created(time_off, f"/time-off/{time_off['id']}")


@operations("listWorkerTimeOff")
def list_worker_time_off(request: Request) -> Reply:
    """Return a page of a worker's time-off requests."""
    worker = find_worker(request.store, request.path["worker_id"])
    status = request.query.get("status")
    return request.page([time_off for time_off in request.store.where_equal("time_off", "worker_id", worker["id"])
                         if status is None or time_off["status"] == status])


@operations("getTimeOff")
def get_time_off(request: Request) -> Reply:
    """Return one time-off request."""
    return ok(request.store.get("time_off", request.path["time_off_id"]))


def _decide(request: Request, allowed_from: tuple[str, ...], status: str, action: str) -> Reply:
    time_off = request.store.get("time_off", request.path["time_off_id"])
    request.check_if_match(time_off)
    if time_off["status"] not in allowed_from:
        raise invalid_transition("time off", time_off["id"], time_off["status"], action)
    comment = (request.body or {}).get("comment")
    time_off = request.store.update("time_off", time_off["id"], {
        "status": status, "decided_at": isoformat(request.now), "decision_comment": comment})
    request.emit(f"hcm.time_off.{status.lower()}", time_off)
    return ok(time_off)


@operations("approveTimeOff")
def approve_time_off(request: Request) -> Reply:
    """Approve a requested absence."""
    return _decide(request, ("REQUESTED",), "APPROVED", "approve")


@operations("rejectTimeOff")
def reject_time_off(request: Request) -> Reply:
    """Reject a requested absence."""
    return _decide(request, ("REQUESTED",), "REJECTED", "reject")


@operations("cancelTimeOff")
def cancel_time_off(request: Request) -> Reply:
    """Withdraw a requested or approved absence."""
    return _decide(request, BLOCKING, "CANCELLED", "cancel")
