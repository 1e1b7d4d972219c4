"""A contractor brought in for an open seat stays while there is work booked for them, and leaves after it."""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import simpy

from scenarios.engine.actors.hr import contract
from scenarios.engine.state import Worker

MONDAY = date(2026, 2, 2)


class Firm:
    """Just what a contract needs of the firm: a clock, HCM's terminate, truth and the diary."""

    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.period_end = date(2026, 6, 30)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.facts: list[dict[str, Any]] = []

    @property
    def today(self) -> date:
        return MONDAY + timedelta(days=int(self.env.now // 86400))

    def until(self, day: date, hour: float = 0.0) -> simpy.Event:
        moment = (datetime.combine(day, datetime.min.time()) - datetime.combine(MONDAY, datetime.min.time()))
        return self.env.timeout(max(0.0, moment.total_seconds() + hour * 3600 - self.env.now))

    def call(self, system: str, method: str, path: str, **kwargs: Any) -> Generator[simpy.Event, Any, Any]:
        self.calls.append((path, kwargs["body"]))
        yield self.env.timeout(0)
        return SimpleNamespace(ok=True)

    def record(self, kind: str, /, **data: Any) -> None:
        self.facts.append({"kind": kind, **data})

    def note(self, actor: str, message: str) -> None:
        pass


def _contractor(booked_until: date) -> Worker:
    worker = Worker("WRK-000200", "Alex Doe", "alex.doe@example.com", "US01", "USD", "MANAGER", "DATA_AI",
                    "CONTRACTOR", Decimal(40), MONDAY, Decimal(150000))
    worker.assignments.append(SimpleNamespace(hours_per_week=Decimal(20), end=booked_until))  # type: ignore[arg-type]
    return worker


def test_the_contract_ends_on_the_friday_the_last_booking_is_over() -> None:
    firm = Firm()
    worker = _contractor(booked_until=date(2026, 3, 13))  # a Friday, six weeks in
    firm.env.process(contract(firm.env, firm, worker))  # type: ignore[arg-type]
    firm.env.run(until=120 * 86400)
    assert worker.termination_date == date(2026, 3, 13)
    assert firm.calls == [("/workers/WRK-000200/terminate", {"termination_date": "2026-03-13",
                                                             "reason": "END_OF_CONTRACT"})]
    assert firm.facts == [{"kind": "worker_terminated", "worker_id": "WRK-000200", "termination_date": "2026-03-13"}]


def test_a_contractor_booked_to_the_end_of_the_period_stays() -> None:
    firm = Firm()
    worker = _contractor(booked_until=date(2026, 7, 31))
    firm.env.process(contract(firm.env, firm, worker))  # type: ignore[arg-type]
    firm.env.run(until=200 * 86400)
    assert worker.termination_date is None and firm.calls == []
