"""Domain: source events, money, ordering keys."""

from __future__ import annotations

from collections import UserDict
from dataclasses import FrozenInstanceError, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from syncengine.domain import (
    Event,
    MalformedEvent,
    PoisonMessage,
    SourceEvent,
    by_field,
    by_subject,
    format_amount,
    parse_amount,
    quantize,
)


class _OtherStr(str):
    """A str subclass: not exactly a JSON string."""


def raw_event(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "specversion": "1.0", "id": "psa-000042", "source": "urn:firmsim:psa", "type": "psa.time_entry.approved",
        "subject": "TE-000007", "time": "2026-03-02T09:30:00Z", "sequence": 42,
        "datacontenttype": "application/json",
        "data": {"id": "TE-000007", "version": 3, "project_id": "PRJ-000001"}, "traceparent": "00-abc-def-01",
    }
    raw.update(changes)
    return raw


def test_a_feed_event_is_read_into_a_source_event() -> None:
    event = SourceEvent.from_cloudevent("psa", raw_event())
    assert (event.system, event.event_id, event.type, event.subject, event.sequence) == (
        "psa", "psa-000042", "psa.time_entry.approved", "TE-000007", 42)
    assert event.time == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert (event.source_id, event.source_version, event.message_id) == ("TE-000007", 3, "psa:psa-000042")
    assert event.traceparent == "00-abc-def-01"
    assert SourceEvent.from_cloudevent("psa", event.to_cloudevent()) == event


def test_an_event_without_a_record_version_uses_its_sequence() -> None:
    event = SourceEvent.from_cloudevent("psa", raw_event(data={"id": "TE-000007"}))
    assert event.source_version == 42


@pytest.mark.parametrize("changes", [
    {"id": ""}, {"type": 3}, {"sequence": 0}, {"sequence": True}, {"data": []}, {"time": "yesterday"},
    {"time": "2026-03-02T09:30:00"},
])
def test_a_malformed_event_is_refused_naming_the_field(changes: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent) as raised:
        SourceEvent.from_cloudevent("psa", raw_event(**changes))
    assert raised.value.reason == "malformed-event"
    assert next(iter(changes)) in raised.value.detail


class _OtherMapping(UserDict[str, Any]):
    """An event as a Mapping that is not a dict: read field by field, never by the plain (inline) reading."""


@pytest.mark.parametrize("changes", [
    {}, {"time": "2026-03-02T09:30:00.250Z"}, {"time": "2026-03-02T11:30:00+02:00"},
    {"time": "2026-03-02T09:30:00+00:00"}, {"time": "20260302T093000Z"}, {"traceparent": None}, {"traceparent": 7},
    {"traceparent": ""}, {"data": _OtherMapping({"id": "TE-000007", "version": 5})}, {"id": _OtherStr("psa-1")},
    {"sequence": 2**70}, {"data": {"id": "TE-000007", "version": True}},
])
def test_every_shape_of_event_is_read_as_the_field_by_field_reading_reads_it(changes: dict[str, Any]) -> None:
    raw = raw_event(**changes)
    event = SourceEvent.from_cloudevent("psa", raw)
    read_by_field = SourceEvent.from_cloudevent("psa", _OtherMapping(raw))
    assert event == read_by_field
    assert [type(value) for value in (event.event_id, event.time.tzinfo, event.traceparent)] == \
        [type(value) for value in (read_by_field.event_id, read_by_field.time.tzinfo, read_by_field.traceparent)]


@pytest.mark.parametrize("time", ["2026-03-02T09:30:00ZZ", "2026-03-02T25:30:00Z", "2026-03-02T09:30:00z"])
def test_a_malformed_or_odd_time_is_read_or_refused_as_the_field_by_field_reading_does(time: str) -> None:
    outcomes = []
    for raw in (raw_event(time=time), _OtherMapping(raw_event(time=time))):
        try:
            outcomes.append(SourceEvent.from_cloudevent("psa", raw))
        except MalformedEvent as error:
            outcomes.append((error.reason, error.detail))
    assert outcomes[0] == outcomes[1]


def test_a_source_event_is_immutable() -> None:
    event = SourceEvent.from_cloudevent("psa", raw_event())
    with pytest.raises(FrozenInstanceError):
        event.subject = "TE-000008"  # type: ignore[misc]


def test_a_domain_event_carries_its_source() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class TimeEntryApproved(Event):
        hours: Decimal

    approved = TimeEntryApproved(source="psa", source_id="TE-000007", source_version=3,
                                 occurred_at=datetime(2026, 3, 2, tzinfo=UTC), hours=Decimal("7.5"))
    assert (approved.source, approved.source_version) == ("psa", 3)


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("2.345", "USD", "2.35"), ("-2.345", "GBP", "-2.35"), ("2.344999", "EUR", "2.34"), ("1250", "USD", "1250.00"),
    ("99.5", "JPY", "100"),
])
def test_money_is_quantized_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert format_amount(Decimal(amount), currency) == expected
    assert quantize(amount, currency) == Decimal(expected)


def test_an_amount_that_is_not_a_decimal_string_is_poison() -> None:
    assert parse_amount("10.005", "USD") == Decimal("10.01")
    for bad in (10.0, "ten", "NaN", None):
        with pytest.raises(PoisonMessage):
            parse_amount(bad, "USD")


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="XXX"):
        quantize("1", "XXX")


def test_ordering_keys_come_from_the_subject_or_a_data_field() -> None:
    event = SourceEvent.from_cloudevent("psa", raw_event())
    assert by_subject(event) == "psa:TE-000007"
    assert by_field("contract_id", "project_id", prefix="project")(event) == "project:PRJ-000001"
    keyed = replace(event, data={"contract_id": "", "project_id": 7, "worker_id": True, "id": "X"})
    assert by_field("contract_id", "project_id", prefix="project")(keyed) == "project:7"
    assert by_field("worker_id", "id", prefix="worker")(keyed) == "worker:X"
    with pytest.raises(MalformedEvent):
        by_field("worker_id", prefix="worker")(event)
