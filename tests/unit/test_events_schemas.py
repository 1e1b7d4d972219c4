"""The event schemas in contracts/events are generated from the specs, current, and able to refuse an event."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import EVENTS_DIR
from contracts.events import event_errors, event_schema, event_types
from contracts.events.generate import stale_files

APPROVED_TIME: dict[str, Any] = {
    "specversion": "1.0", "id": "psa-000042", "source": "urn:firmsim:psa", "type": "psa.time_entry.approved",
    "subject": "TIM-000007", "time": "2026-03-04T17:00:00Z", "sequence": 42, "datacontenttype": "application/json",
    "data": {"id": "TIM-000007", "version": 3, "created_at": "2026-03-04T09:00:00Z",
             "updated_at": "2026-03-04T17:00:00Z", "resource_id": "WRK-000007", "project_id": "PRJ-000001",
             "task_id": None, "assignment_id": "ASG-000001", "role": "SENIOR_CONSULTANT", "date": "2026-03-04",
             "hours": "7.50", "billable": True, "notes": None, "status": "APPROVED", "revision": 1,
             "currency": "GBP", "bill_rate": "185.00", "bill_amount": "1387.50", "cost_rate": "70.00",
             "cost_amount": "525.00", "cost_currency": "GBP",
             "approvals": [{"revision": 1, "date": "2026-03-04", "hours": "7.50", "billable": True, "currency": "GBP",
                            "bill_rate": "185.00", "bill_amount": "1387.50", "cost_rate": "70.00",
                            "cost_amount": "525.00", "cost_currency": "GBP", "approved_at": "2026-03-04T17:00:00Z"}]},
}


def test_committed_event_schemas_are_what_the_generator_renders_from_the_specs() -> None:
    assert stale_files() == [], "run: .venv/bin/python -m contracts.events.generate"


def test_there_is_one_versioned_schema_file_per_event_type() -> None:
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(
        f"{event_type}.v1.json" for event_type in event_types())


def test_an_event_schema_pins_its_type_and_carries_the_record_of_the_spec() -> None:
    schema = event_schema("psa.time_entry.approved")
    assert schema["properties"]["type"] == {"const": "psa.time_entry.approved"}
    assert schema["properties"]["data"] == {"$ref": "#/$defs/TimeEntry"}
    assert "Amount" in schema["$defs"] or "NullableAmount" in schema["$defs"]


def test_a_well_formed_event_conforms() -> None:
    assert event_errors(APPROVED_TIME) == []


@pytest.mark.parametrize(("change", "expected"), [
    (lambda event: event["data"].pop("project_id"), '"project_id" is a required property'),
    (lambda event: event["data"].update(hours=7.5), "/data/hours"),
    (lambda event: event.update(type="psa.time_entry.approvd"), "unknown event type"),
    (lambda event: event.update(source="urn:firmsim:erp"), "/source"),
])
def test_a_drifted_event_is_refused_naming_what_is_wrong(change: Any, expected: str) -> None:
    event = {**APPROVED_TIME, "data": dict(APPROVED_TIME["data"])}
    change(event)
    assert any(expected in error for error in event_errors(event)), event_errors(event)
