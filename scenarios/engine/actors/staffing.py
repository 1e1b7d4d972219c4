"""Resource management: who works on which project seat, and re-staffing when people leave or plans move.

The resource manager looks in the project's legal entity for the seat's role first, then an
adjacent role, then other entities (intercompany staffing); employees before contractors, then
people of the project's practice and with the most free hours come first. A seat nobody can
fill is reported to HR as a shortage.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.state import Assignment, Project, Worker
from scenarios.engine.values import text

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
MIN_BOOKING = Decimal(8)
ADJACENT = {"ANALYST": ("CONSULTANT",), "CONSULTANT": ("ANALYST", "SENIOR_CONSULTANT"),
            "SENIOR_CONSULTANT": ("CONSULTANT", "MANAGER"), "MANAGER": ("SENIOR_CONSULTANT", "SENIOR_MANAGER"),
            "SENIOR_MANAGER": ("MANAGER", "PARTNER"), "PARTNER": ("SENIOR_MANAGER",)}
RESOURCE_SYNC_WAIT_S = 3600.0
RESOURCE_SYNC_TRIES = 48


def _candidates(firm: Firm, project: Project, roles: tuple[str, ...], entities: list[str], start: date, end: date,
                exclude: set[str]) -> list[tuple[tuple[bool, bool, Decimal, int], Worker, Decimal]]:
    found = []
    practice = project.deal.plan.practice
    for entity in entities:
        # by role and then hiring order: the sort below ties only people of different entities
        for order, worker in (person for role in roles for person in firm.roster.in_role(entity, role)):
            # employed from start to end (end >= start: staff_seat asks for no seat that ends before it starts)
            termination_date = worker.termination_date
            if worker.hire_date > start or (termination_date is not None and termination_date < end):
                continue
            if worker.worker_id in exclude:
                continue
            free = worker.weekly_hours - worker.peak_load(start, end, worker.weekly_hours - MIN_BOOKING)
            if free >= MIN_BOOKING:
                # employees first: the firm pays them anyway; a contractor is engaged for the work
                found.append(((worker.worker_type == "CONTRACTOR", worker.practice != practice, -free, order),
                              worker, free))
    return sorted(found, key=lambda item: item[0])


def find_person(firm: Firm, project: Project, role: str, hours: Decimal, start: date, end: date,
                exclude: set[str]) -> tuple[Worker, Decimal] | None:
    """Return the best person for a seat and the hours they can give (all of them if possible)."""
    home = project.deal.plan.legal_entity
    others = [entity for entity in firm.roster.by_entity if entity != home]
    partial: tuple[Worker, Decimal] | None = None
    for roles, entities in (((role,), [home]), (ADJACENT[role], [home]), ((role,), others)):
        found = _candidates(firm, project, roles, entities, start, end, exclude)
        for _, worker, free in found:
            if free >= hours:
                return worker, hours
        if found and partial is None:
            _, worker, free = found[0]
            partial = (worker, min(free, hours))
    return partial


def assign(firm: Firm, project: Project, worker: Worker, role: str, start: date, end: date,
           hours: Decimal) -> Process:
    """Book a person on a project in PSA (waiting for the engine to sync them over) and in truth."""
    body = {"project_id": project.project_id, "resource_id": worker.worker_id, "role": role,
            "start_date": start.isoformat(), "end_date": end.isoformat(), "hours_per_week": text(hours)}
    for _ in range(RESOURCE_SYNC_TRIES):
        result = yield from firm.call("psa", "POST", "/assignments", body=body, purpose="assignment",
                                      expect=(404,))
        if result.status != 404:
            break
        yield firm.env.timeout(RESOURCE_SYNC_WAIT_S)
    if not result.ok:
        return None
    assignment = Assignment(project, worker, role, start, end, hours, result.body["id"])
    worker.assignments.append(assignment)
    worker.book(assignment)
    project.assignments.append(assignment)
    deal = project.deal
    firm.record("project_staffed", project_id=project.project_id, opportunity_id=deal.opportunity_id,
                resource_id=worker.worker_id, role=role, start_date=start.isoformat(), end_date=end.isoformat())
    return assignment


def staff_seat(firm: Firm, project: Project, role: str, hours: Decimal, start: date, end: date,
               report: bool = True) -> Process:
    """Fill one seat from `start` to `end`; report a shortage (to HR and the diary) when nobody is free."""
    if end < start:
        return None
    staffed = {a.worker.worker_id for a in project.assignments if a.end >= start}
    match = find_person(firm, project, role, hours, start, end, staffed)
    if match is None:
        if report:
            if role != "PARTNER":
                firm.unfilled[(project.deal.plan.legal_entity, role)] += 1
            firm.note("delivery", f"no {role} free for {project.project_id} from {start}; seat open")
        return None
    worker, booked = match
    assignment = yield from assign(firm, project, worker, role, start, end, booked)
    return assignment


def _resize(firm: Firm, assignment: Assignment, end: date | None, hours: Decimal | None) -> Process:
    body: dict[str, str] = {}
    if end is not None:
        body["end_date"] = end.isoformat()
    if hours is not None:
        body["hours_per_week"] = text(hours)
    result = yield from firm.call("psa", "PATCH", f"/assignments/{assignment.assignment_id}", body=body,
                                  expect=(409, 422))
    if result.ok:
        assignment.worker.book(assignment, -1)
        if end is not None:
            assignment.end = end
        if hours is not None:
            assignment.hours_per_week = hours
        assignment.worker.book(assignment)


def cut(firm: Firm, assignment: Assignment, last_day: date) -> Process:
    """End a booking on `last_day` (or zero its hours when it had not started)."""
    if assignment.end <= last_day:
        return
    if assignment.start > last_day:
        yield from _resize(firm, assignment, None, Decimal(0))
    else:
        yield from _resize(firm, assignment, last_day, None)


def _release(env: simpy.Environment, firm: Firm, worker: Worker, last_day: date) -> Process:
    yield env.timeout(0)
    for assignment in list(worker.assignments):
        project = assignment.project
        old_end = assignment.end
        if old_end <= last_day or project.status not in ("PLANNED", "ACTIVE") or project.stop_date:
            continue
        hours = assignment.hours_per_week
        yield from cut(firm, assignment, last_day)
        restart = max(last_day + timedelta(days=1), assignment.start)
        yield from staff_seat(firm, project, assignment.role, hours, restart, old_end)
        firm.note("delivery", f"{project.project_id}: {worker.name} leaves on {last_day}; seat re-staffed")


def release(firm: Firm, worker: Worker, last_day: date) -> None:
    """Take a leaver off their projects after their last day and re-staff what remains."""
    firm.env.process(_release(firm.env, firm, worker, last_day))


def extend(firm: Firm, project: Project, old_end: date, new_end: date) -> Process:
    """Move the project's end (a change order) and keep its team on to the new end."""
    result = yield from firm.call("psa", "PATCH", f"/projects/{project.project_id}",
                                  body={"end_date": new_end.isoformat()}, expect=(409, 422))
    if not result.ok:
        return
    project.end = new_end
    # Everyone who can stay on is extended first, and only then are the other seats filled, so a
    # replacement is never someone who stays on anyway: one person holding two overlapping seats
    # on one project would book all their hours to the older one (the PSA cannot tell them apart).
    open_seats = []
    for assignment in list(project.assignments):
        if assignment.end != old_end or assignment.hours_per_week == 0:
            continue
        worker = assignment.worker
        if worker.termination_date is not None and worker.termination_date < new_end:
            continue
        if worker.weekly_hours - worker.peak_load(old_end + timedelta(days=1), new_end) >= assignment.hours_per_week:
            yield from _resize(firm, assignment, new_end, None)
        else:
            open_seats.append(assignment)
    for assignment in open_seats:
        yield from staff_seat(firm, project, assignment.role, assignment.hours_per_week,
                              old_end + timedelta(days=1), new_end)


def stop(firm: Firm, project: Project, last_day: date) -> Process:
    """Stop work after `last_day` (a cancellation): end every booking there."""
    project.stop_date = last_day
    for assignment in list(project.assignments):
        yield from cut(firm, assignment, last_day)
