"""Delivery managers: pick up the project the engine created, staff it, run it, and close it.

A project appears in PSA only after the sync engine created it from a closed-won deal, so the
delivery manager polls PSA for it. Then: staff the team after the staffing lag, activate on the
first day of service, complete milestones (with customer acceptance where the contract wants it),
keep the estimate at completion of fixed-fee work current, and complete the project once its last
timesheets are approved.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors import staffing
from scenarios.engine.clock import DAY, HOUR
from scenarios.engine.state import Deal, Project
from scenarios.engine.values import (
    bounded_gauss,
    chance,
    last_business_day,
    money,
    month_end,
    next_monday,
    text,
    workday_on_or_after,
    workday_on_or_before,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
ON_TIME_SHARE = 0.76
POLLS = [0.5 * HOUR] + [2 * HOUR] * 36 + [DAY] * 120


def _await_project(firm: Firm, deal: Deal) -> Process:
    for wait in POLLS:
        yield firm.env.timeout(wait)
        if deal.status == "CANCELLED":
            return None
        result = yield from firm.call("psa", "GET", "/projects", params={"crm_opportunity_id": deal.opportunity_id})
        if result.ok and result.body["items"]:
            return result.body["items"][0]
    return None


def _load_milestones(firm: Firm, project: Project) -> Process:
    if not project.deal.milestones:
        return
    result = yield from firm.call("psa", "GET", f"/projects/{project.project_id}/milestones",
                                  params={"limit": 100})
    if result.ok:
        prefix = f"{project.deal.opportunity_id}-M"
        for record in result.body["items"]:
            source_id = record.get("source_id") or ""
            if source_id.startswith(prefix) and source_id[len(prefix):].isdigit():
                project.milestones[int(source_id[len(prefix):]) - 1] = record["id"]


def _staff(firm: Firm, project: Project) -> Process:
    plan = project.deal.plan
    start = max(project.start, firm.today)
    lead_roles = ("MANAGER", "SENIOR_MANAGER")
    for slot in sorted(plan.slots, key=lambda s: (s.role not in lead_roles, s.role == "PARTNER")):
        assignment = yield from staffing.staff_seat(firm, project, slot.role, slot.hours_per_week, start,
                                                    project.end)
        if assignment is None:
            project.open_seats.append((slot.role, slot.hours_per_week))
        elif slot.role in lead_roles and not project.approver:
            project.approver = assignment.worker.worker_id
    if not project.approver:
        project.approver = project.deal.rep
    firm.note("delivery", f"{project.project_id} ({project.deal.account.name}) staffed with "
                          f"{len(project.assignments)} of {len(plan.slots)} seats from {start}")
    if project.open_seats:
        firm.env.process(_restaff(firm.env, firm, project))


def _restaff(env: simpy.Environment, firm: Firm, project: Project) -> Process:
    """Try the open seats again every Monday (people come free as projects end) until the project ends.

    A seat still open a week later gets a contractor from HR (not a partner's seat: that one waits).
    """
    from scenarios.engine.actors.hr import backfill

    day = next_monday(firm.today + timedelta(days=1))
    requested: list[tuple[str, Decimal]] = []
    while project.open_seats and day < project.end and project.status in ("PLANNED", "ACTIVE"):
        yield firm.until(day, 9)
        if project.stop_date is not None:
            return
        start = max(day, project.start)
        for seat in list(project.open_seats):
            assignment = yield from staffing.staff_seat(firm, project, seat[0], seat[1], start, project.end,
                                                        report=False)
            if assignment is not None:
                project.open_seats.remove(seat)
                firm.note("delivery", f"{project.project_id}: open {seat[0]} seat filled from {start}")
            elif seat[0] != "PARTNER" and seat not in requested and project.end > start + timedelta(days=21):
                requested.append(seat)
                plan = project.deal.plan
                env.process(backfill(env, firm, plan.legal_entity, seat[0], plan.practice))
        day += timedelta(days=7)


def _estimate(firm: Firm, project: Project) -> Process:
    rng = firm.rng("delivery")
    today = firm.today
    remaining = Decimal(0)
    for assignment in project.assignments:
        first = max(today, assignment.start)
        if assignment.end >= first:
            weeks = Decimal((assignment.end - first).days + 1) / 7
            remaining += weeks * assignment.hours_per_week * Decimal("0.95") * assignment.worker.cost_on(first)
    drift = Decimal(str(round(bounded_gauss(rng, 1.03, 0.05, 0.9, 1.25), 3)))
    eac = money(project.cost_to_date + remaining * drift)
    if eac <= 0:
        return
    result = yield from firm.call("psa", "PUT", f"/projects/{project.project_id}/estimate",
                                  body={"eac_cost": text(eac), "as_of": today.isoformat()})
    if result.ok:
        firm.record("estimate_set", project_id=project.project_id, opportunity_id=project.deal.opportunity_id,
                    eac_cost=text(eac), as_of=today.isoformat())


def _estimates(env: simpy.Environment, firm: Firm, project: Project) -> Process:
    yield from _estimate(firm, project)
    month = month_end(firm.today)
    while project.status == "ACTIVE" and month <= min(project.end, firm.period_end):
        yield firm.until(last_business_day(month), 12)
        if project.status == "ACTIVE":
            yield from _estimate(firm, project)
        month = month_end(month + timedelta(days=1))


def _milestone(env: simpy.Environment, firm: Firm, project: Project, index: int) -> Process:
    deal = project.deal
    milestone = deal.milestones[index]
    rng = firm.rng("delivery")
    due = milestone.due_date
    if not chance(rng, ON_TIME_SHARE):
        due = due + timedelta(days=rng.choice((3, 7, 10, 14)))
    yield firm.until(due, 16)
    if index not in project.milestones:
        yield from _load_milestones(firm, project)
    if index not in project.milestones or project.status != "ACTIVE" or project.stop_date:
        return
    while not any(a.hours_per_week > 0 for a in project.assignments) and firm.today < project.end:
        yield firm.until(firm.today + timedelta(days=7), 16)  # nobody on it yet: the milestone slips
    if project.status != "ACTIVE" or project.stop_date:
        return
    milestone_id = project.milestones[index]
    completed = yield from firm.call("psa", "POST", f"/milestones/{milestone_id}/complete",
                                     body={"completed_on": firm.today.isoformat()}, purpose="milestone",
                                     expect=(409,))
    if not completed.ok:
        return
    firm.record("milestone_completed", milestone_id=milestone_id, project_id=project.project_id,
                opportunity_id=deal.opportunity_id, name=milestone.name, amount=text(milestone.amount),
                requires_acceptance=milestone.requires_acceptance, completed_on=firm.today.isoformat())
    if milestone.requires_acceptance:
        from scenarios.engine.actors.customers import accept_milestone

        env.process(accept_milestone(env, firm, project, milestone_id))


def schedule_milestones(firm: Firm, project: Project, first: int = 0) -> None:
    """Plan the completion of the deal's milestones from index `first` on."""
    for index in range(first, len(project.deal.milestones)):
        firm.env.process(_milestone(firm.env, firm, project, index))


def _complete(env: simpy.Environment, firm: Firm, project: Project) -> Process:
    while True:
        finish = project.stop_date or project.end
        yield firm.until(next_monday(finish + timedelta(days=1)) + timedelta(days=1), 11)
        if project.status != "ACTIVE" or project.stop_date:
            return
        if (project.stop_date or project.end) != finish:
            continue
        waited = 0
        while (project.open_corrections or project.time_inbox) and waited < 30:
            yield env.timeout(DAY)
            waited += 1
        yield firm.until(workday_on_or_after(firm.today), 11)  # the project office works on working days
        break
    result = yield from firm.call("psa", "POST", f"/projects/{project.project_id}/complete",
                                  body={"effective_date": project.end.isoformat()}, expect=(409,))
    if result.ok:
        project.status = "COMPLETED"
        firm.record("project_completed", project_id=project.project_id, opportunity_id=project.deal.opportunity_id,
                    completed_on=project.end.isoformat())
        firm.note("delivery", f"{project.project_id} ({project.deal.account.name}) completed")


def project_delivery(env: simpy.Environment, firm: Firm, deal: Deal) -> Process:
    """Run one won deal's project from its appearance in PSA to its completion."""
    record = yield from _await_project(firm, deal)
    if record is None:
        firm.note("delivery", f"no PSA project ever appeared for {deal.opportunity_id}")
        return
    project = Project(record["id"], deal, date.fromisoformat(record["start_date"]),
                      date.fromisoformat(record["end_date"]), approver="")
    deal.project = project
    firm.book.projects.append(project)
    firm.note("delivery", f"{project.project_id} created for {deal.opportunity_id} ({deal.account.name})")
    rng = firm.rng("delivery")
    lag = bounded_gauss(rng, float(firm.params["delivery"]["staffing_lag_days"]), 1.5, 0.5, 30)
    staff_day = min(workday_on_or_after(firm.today + timedelta(days=round(lag))),
                    workday_on_or_before(project.start - timedelta(days=1)))
    yield firm.until(max(staff_day, firm.today), 10)
    if deal.status == "CANCELLED":
        return
    yield from _staff(firm, project)
    yield from _load_milestones(firm, project)
    yield firm.until(project.start, 8)
    if deal.status == "CANCELLED":
        return
    result = yield from firm.call("psa", "POST", f"/projects/{project.project_id}/activate",
                                  body={"effective_date": project.start.isoformat()}, expect=(409,))
    if not result.ok:
        return
    project.status = "ACTIVE"
    if deal.plan.billing_model == "FIXED_FEE":
        env.process(_estimates(env, firm, project))
    schedule_milestones(firm, project)
    yield from _complete(env, firm, project)
