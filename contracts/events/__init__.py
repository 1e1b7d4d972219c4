"""JSON Schemas of every event type the systems emit (CloudEvents envelope and `data` record), versioned.

    from contracts.events import event_errors
    assert event_errors(event) == []   # event: one item of GET /events or a webhook body
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema_rs

from contracts import EVENTS_DIR
from contracts.events.catalog import EVENT_RECORDS, SCHEMA_VERSION, event_types, schema_file_name

__all__ = ["EVENT_RECORDS", "SCHEMA_VERSION", "event_errors", "event_schema", "event_types", "schema_file_name"]


@cache
def event_schema(event_type: str, version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """Return the committed JSON Schema of an event type; raise LookupError for an unknown type."""
    path = EVENTS_DIR / schema_file_name(event_type, version)
    if not path.is_file():
        raise LookupError(f"no event schema for {event_type!r} v{version} ({path.name} is missing)")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _validator(event_type: str, version: int) -> Any:
    return jsonschema_rs.validator_for(event_schema(event_type, version), validate_formats=True)


def event_errors(event: Mapping[str, Any], version: int = SCHEMA_VERSION) -> list[str]:
    """Return what is wrong with an event against its type's schema (empty when it conforms)."""
    event_type = event.get("type")
    if not isinstance(event_type, str) or event_type not in EVENT_RECORDS:
        return [f"unknown event type {event_type!r}: no schema in contracts/events"]
    validator = _validator(event_type, version)
    where = f"{event_type} {event.get('id', '?')}"
    return [f"{where}: /{'/'.join(map(str, error.instance_path))}: {error.message}"
            for error in validator.iter_errors(dict(event))]
