"""A person's call to a system that stays down waits for it (the next working hour, then day), never dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy

from scenarios.engine.clock import SimClock
from scenarios.engine.config import load
from scenarios.engine.firm import Firm, firm_start
from scenarios.engine.ports import ApiResult


class DownUntil:
    """A system that answers 503 (Retry-After: 60) until an instant, then creates what it is sent."""

    def __init__(self, name: str, clock: SimClock, back_at: datetime) -> None:
        self.name = name
        self.clock = clock
        self.back_at = back_at
        self.calls: list[tuple[datetime, str | None, str | None]] = []

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             idempotency_key: str | None = None, if_match: str | None = None,
             traceparent: str | None = None) -> ApiResult:
        now = self.clock.now()
        self.calls.append((now, idempotency_key, traceparent))
        if now < self.back_at:
            return ApiResult(503, {"type": "https://firmsim.example/problems/service-unavailable"},
                             {"Retry-After": "60"})
        return ApiResult(201, {"id": "PAY-000001", **body})


@dataclass
class World:
    env: simpy.Environment
    clock: SimClock
    ports: dict[str, Any] = field(default_factory=dict)


def _call_during_outage(start: datetime, back_at: datetime) -> tuple[ApiResult, datetime, DownUntil]:
    scenario = load("baseline")
    env = simpy.Environment()
    clock = SimClock(env, firm_start(scenario))
    erp = DownUntil("erp", clock, back_at)
    firm = Firm(World(env, clock, {"erp": erp}), scenario)
    answers: list[tuple[ApiResult, datetime]] = []

    def clerk() -> Any:
        yield env.timeout(clock.at(start))
        result = yield from firm.call("erp", "POST", "/payments", body={"amount": "100.00"}, purpose="payment")
        answers.append((result, clock.now()))

    env.process(clerk())
    env.run(until=clock.at(datetime(2026, 2, 4, tzinfo=UTC)))
    (result, answered_at), = answers
    return result, answered_at, erp


def test_a_post_during_a_weekend_long_outage_goes_in_on_the_next_working_morning_under_its_key() -> None:
    result, answered_at, erp = _call_during_outage(datetime(2026, 1, 9, 12, tzinfo=UTC),  # a Friday noon
                                                   datetime(2026, 1, 12, 8, tzinfo=UTC))

    assert result.ok and result.body["amount"] == "100.00"
    assert datetime(2026, 1, 12, 9, tzinfo=UTC) <= answered_at < datetime(2026, 1, 12, 10, tzinfo=UTC)
    assert len({key for _, key, _ in erp.calls}) == 1 and erp.calls[0][1] is not None  # one submission
    assert len({trace for _, _, trace in erp.calls}) == 1
    # tried for a while, once more an hour later, then not again over the weekend
    assert not any(at.weekday() >= 5 for at, _, _ in erp.calls)
    assert len(erp.calls) < 60


def test_a_post_during_a_six_hour_outage_is_tried_again_an_hour_later_then_the_next_morning() -> None:
    result, answered_at, erp = _call_during_outage(datetime(2026, 1, 30, 12, tzinfo=UTC),  # month-end noon
                                                   datetime(2026, 1, 30, 18, tzinfo=UTC))

    assert result.ok
    later = [at for at, _, _ in erp.calls if at >= datetime(2026, 1, 30, 13, tzinfo=UTC)]
    assert later[0].hour == 13  # after the first tries, an hour later (still office hours)
    assert datetime(2026, 2, 2, 9, tzinfo=UTC) <= answered_at < datetime(2026, 2, 2, 10, tzinfo=UTC)  # Monday


def test_a_person_tries_a_system_that_is_down_a_few_times_then_turns_to_other_work_not_every_minute() -> None:
    result, _, erp = _call_during_outage(datetime(2026, 1, 30, 12, tzinfo=UTC),  # month-end noon, down till 18:00
                                         datetime(2026, 1, 30, 18, tzinfo=UTC))

    assert result.ok
    first_hour = [at for at, _, _ in erp.calls if at < datetime(2026, 1, 30, 13, tzinfo=UTC)]
    assert len(first_hour) == 3  # a reload or two a minute apart
    assert first_hour[-1] - first_hour[0] == timedelta(minutes=2)
    assert len(erp.calls) == 3 + 3 + 1  # again an hour later, then once on Monday morning, when it answers
