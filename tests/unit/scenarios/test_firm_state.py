"""The firm's memory: a person's weekly load over dates, the roster by entity and role, and the truth's facts."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

import pytest

from scenarios.engine.facts import FACT_FIELDS
from scenarios.engine.state import Roster, Worker, mondays
from scenarios.engine.truth import Truth


def _worker(number: int, entity: str = "US01", role: str = "CONSULTANT") -> Worker:
    return Worker(f"WRK-{number:06d}", "A B", "a.b@example.com", entity, "USD", role, "DATA_AI", "EMPLOYEE",
                  Decimal(40), date(2024, 1, 1), Decimal(100000))


def test_the_weeks_of_a_span_run_from_the_monday_of_its_first_day_to_the_week_of_its_last() -> None:
    assert mondays(date(2026, 3, 4), date(2026, 3, 16)) == (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16))
    assert mondays(date(2026, 3, 4), date(2026, 3, 2)) == (date(2026, 3, 2),)
    assert mondays(date(2026, 3, 4), date(2026, 3, 1)) == ()


def test_the_peak_load_is_the_busiest_week_the_span_touches() -> None:
    worker = _worker(1)
    worker.load = {date(2026, 2, 23): Decimal(40), date(2026, 3, 2): Decimal(16), date(2026, 3, 9): Decimal(24),
                   date(2026, 3, 23): Decimal(32)}
    assert worker.peak_load(date(2026, 3, 6), date(2026, 3, 8)) == Decimal(16)  # the week of a Friday
    assert worker.peak_load(date(2026, 3, 6), date(2026, 3, 16)) == Decimal(24)  # a Friday to a Monday
    assert worker.peak_load(date(2026, 3, 6), date(2026, 3, 23)) == Decimal(32)
    assert worker.peak_load(date(2026, 3, 16), date(2026, 3, 20)) == Decimal(0)
    assert worker.peak_load(date(2026, 3, 2), date(2026, 3, 23), stop_at=Decimal(20)) == Decimal(24)
    assert _worker(2).peak_load(date(2026, 3, 2), date(2026, 3, 23)) == Decimal(0)


def test_the_roster_by_role_keeps_each_persons_place_in_the_entitys_hiring_order() -> None:
    roster = Roster()
    people = [_worker(1), _worker(2, role="MANAGER"), _worker(3, "UK01"), _worker(4), _worker(5, role="MANAGER")]
    for worker in people:
        roster.add(worker)
    assert roster.in_role("US01", "CONSULTANT") == [(0, people[0]), (2, people[3])]
    assert roster.in_role("US01", "MANAGER") == [(1, people[1]), (3, people[4])]
    assert roster.in_role("UK01", "CONSULTANT") == [(0, people[2])]
    assert roster.in_role("DE01", "CONSULTANT") == []
    assert roster.by("US01", "MANAGER", date(2026, 1, 1)) == [people[1], people[4]]


def test_the_truth_takes_a_fact_with_exactly_the_fields_of_its_kind() -> None:
    truth = Truth()
    fact = truth.record("deal_lost", "2026-03-02T10:00:00Z", opportunity_id="OPP-000001")
    assert fact.sequence == 1 and truth.of("deal_lost") == [fact]
    with pytest.raises(ValueError, match="expected fields"):
        truth.record("deal_lost", "2026-03-02T10:00:00Z")
    with pytest.raises(ValueError, match="expected fields"):
        truth.record("deal_lost", "2026-03-02T10:00:00Z", opportunity_id="OPP-000002", reason="price")
    with pytest.raises(ValueError, match="unknown fact kind"):
        truth.record("deal_won_twice", "2026-03-02T10:00:00Z", opportunity_id="OPP-000003")
    assert len(truth) == 1


def test_a_facts_details_read_as_recorded_in_their_order_and_share_their_kinds_keys() -> None:
    truth = Truth()
    fields = FACT_FIELDS["time_approved"]
    details = {name: f"{name} value" for name in reversed(fields)}
    truth.append("time_approved", "2026-03-02T10:00:00Z", details)
    fact = truth.append("time_approved", "2026-03-02T11:00:00Z", details)

    assert type(fact.data) is dict and list(fact.data.items()) == list(details.items())
    assert fact.to_dict() == {"sequence": 2, "kind": "time_approved", "at": "2026-03-02T11:00:00Z", "data": details}
    assert sys.getsizeof(fact.data) < sys.getsizeof(details) * 2 / 3  # 12 fields: 288 rather than 464 bytes
