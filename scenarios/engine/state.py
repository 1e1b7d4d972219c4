"""What the firm's people know and share: who works here, who is booked where, the deals and projects.

This is the firm's own memory (its staffing spreadsheet, its sales book, its approval inboxes),
never a system's: the systems' records are reached only through their APIs, and their ids are kept
here once an actor got them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from scenarios.engine.plan import DealPlan, Milestone


@lru_cache(maxsize=4096)
def mondays(start: date, end: date) -> tuple[date, ...]:
    """Return the Mondays of the weeks from the one of `start` to the one of `end` (a staffing search asks
    for the same dates of everyone it looks at)."""
    first = start - timedelta(days=start.weekday())
    return tuple(first + timedelta(days=7 * week) for week in range(max(0, (end - first).days // 7 + 1)))


def name_key(name: str) -> str:
    """Return what makes two company names one in a register: `Davis Inc` and `DAVIS, INC.` are one name."""
    return "".join(char for char in name.replace("&", "and").casefold() if char.isalnum())


@dataclass(slots=True, eq=False)
class Assignment:
    """A person booked on a project seat for dates at weekly hours."""

    project: Project
    worker: Worker
    role: str
    start: date
    end: date
    hours_per_week: Decimal
    assignment_id: str = ""

    def covers(self, day: date) -> bool:
        """Tell whether the booking includes a date."""
        return self.start <= day <= self.end


@dataclass(slots=True, eq=False)
class Worker:
    """A member of staff as the firm knows them (HCM ids once hired)."""

    worker_id: str
    name: str
    email: str
    legal_entity: str
    currency: str
    role: str
    practice: str
    worker_type: str
    weekly_hours: Decimal
    hire_date: date
    salary: Decimal
    hourly_cost: Decimal = Decimal(0)
    rates: list[tuple[date, str, Decimal]] = field(default_factory=list)
    termination_date: date | None = None
    assignments: list[Assignment] = field(default_factory=list)
    days_off: set[date] = field(default_factory=set)
    load: dict[date, Decimal] = field(default_factory=dict)

    def employed_on(self, day: date) -> bool:
        """Tell whether the person is on the payroll on a date."""
        return self.hire_date <= day and (self.termination_date is None or day <= self.termination_date)

    def cost_on(self, day: date) -> Decimal:
        """Return the loaded hourly cost in effect on a date."""
        cost = self.rates[0][2] if self.rates else self.hourly_cost
        for effective_from, _, hourly_cost in self.rates:
            if effective_from <= day:
                cost = hourly_cost
        return cost

    def peak_load(self, start: date, end: date, stop_at: Decimal | None = None) -> Decimal:
        """Return the most hours a week the person is booked for between two dates.

        With `stop_at`, stop looking once the peak exceeds it (the person is too busy: the exact peak no longer
        matters).
        """
        load = self.load
        if not load:
            return Decimal(0)
        # weeks booked at all, in date order (without a booking or at zero hours they raise no peak);
        # a staffing search asks this of everyone in a role for every seat, so it is read in C
        booked = filter(None, map(load.get, mondays(start, end)))
        if stop_at is not None:  # the first week over stop_at is where the running peak first passes it
            over = next(filter(stop_at.__lt__, booked), None)
            if over is not None:
                return over
            booked = filter(None, map(load.get, mondays(start, end)))
        return max(Decimal(0), max(booked, default=Decimal(0)))

    def book(self, assignment: Assignment, sign: int = 1) -> None:
        """Add (or with sign -1 remove) an assignment's weekly hours to the person's load."""
        week = assignment.start - timedelta(days=assignment.start.weekday())
        while week <= assignment.end:
            self.load[week] = self.load.get(week, Decimal(0)) + sign * assignment.hours_per_week
            week += timedelta(days=7)


@dataclass(slots=True, eq=False)
class Account:
    """A CRM account and the real-world company (customer_key) behind it."""

    account_id: str
    customer_key: str
    name: str
    country: str
    currency: str
    tax_id: str | None
    parent_account_id: str | None
    us_state: str | None = None
    contact: str = ""


@dataclass(slots=True, eq=False)
class TimeEntry:
    """One day of one person's hours on one project, as the person and the approver know it."""

    entry_id: str
    assignment: Assignment
    day: date
    hours: Decimal
    billable: bool
    revision: int = 1
    status: str = "SUBMITTED"
    correcting: bool = False


@dataclass(slots=True, eq=False)
class Expense:
    """One out-of-pocket cost on a project."""

    expense_id: str
    assignment: Assignment
    day: date
    amount: Decimal
    currency: str
    billable: bool
    revision: int = 1
    status: str = "SUBMITTED"
    correcting: bool = False


@dataclass(slots=True, eq=False)
class Project:
    """A PSA project delivering a deal, once the engine created it."""

    project_id: str
    deal: Deal
    start: date
    end: date
    approver: str
    status: str = "PLANNED"
    assignments: list[Assignment] = field(default_factory=list)
    milestones: dict[int, str] = field(default_factory=dict)
    stop_date: date | None = None
    time_inbox: list[TimeEntry] = field(default_factory=list)
    expense_inbox: list[Expense] = field(default_factory=list)
    open_corrections: int = 0
    cost_to_date: Decimal = Decimal(0)
    open_seats: list[tuple[str, Decimal]] = field(default_factory=list)

    def works_on(self, day: date) -> bool:
        """Tell whether time can be booked on a date."""
        last = self.stop_date or self.end
        return self.status == "ACTIVE" and self.start <= day <= last


@dataclass(slots=True, eq=False)
class Deal:
    """An opportunity from first contact to a won, lost or cancelled deal."""

    opportunity_id: str
    account: Account
    plan: DealPlan
    rep: str
    expected_exception: str | None = None
    status: str = "OPEN"
    won_at: float | None = None
    contract_version: int = 0
    contract_amount: Decimal = Decimal(0)
    service_end: date | None = None
    project: Project | None = None
    opening: bool = False
    milestones: list[Milestone] = field(default_factory=list)
    cancelled_on: date | None = None

    @property
    def end(self) -> date:
        """Return the current end of service (change orders may move it)."""
        return self.service_end or self.plan.service_end


@dataclass(slots=True)
class Roster:
    """Everyone the firm has employed, by id and by legal entity, in hiring order."""

    workers: dict[str, Worker] = field(default_factory=dict)
    by_entity: dict[str, list[Worker]] = field(default_factory=dict)
    by_role: dict[tuple[str, str], list[tuple[int, Worker]]] = field(default_factory=dict)

    def add(self, worker: Worker) -> None:
        """Remember a new hire."""
        self.workers[worker.worker_id] = worker
        staff = self.by_entity.setdefault(worker.legal_entity, [])
        self.by_role.setdefault((worker.legal_entity, worker.role), []).append((len(staff), worker))
        staff.append(worker)

    def in_role(self, legal_entity: str, role: str) -> list[tuple[int, Worker]]:
        """Return everyone an entity has employed in a role, each with their place in the entity's hiring order."""
        return self.by_role.get((legal_entity, role), [])

    def active(self, on: date) -> list[Worker]:
        """Return the people employed on a date, in hiring order."""
        return [worker for worker in self.workers.values() if worker.employed_on(on)]

    def by(self, legal_entity: str, role: str, on: date) -> list[Worker]:
        """Return the people of an entity in a role on a date, in hiring order."""
        return [worker for _, worker in self.in_role(legal_entity, role) if worker.employed_on(on)]


@dataclass(slots=True)
class Book:
    """The firm's accounts, deals and projects."""

    accounts: list[Account] = field(default_factory=list)
    deals: dict[str, Deal] = field(default_factory=dict)
    projects: list[Project] = field(default_factory=list)
    by_country: dict[str, list[Account]] = field(default_factory=dict)
    names_by_country: dict[str, set[str]] = field(default_factory=dict)

    def add_account(self, account: Account) -> None:
        """Remember a new CRM account."""
        self.accounts.append(account)
        self.by_country.setdefault(account.country, []).append(account)
        self.names_by_country.setdefault(account.country, set()).add(name_key(account.name))

    def accounts_in(self, country: str) -> list[Account]:
        """Return the accounts of companies of a country, in the order they were created."""
        return self.by_country.get(country, [])

    def names_in(self, country: str) -> set[str]:
        """Return the names (as name_key gives them) the accounts of a country bear."""
        return self.names_by_country.get(country, set())

    def won(self) -> list[Deal]:
        """Return the won deals (cancelled ones included), in closing order."""
        return [deal for deal in self.deals.values() if deal.won_at is not None]
