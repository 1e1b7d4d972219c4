"""The firm: one scenario's people and their shared memory, acting on the four systems through their APIs.

    world = build_world(firm_start(scenario), flows=builtin_flows(), seed=scenario.seed)
    firm = Firm(world, scenario)
    firm.start()          # HR, sales, delivery, finance, customers, operations as SimPy processes
    firm.run()            # to the end of the scenario's period (or world.run_until(...) step by step)
    world.drain(limit_s)  # let the engine finish what is in flight
    print(firm.kpis(export_state(world.context("erp"))).render())

The world starts `LEAD_IN_DAYS` before the period so that the opening headcount (dated before the
period), the opening book of deals won just before it and an open pipeline are in place on day one;
facts dated before the period are history, and the KPIs look at the period only.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Generator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

import simpy
from faker import Faker

from scenarios.engine.clock import DAY, SimClock
from scenarios.engine.config import Scenario
from scenarios.engine.kpis import USD_PER, Kpis, business_kpis
from scenarios.engine.ports import ApiResult, SystemPort, new_traceparent, persist, try_again
from scenarios.engine.state import Book, Roster
from scenarios.engine.streams import Streams
from scenarios.engine.truth import Fact, Truth
from scenarios.engine.values import ENTITY_CURRENCY, ENTITY_LOCALE, is_workday, workday_on_or_after

LEAD_IN_DAYS = 21
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL")
COUNTRY_LOCALE = {"US": "en_US", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "NL": "nl_NL"}
OFFICE_CLOSES_H = 17.5
WEEK_HOURS = {"US01": Decimal(40), "UK01": Decimal("37.5"), "DE01": Decimal(40)}
Process = Generator[simpy.Event, Any, Any]


class WorldLike(Protocol):
    """What the firm needs of a world: its environment, clock and one port per system."""

    env: simpy.Environment
    clock: SimClock
    ports: Any


def firm_start(scenario: Scenario) -> datetime:
    """Return the instant the world should start at: the lead-in before the scenario's period."""
    return scenario.start_instant - timedelta(days=LEAD_IN_DAYS)


class Firm:
    """One firm: a scenario, its seeded streams and Fakers, its memory, and the truth it records."""

    def __init__(self, world: WorldLike, scenario: Scenario, *, admin_ports: dict[str, SystemPort] | None = None
                 ) -> None:
        if world.clock.start > scenario.start_instant:
            raise ValueError(f"the world starts at {world.clock.start.isoformat()}, after the period of "
                             f"{scenario.name} ({scenario.start.isoformat()}); start it at firm_start(scenario)")
        self.world = world
        self.env: simpy.Environment = world.env
        self.clock: SimClock = world.clock
        self.scenario = scenario
        self.params: dict[str, Any] = scenario.params
        self.ports: dict[str, SystemPort] = dict(world.ports)
        self.admin_ports: dict[str, SystemPort] = dict(admin_ports or world.ports)
        self.streams = Streams(scenario.seed)
        self._trace_stream = self.streams("traceparent")
        self.truth = Truth()
        self.roster = Roster()
        self.book = Book()
        self.fakers = {locale: self._faker(locale) for locale in LOCALES}
        self.book_emails: dict[str, int] = {}
        self.unfilled: Counter[tuple[str, str]] = Counter()
        self.companies = 0
        self.disputed: set[str] = set()
        self.reminders: dict[str, simpy.Event] = {}  # invoice id -> fires when finance chases it
        self.payment_habits: dict[str, float] = {}
        self.credit_set_up: set[str] = set()
        self.diary: list[tuple[str, str, str]] = []
        self.failures: Counter[tuple[str, str, int, str]] = Counter()
        self.deferred: Counter[tuple[str, str]] = Counter()  # calls that waited for a system to come back
        self.api_calls = 0
        self._keys: Counter[str] = Counter()
        self._started = False
        self._stamped: tuple[float, str] = (-1.0, "")

    def _faker(self, locale: str) -> Faker:
        faker = Faker(locale)
        digest = hashlib.sha256(f"{self.scenario.seed}:faker:{locale}".encode()).digest()
        faker.seed_instance(int.from_bytes(digest[:8], "big"))
        return faker

    def faker_for_entity(self, legal_entity: str) -> Faker:
        """Return the seeded Faker of a legal entity's locale (en_US, en_GB, de_DE)."""
        return self.fakers[ENTITY_LOCALE[legal_entity]]

    def faker_for_country(self, country: str) -> Faker:
        """Return the seeded Faker of a customer's country (en_GB for countries without their own)."""
        return self.fakers[COUNTRY_LOCALE.get(country, "en_GB")]

    @staticmethod
    def week_hours(legal_entity: str) -> Decimal:
        """Return the standard working week of a legal entity."""
        return WEEK_HOURS[legal_entity]

    # Time ----------------------------------------------------------------------------------------

    @property
    def today(self) -> date:
        """Return the virtual business date."""
        return self.clock.today()

    @property
    def period_start(self) -> date:
        """Return the first day of the scenario's period."""
        return self.scenario.start

    @property
    def period_end(self) -> date:
        """Return the last day of the scenario's period."""
        return self.scenario.end

    def at(self, day: date, hour: float = 0.0) -> float:
        """Return the virtual time of an hour on a date."""
        return self.clock.at_date(day, hour)

    def until(self, day: date, hour: float = 0.0) -> simpy.Event:
        """Return an event that fires at an hour on a date (now, if that is past)."""
        return self.env.timeout(max(0.0, self.at(day, hour) - float(self.env.now)))

    def in_office_hours(self, days: float, rng: Any) -> simpy.Event:
        """Return an event about `days` from now, moved into office hours (09:00-17:00) on a working day."""
        return self.until(workday_on_or_after(self.today + timedelta(days=round(days))), 9 + 8 * rng.random())

    def stamp(self) -> str:
        """Return the virtual instant as an ISO string (the `at` of facts)."""
        now = float(self.env.now)
        if now != self._stamped[0]:  # many facts and diary lines share an instant
            self._stamped = (now, self.clock.now().isoformat().replace("+00:00", "Z"))
        return self._stamped[1]

    # Acting --------------------------------------------------------------------------------------

    def rng(self, family: str) -> Any:
        """Return the seeded random stream of an actor family."""
        return self.streams(family)

    def key(self, purpose: str) -> str:
        """Return a fresh, deterministic Idempotency-Key for one intended action."""
        self._keys[purpose] += 1
        return f"firm-{purpose}-{self._keys[purpose]:07d}"

    def call(self, system: str, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             purpose: str | None = None, expect: tuple[int, ...] = ()) -> Generator[simpy.Event, Any, ApiResult]:
        """Call a system like a person at a UI (coming back later on outages); POSTs carry a key."""
        key = self.key(purpose or path.strip("/").split("/")[0]) if method == "POST" else None
        # one trace per business transaction (retries included), from a stream of its own
        traceparent = new_traceparent(self._trace_stream) if method != "GET" else None
        port = self.ports[system]
        result = port.call(method, path, body=body, params=params, idempotency_key=key, traceparent=traceparent)
        if result.retry_later:  # as persist: most answers come at once, and need no generator of their own
            result = yield from try_again(self.env, port, result, method, path, body=body, params=params,
                                          idempotency_key=key, traceparent=traceparent)
        deferred = 0
        while result.retry_later:  # still down: the work waits for the system, it is never dropped
            self.deferred[(system, _template(path))] += 1
            yield self.until(*self._come_back(deferred))
            deferred += 1
            result = yield from persist(self.env, port, method, path, body=body, params=params,
                                        idempotency_key=key, traceparent=traceparent)
        self.api_calls += 1
        if not result.ok and result.status not in expect:
            self.failures[(system, _template(path), result.status, result.problem_type)] += 1
        return result

    def _come_back(self, deferred: int) -> tuple[date, float]:
        """Return when a person tries a system again that stayed down: in an hour, then the next working day.

        The first time, an hour later if that is still office hours (09:00-17:30) on a working day; after
        that, or outside office hours, the next working day's morning (09:00-10:00, each person at their
        own time, from a stream drawn only here).
        """
        now = self.clock.now()
        hour = now.hour + now.minute / 60 + 1
        if deferred == 0 and is_workday(now.date()) and 9 <= hour < OFFICE_CLOSES_H:
            return now.date(), hour
        return workday_on_or_after(now.date() + timedelta(days=1)), 9 + self.streams("come-back").random()

    def invoice_disputed(self, invoice_id: str) -> bool:
        """Tell whether a customer disputed an invoice."""
        return invoice_id in self.disputed

    def record(self, fact_kind: str, /, **data: Any) -> Fact:
        """Append a fact to the truth, stamped with the virtual instant."""
        return self.truth.append(fact_kind, self.stamp(), data)

    def note(self, actor: str, message: str) -> None:
        """Write one line of the firm's diary (what a services-operations person would read)."""
        self.diary.append((self.stamp(), actor, message))

    # Running -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start every actor family's processes."""
        from scenarios.engine.actors import approvals, finance, hr, operations, sales

        if self._started:
            raise RuntimeError("the firm is already started")
        self._started = True
        self.env.process(operations.operations(self.env, self))
        self.env.process(hr.hr(self.env, self))
        self.env.process(sales.sales(self.env, self))
        self.env.process(approvals.approvals(self.env, self))
        self.env.process(finance.finance(self.env, self))

    def end_instant(self) -> datetime:
        """Return the instant the period ends (midnight after its last day)."""
        return datetime.combine(self.scenario.end + timedelta(days=1), time(0), tzinfo=UTC)

    def run(self, until: datetime | None = None) -> None:
        """Advance virtual time to `until` (default: the end of the period)."""
        if not self._started:
            self.start()
        target = self.clock.at(until or self.end_instant())
        if target > float(self.env.now):
            self.env.run(until=target)

    def kpis(self, erp_state: dict[str, Any] | None = None) -> Kpis:
        """Return the business KPIs of the period (ERP figures from `erp_state` when given)."""
        return business_kpis(self.truth, erp_state, start=self.scenario.start, end=self.scenario.end,
                             sold_cost=self.sold_costs())

    def sold_costs(self) -> dict[str, Decimal]:
        """Return each won deal's planned cost (its team at the firm's average cost by role), in USD."""
        average: dict[tuple[str, str], Decimal] = {}
        for entity, workers in self.roster.by_entity.items():
            for role in {worker.role for worker in workers}:
                costs = [w.cost_on(self.period_start) for w in workers if w.role == role]
                average[(entity, role)] = sum(costs, Decimal(0)) / len(costs)
        planned: dict[str, Decimal] = {}
        for deal in self.book.won():
            plan = deal.plan
            weekly = sum((slot.hours_per_week * average.get((plan.legal_entity, slot.role), Decimal(0))
                          for slot in plan.slots), Decimal(0))
            planned[deal.opportunity_id] = weekly * plan.weeks * USD_PER[ENTITY_CURRENCY[plan.legal_entity]]
        return planned

    def elapsed_days(self) -> float:
        """Return the virtual days run so far."""
        return float(self.env.now) / DAY


def _template(path: str) -> str:
    """Turn `/time-entries/TIM-000012/approve` into `/time-entries/{id}/approve` for counting."""
    return "/".join("{id}" if any(ch.isdigit() for ch in part) and "-" in part else part for part in path.split("/"))
