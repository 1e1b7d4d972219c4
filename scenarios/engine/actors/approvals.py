"""Approvals: every Monday morning (and on the month's last working day) delivery managers clear their inboxes.

They approve submitted time and expenses in bulk, return a few entries for correction, and now and
then reopen an entry already approved (sometimes after it was invoiced) to correct it.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors.consultants import resubmit
from scenarios.engine.clock import HOUR
from scenarios.engine.state import Expense, Project, TimeEntry
from scenarios.engine.values import (
    chance,
    last_business_day,
    money,
    next_monday,
    pick,
    text,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
BULK_LIMIT = 500
APPROVAL_SPREAD_H = 3.5
RETURN_REASONS = ("Hours booked to the wrong day", "Please split by task", "Hours above the plan; please check",
                  "Missing description")
NO_AMOUNT = text(money(0))  # what non-billable time is worth to the customer
REOPEN_REASONS = ("Client query on hours", "Duplicate hours found in review", "Booked to the wrong project week")


def _leaving_soon(entry: TimeEntry | Expense, today: date) -> bool:
    return _leaving_by(entry, today + timedelta(days=7))


def _leaving_by(entry: TimeEntry | Expense, day: date) -> bool:
    termination_date = entry.assignment.worker.termination_date
    return termination_date is not None and termination_date <= day


def _bulk(firm: Firm, path: str, ids: list[str], reason: str | None = None) -> Generator[simpy.Event, Any, set[str]]:
    """Apply a bulk action in chunks; return the ids it succeeded for."""
    done: set[str] = set()
    for offset in range(0, len(ids), BULK_LIMIT):
        body: dict[str, Any] = {"ids": ids[offset:offset + BULK_LIMIT]}
        if reason:
            body["reason"] = reason
        result = yield from firm.call("psa", "POST", path, body=body, purpose=path.strip("/").replace("/", "-"))
        if result.ok:
            done.update(item["id"] for item in result.body["results"] if item["status"] == 200)
    return done


def _time_approved(firm: Firm, entry: TimeEntry) -> None:
    assignment = entry.assignment
    project = assignment.project
    deal = project.deal
    plan = deal.plan
    rate = plan.rate(assignment.role)
    firm.record("time_approved", time_entry_id=entry.entry_id, revision=entry.revision, project_id=project.project_id,
                opportunity_id=deal.opportunity_id, resource_id=assignment.worker.worker_id,
                role=assignment.role, date=entry.day.isoformat(), hours=text(entry.hours),
                billable=entry.billable, bill_rate=text(rate),
                amount=text(entry.hours * rate) if entry.billable else NO_AMOUNT, currency=plan.currency)
    project.cost_to_date += entry.hours * assignment.worker.cost_on(entry.day)
    entry.status = "APPROVED"
    if entry.correcting:
        entry.correcting = False
        project.open_corrections -= 1


def _approve_time(firm: Firm, entries: list[TimeEntry]) -> Process:
    rng = firm.rng("approvals")
    delivery = firm.params["delivery"]
    today = firm.today
    return_rate, draw, week_ahead = float(delivery["return_rate"]), rng.random, today + timedelta(days=7)
    returned = [e for e in entries if not e.correcting and not _leaving_by(e, week_ahead)
                and e.assignment.project.works_on(today) and draw() < return_rate]
    keep = set(id(e) for e in returned)
    if returned:
        done = yield from _bulk(firm, "/time-entries/bulk-return", [e.entry_id for e in returned],
                                pick(rng, RETURN_REASONS))
        for entry in returned:
            if entry.entry_id in done:
                entry.status = "RETURNED"
                firm.env.process(_correct(firm.env, firm, entry, True))
    to_approve = [e for e in entries if id(e) not in keep]
    done = yield from _bulk(firm, "/time-entries/bulk-approve", [e.entry_id for e in to_approve])
    reopen_rate = float(delivery["reopen_rate"])
    for entry in to_approve:
        if entry.entry_id in done:
            _time_approved(firm, entry)
            if draw() < reopen_rate:
                firm.env.process(_reopen(firm.env, firm, entry))


def _expense_approved(firm: Firm, expense: Expense) -> None:
    project = expense.assignment.project
    firm.record("expense_approved", expense_id=expense.expense_id, revision=expense.revision,
                project_id=project.project_id, opportunity_id=project.deal.opportunity_id,
                resource_id=expense.assignment.worker.worker_id, date=expense.day.isoformat(),
                amount=text(expense.amount), currency=expense.currency, billable=expense.billable)
    project.cost_to_date += expense.amount
    expense.status = "APPROVED"
    if expense.correcting:
        expense.correcting = False
        project.open_corrections -= 1


def _approve_expenses(firm: Firm, expenses: list[Expense]) -> Process:
    rng = firm.rng("approvals")
    done = yield from _bulk(firm, "/expenses/bulk-approve", [e.expense_id for e in expenses])
    for expense in expenses:
        if expense.expense_id in done:
            _expense_approved(firm, expense)
            if chance(rng, float(firm.params["delivery"]["reopen_rate"])):
                firm.env.process(_reopen_expense(firm.env, firm, expense))


def approval_round(firm: Firm) -> Process:
    """Clear every delivery manager's inbox: one bulk call per manager for time, one for expenses.

    Managers get to it one after another over the next hours (each at a time of their own), not all
    in the same minute.
    """
    time_by: dict[str, list[TimeEntry]] = {}
    expenses_by: dict[str, list[Expense]] = {}
    for project in firm.book.projects:
        if project.time_inbox:
            time_by.setdefault(project.approver, []).extend(project.time_inbox)
            project.time_inbox = []
        if project.expense_inbox:
            expenses_by.setdefault(project.approver, []).extend(project.expense_inbox)
            project.expense_inbox = []
    rng = firm.rng("approvals")
    start = float(firm.env.now)
    managers = sorted(set(time_by) | set(expenses_by))
    for delay, manager in sorted((rng.uniform(0, APPROVAL_SPREAD_H) * HOUR, manager) for manager in managers):
        yield firm.env.timeout(max(0.0, start + delay - float(firm.env.now)))
        if manager in time_by:
            yield from _approve_time(firm, time_by[manager])
        if manager in expenses_by:
            yield from _approve_expenses(firm, expenses_by[manager])


def _moments(firm: Firm) -> list[float]:
    moments = []
    day = next_monday(firm.today)
    while day <= firm.period_end + timedelta(days=7):
        moments.append(firm.at(day, 10))
        day += timedelta(days=7)
    month = firm.today.replace(day=1)
    while month <= firm.period_end:
        moments.append(firm.at(last_business_day(month), 14))
        month = (month + timedelta(days=32)).replace(day=1)
    return sorted(moment for moment in moments if moment >= float(firm.env.now))


def approvals(env: simpy.Environment, firm: Firm) -> Process:
    """Run the approval rounds of the whole period."""
    for moment in _moments(firm):
        yield env.timeout(max(0.0, moment - float(env.now)))
        yield from approval_round(firm)


def _correctable(firm: Firm, project: Project, entry: TimeEntry | Expense) -> bool:
    return project.works_on(firm.today) and not _leaving_soon(entry, firm.today) and entry.status == "APPROVED"


def _correct(env: simpy.Environment, firm: Firm, entry: TimeEntry, correct_hours: bool) -> Process:
    yield env.timeout(firm.at(firm.today + timedelta(days=1), 9.5) - float(env.now))
    yield from resubmit(firm, entry, correct_hours)


def _reopen(env: simpy.Environment, firm: Firm, entry: TimeEntry) -> Process:
    rng = firm.rng("approvals")
    yield firm.in_office_hours(rng.uniform(3, 40), rng)
    project = entry.assignment.project
    if not _correctable(firm, project, entry):
        return
    reopened = yield from firm.call("psa", "POST", f"/time-entries/{entry.entry_id}/reopen",
                                    body={"reason": pick(rng, REOPEN_REASONS)}, purpose="time-reopen",
                                    expect=(409,))
    if not reopened.ok:
        return
    firm.record("time_reopened", time_entry_id=entry.entry_id, revision=entry.revision,
                project_id=project.project_id, opportunity_id=project.deal.opportunity_id)
    entry.status = "REOPENED"
    entry.correcting = True
    project.open_corrections += 1
    yield from _correct(env, firm, entry, True)


def _reopen_expense(env: simpy.Environment, firm: Firm, expense: Expense) -> Process:
    rng = firm.rng("approvals")
    yield firm.in_office_hours(rng.uniform(3, 40), rng)
    project = expense.assignment.project
    if not _correctable(firm, project, expense):
        return
    path = f"/expenses/{expense.expense_id}"
    reopened = yield from firm.call("psa", "POST", f"{path}/reopen", body={"reason": "Receipt amount differs"},
                                    purpose="expense-reopen", expect=(409,))
    if not reopened.ok:
        return
    firm.record("expense_reopened", expense_id=expense.expense_id, revision=expense.revision,
                project_id=project.project_id, opportunity_id=project.deal.opportunity_id)
    expense.status, expense.correcting = "REOPENED", True
    project.open_corrections += 1
    yield env.timeout(firm.at(firm.today + timedelta(days=1), 9.5) - float(env.now))
    amount = money(expense.amount * Decimal(rng.choice(("0.8", "0.9", "0.95"))))
    patched = yield from firm.call("psa", "PATCH", path, body={"amount": text(amount)})
    if patched.ok:
        expense.amount = amount
    submitted = yield from firm.call("psa", "POST", f"{path}/submit", purpose="expense-submit")
    if submitted.ok:
        expense.revision = int(submitted.body["revision"])
        expense.status = "SUBMITTED"
        project.expense_inbox.append(expense)
