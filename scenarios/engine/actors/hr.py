"""HR: the opening headcount, monthly hires, leavers, contractors, the annual raise and rate corrections.

A contractor stays as long as there is work booked for them and leaves at the end of it (one
brought in for a seat nobody could fill, or one of the opening headcount). Employees are hired as
the monthly workforce plan calls for (actors.planning): when the forward bench is thin and the
pipeline strong, not while people sit on the bench.

Loaded hourly cost = salary x burden / annual capacity hours (the scenario's cost model), posted to
HCM with its basis so HCM computes the same figure; contractors are paid by the hour.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Generator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors import consultants, planning, staffing
from scenarios.engine.state import Worker
from scenarios.engine.values import (
    ENTITY_CURRENCY,
    add_months,
    business_day,
    chance,
    money,
    next_monday,
    pick,
    poisson,
    weighted,
    whole,
    workday_on_or_before,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
CONTRACTOR_PREMIUM = Decimal("1.15")
OPENING_CONTRACT_DAYS = 14  # contractors on the opening bench are let go after the first fortnight
HIRE_ROLES = {"ANALYST": 0.3, "CONSULTANT": 0.3, "SENIOR_CONSULTANT": 0.2, "MANAGER": 0.15, "SENIOR_MANAGER": 0.05}
LEAVER_ROLES = {"ANALYST": 1.2, "CONSULTANT": 1.2, "SENIOR_CONSULTANT": 1.0, "MANAGER": 0.8, "SENIOR_MANAGER": 0.5,
                "PARTNER": 0.2}


def loaded_cost(salary: Decimal, burden: Decimal, capacity_hours: int) -> Decimal:
    """Return salary x burden / capacity hours, half up to the cent (HCM's rule)."""
    return (salary * burden / Decimal(capacity_hours)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _ascii(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if ch.isascii() and (ch.isalnum() or ch == "-"))


def _email(firm: Firm, first: str, last: str) -> str:
    stem = f"{_ascii(first).lower() or 'staff'}.{_ascii(last).lower() or 'member'}"
    firm.book_emails[stem] = firm.book_emails.get(stem, 0) + 1
    count = firm.book_emails[stem]
    return f"{stem}{count if count > 1 else ''}@firmsim-consulting.example"


def _cost_body(firm: Firm, worker: Worker, salary: Decimal, effective_from: date, reason: str) -> dict[str, Any]:
    cost_model = firm.params["firm"]["cost_model"]
    capacity = int(cost_model["capacity_hours"][worker.legal_entity])
    body: dict[str, Any] = {"effective_from": effective_from.isoformat(), "reason": reason,
                            "currency": worker.currency}
    if worker.worker_type == "CONTRACTOR":
        body["hourly_cost"] = str(loaded_cost(salary, CONTRACTOR_PREMIUM, capacity))
    else:
        body.update(annual_salary=str(money(salary)), burden_multiplier=str(cost_model["burden"]),
                    annual_capacity_hours=capacity)
    return body


def set_cost_rate(firm: Firm, worker: Worker, salary: Decimal, effective_from: date, reason: str) -> Process:
    """Post a cost rate to HCM and record it in truth; a correction replaces the same date's rate."""
    body = _cost_body(firm, worker, salary, effective_from, reason)
    result = yield from firm.call("hcm", "POST", f"/workers/{worker.worker_id}/cost-rates", body=body,
                                  purpose="cost-rate")
    if not result.ok:
        return
    rate = result.body
    hourly_cost = money(rate["hourly_cost"])
    worker.salary = salary
    worker.rates = sorted([entry for entry in worker.rates if entry[0] != effective_from]
                          + [(effective_from, rate["id"], hourly_cost)], key=lambda entry: entry[0])
    worker.hourly_cost = worker.cost_on(firm.today)
    firm.record("cost_rate_set", worker_id=worker.worker_id, cost_rate_id=rate["id"],
                effective_from=effective_from.isoformat(), hourly_cost=str(hourly_cost), currency=worker.currency,
                reason=reason, retroactive=bool(rate["retroactive"]))


def hire(firm: Firm, entity: str, role: str, practice: str, hire_date: date, worker_type: str = "EMPLOYEE",
         manager_id: str | None = None) -> Process:
    """Hire one person into HCM with their starting cost rate; start their working week."""
    rng = firm.rng("hr")
    faker = firm.faker_for_entity(entity)
    first, last = faker.first_name(), faker.last_name()
    salary = whole(Decimal(str(firm.params["firm"]["cost_model"]["salary"][ENTITY_CURRENCY[entity]][role]))
                   * Decimal(str(rng.uniform(0.9, 1.1))), 500)
    week_hours = money(firm.week_hours(entity))
    body: dict[str, Any] = {"worker_type": worker_type, "first_name": first, "last_name": last,
                            "email": _email(firm, first, last), "role": role, "legal_entity": entity,
                            "practice": practice, "hire_date": hire_date.isoformat(),
                            "weekly_capacity_hours": str(week_hours)}
    if manager_id:
        body["manager_id"] = manager_id
    result = yield from firm.call("hcm", "POST", "/workers", body=body, purpose="hire")
    if not result.ok:
        return None
    worker = Worker(worker_id=result.body["id"], name=f"{first} {last}", email=body["email"], legal_entity=entity,
                    currency=ENTITY_CURRENCY[entity], role=role, practice=practice, worker_type=worker_type,
                    weekly_hours=week_hours, hire_date=hire_date, salary=salary)
    firm.roster.add(worker)
    firm.record("worker_hired", worker_id=worker.worker_id, legal_entity=entity, role=role, worker_type=worker_type,
                practice=practice, hire_date=hire_date.isoformat(), weekly_capacity_hours=str(week_hours))
    yield from set_cost_rate(firm, worker, salary, hire_date, "HIRE")
    firm.env.process(consultants.consultant(firm.env, firm, worker))
    return worker


def backfill(env: simpy.Environment, firm: Firm, entity: str, role: str, practice: str) -> Process:
    """Bring in a contractor for a seat nobody could fill, from the Monday after next, for as long as needed."""
    start = next_monday(firm.today + timedelta(days=8))
    worker = yield from hire(firm, entity, role, practice, start, "CONTRACTOR")
    if worker is not None:
        firm.note("hr", f"contractor {worker.name} ({role}, {entity}) engaged from {start} to fill an open seat")
        env.process(contract(env, firm, worker))


def contract(env: simpy.Environment, firm: Firm, worker: Worker, first_check: date | None = None) -> Process:
    """End a contractor's engagement on the Friday their last booking is over.

    Checked each Friday from their second week on (or from `first_check`): with nothing booked from
    the next Monday, the contract ends that day (a contractor is engaged for work, not kept on the bench).
    """
    start = max(worker.hire_date, first_check or worker.hire_date)
    friday = start + timedelta(days=(4 - start.weekday()) % 7 + (0 if first_check else 7))
    while friday <= firm.period_end and worker.termination_date is None:
        yield firm.until(friday, 12)
        following = friday + timedelta(days=3)
        if worker.termination_date is None and not any(
                a.hours_per_week > 0 and a.end >= following for a in worker.assignments):
            worker.termination_date = friday
            firm.note("hr", f"contract of {worker.name} ({worker.role}, {worker.legal_entity}) ends on {friday}")
            env.process(_terminate(env, firm, worker, friday, "END_OF_CONTRACT"))
            return
        friday += timedelta(days=7)


def _opening_headcount(env: simpy.Environment, firm: Firm) -> Process:
    rng = firm.rng("hr")
    practices = firm.params["firm"]["practices"]
    contractor_share = float(firm.params["firm"]["contractor_share"])
    for entity, shape in firm.params["firm"]["legal_entities"].items():
        partners: list[str] = []
        turn = 0
        for role in ("PARTNER", "SENIOR_MANAGER", "MANAGER", "SENIOR_CONSULTANT", "CONSULTANT", "ANALYST"):
            for _ in range(int(shape["headcount"].get(role, 0))):
                years = rng.uniform(0.3, 9.0 if role in ("PARTNER", "SENIOR_MANAGER") else 5.0)
                hire_date = firm.period_start - timedelta(days=int(years * 365))
                worker_type = "CONTRACTOR" if role not in ("PARTNER", "SENIOR_MANAGER") and chance(
                    rng, contractor_share) else "EMPLOYEE"
                manager = partners[turn % len(partners)] if partners and role != "PARTNER" else None
                worker = yield from hire(firm, entity, role, practices[turn % len(practices)], hire_date,
                                         worker_type, manager)
                turn += 1
                if worker is not None and role == "PARTNER":
                    partners.append(worker.worker_id)
                if worker is not None and worker_type == "CONTRACTOR":
                    env.process(contract(env, firm, worker, firm.period_start + timedelta(days=OPENING_CONTRACT_DAYS)))
    firm.note("hr", f"opening headcount loaded: {len(firm.roster.workers)} people")


def _raise_dates(firm: Firm) -> list[date]:
    month = int(firm.params["workforce"]["annual_raise"]["month"])
    dates = []
    first = firm.clock.start.date()
    for year in range(first.year, firm.period_end.year + 1):
        effective = date(year, month, 1)
        if first <= effective <= firm.period_end:
            dates.append(effective)
    return dates


def annual_raise(env: simpy.Environment, firm: Firm, effective: date) -> Process:
    """Give every employee the annual raise from its effective date (processed ten days before)."""
    yield firm.until(effective - timedelta(days=10), 9)
    pct = Decimal(str(firm.params["workforce"]["annual_raise"]["pct"]))
    staff = [w for w in firm.roster.active(effective) if w.worker_type == "EMPLOYEE" and w.hire_date < effective]
    for worker in staff:
        yield from set_cost_rate(firm, worker, whole(worker.salary * (1 + pct), 100), effective, "ANNUAL_RAISE")
    firm.note("hr", f"annual raise of {pct:.1%} for {len(staff)} employees effective {effective}")


def retro_correction(env: simpy.Environment, firm: Firm, when: float) -> Process:
    """Correct a rate already in force (a payroll error found late): it applies back to its date."""
    yield env.timeout(max(0.0, when - float(env.now)))
    rng = firm.rng("hr-corrections")
    staff = [w for w in firm.roster.active(firm.today) if w.worker_type == "EMPLOYEE" and w.rates]
    if not staff:
        return
    worker = pick(rng, staff)
    effective_from = max(entry[0] for entry in worker.rates if entry[0] <= firm.today)
    corrected = whole(worker.salary * Decimal(str(rng.choice((0.94, 0.96, 1.04, 1.06, 1.08)))), 100)
    yield from set_cost_rate(firm, worker, corrected, effective_from, "CORRECTION")
    firm.note("hr", f"corrected {worker.name}'s cost rate from {effective_from} (salary now {corrected})")


def _monthly_hires(firm: Firm, month: date) -> Process:
    """Hire what each entity's forward bench and pipeline call for (planning.hires_needed)."""
    rng = firm.rng("hr")
    today = firm.today
    for entity in firm.params["firm"]["legal_entities"]:
        count, seen = planning.hires_needed(firm, entity, today)
        firm.note("hr", f"{entity} outlook: {seen.booked_share:.0%} of {seen.capacity:,.0f} h/week wanted "
                        f"({seen.people} people); hiring {count}")
        for _ in range(count):
            shortages = [(key, n) for key, n in firm.unfilled.most_common() if key[0] == entity]
            if shortages and chance(rng, 0.6):
                (_, role), _count = shortages[0]
                firm.unfilled[(entity, role)] -= 1
                if firm.unfilled[(entity, role)] <= 0:
                    del firm.unfilled[(entity, role)]
            else:
                role = weighted(rng, HIRE_ROLES)
            practice = pick(rng, firm.params["firm"]["practices"])
            start = next_monday(month + timedelta(days=int(rng.uniform(14, 35))))
            worker = yield from hire(firm, entity, role, practice, start)
            if worker is not None:
                firm.note("hr", f"hired {worker.name} as {role} in {entity}, starting {start}")


def _leavers(env: simpy.Environment, firm: Firm, month: date) -> Process:
    rng = firm.rng("hr-attrition")
    staff = [w for w in firm.roster.active(month) if w.termination_date is None and w.hire_date < month]
    count = poisson(rng, len(staff) * float(firm.params["workforce"]["attrition_annual"]) / 12)
    for _ in range(min(count, len(staff))):
        weights = {worker.worker_id: LEAVER_ROLES[worker.role] for worker in staff}
        leaver = firm.roster.workers[weighted(rng, weights)]
        staff.remove(leaver)
        last_day = month + timedelta(days=int(rng.uniform(20, 45)))
        last_day = workday_on_or_before(last_day)
        leaver.termination_date = last_day
        firm.note("hr", f"{leaver.name} ({leaver.role}, {leaver.legal_entity}) resigned; last day {last_day}")
        staffing.release(firm, leaver, last_day)
        env.process(_terminate(env, firm, leaver, last_day))
    yield env.timeout(0)


def _terminate(env: simpy.Environment, firm: Firm, worker: Worker, last_day: date,
               reason: str = "RESIGNATION") -> Process:
    yield firm.until(last_day, 20)
    result = yield from firm.call("hcm", "POST", f"/workers/{worker.worker_id}/terminate",
                                  body={"termination_date": last_day.isoformat(), "reason": reason},
                                  purpose="terminate")
    if result.ok:
        firm.record("worker_terminated", worker_id=worker.worker_id, termination_date=last_day.isoformat())


def hr(env: simpy.Environment, firm: Firm) -> Process:
    """Run HR for the whole run: opening headcount, raises, corrections, then hires and leavers monthly."""
    yield from _opening_headcount(env, firm)
    for effective in _raise_dates(firm):
        env.process(annual_raise(env, firm, effective))
    rng = firm.rng("hr-corrections")
    span = firm.at(firm.period_end, 17) - firm.at(firm.period_start, 9)
    for _ in range(int(firm.params["workforce"]["retro_corrections"])):
        env.process(retro_correction(env, firm, firm.at(firm.period_start, 9) + rng.uniform(0.05, 0.9) * span))
    month = firm.period_start.replace(day=1)
    while month <= firm.period_end:
        yield firm.until(max(business_day(month.year, month.month, 1), firm.period_start), 9)
        yield from _monthly_hires(firm, month)
        yield from _leavers(env, firm, month)
        month = add_months(month, 1)
