"""Messages the engine handles: inbound source events, and the base classes of commands and events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from syncengine.domain.errors import MalformedEvent
from syncengine.domain.records import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One change a system of record committed, as read from its feed or a webhook.

    `data` is the record as it stood after the change; treat it as read-only.
    """

    system: str
    event_id: str
    type: str
    subject: str
    sequence: int
    time: datetime
    data: Mapping[str, Any] = field(hash=False, compare=True)
    traceparent: str | None = None

    @property
    def source_id(self) -> str:
        """Return the id of the record the event is about."""
        return self.subject

    @property
    def source_version(self) -> int:
        """Return the record's version after the change (the feed sequence when it has none)."""
        version = self.data.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            return version
        return self.sequence

    @property
    def message_id(self) -> str:
        """Return the id that names this event across every system (`<system>:<event id>`)."""
        return f"{self.system}:{self.event_id}"

    @classmethod
    def from_cloudevent(cls, system: str, raw: Any) -> SourceEvent:
        """Parse a CloudEvents-shaped event of `system`; raise MalformedEvent naming the bad field."""
        plain = _plain_event(system, raw)
        if plain is not None:
            return plain
        if type(raw) is not dict and not isinstance(raw, Mapping):  # a dict first: no ABC check per event
            raise MalformedEvent("malformed-event", f"{system}: an event must be a JSON object")
        strings = {}
        for name in ("id", "type", "subject", "time"):
            value = raw.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedEvent("malformed-event", f"{system} event: {name} must be a non-empty string")
            strings[name] = value
        sequence = raw.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise MalformedEvent("malformed-event", f"{system} event {strings['id']}: sequence must be an integer >= 1")
        data = raw.get("data")
        if type(data) is not dict and not isinstance(data, Mapping):
            raise MalformedEvent("malformed-event", f"{system} event {strings['id']}: data must be an object")
        traceparent = raw.get("traceparent")
        return cls(
            system=system,
            event_id=strings["id"],
            type=strings["type"],
            subject=strings["subject"],
            sequence=sequence,
            time=parse_instant(strings["time"], f"{system} event {strings['id']}: time"),
            data=data,
            traceparent=traceparent if isinstance(traceparent, str) else None,
        )

    def to_cloudevent(self) -> dict[str, Any]:
        """Return the event as the CloudEvents-shaped JSON object it was read from."""
        raw: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.event_id,
            "source": f"urn:firmsim:{self.system}",
            "type": self.type,
            "subject": self.subject,
            "time": format_instant(self.time),
            "sequence": self.sequence,
            "datacontenttype": "application/json",
            "data": dict(self.data),
        }
        if self.traceparent:
            raw["traceparent"] = self.traceparent
        return raw


@dataclass(frozen=True, slots=True)
class Command:
    """Base of commands: an imperative request to change a system (`PostBillableTime`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of events: a past-tense fact (`TimeEntryApproved`) that names where it came from."""

    source: str
    source_id: str
    source_version: int
    occurred_at: datetime


def _plain_event(system: str, raw: Any) -> SourceEvent | None:
    """Read an event whose fields have exactly their JSON types and whose time is UTC with a `Z` (what the
    systems' feeds and the bus send) as `from_cloudevent` reads it, checked inline; None for any other,
    which `from_cloudevent` then reads (or names its fault) field by field.

    ~2.5x cheaper than the checks by field (isinstance against Mapping, a dict of strings, keyword
    construction): every event the engine takes in is read here, once from a feed and, distributed,
    again from the bus.
    """
    if type(raw) is not dict:
        return None
    event_id, kind, subject, text = raw.get("id"), raw.get("type"), raw.get("subject"), raw.get("time")
    sequence, data, traceparent = raw.get("sequence"), raw.get("data"), raw.get("traceparent")
    if not (type(event_id) is str and event_id and type(kind) is str and kind and type(subject) is str and subject
            and type(text) is str and text.endswith("Z") and type(sequence) is int and sequence >= 1
            and type(data) is dict and (traceparent is None or type(traceparent) is str)):
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is not UTC:
        return None
    return SourceEvent(system, event_id, kind, subject, sequence, instant, data, traceparent)


def parse_instant(value: str, where: str) -> datetime:
    """Parse an RFC 3339 instant to an aware UTC datetime; raise MalformedEvent naming `where`."""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedEvent("malformed-event", f"{where}: expected an RFC 3339 instant, got {value!r}") from error
    if instant.tzinfo is None:
        raise MalformedEvent("malformed-event", f"{where}: the instant needs a time zone, got {value!r}")
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """Format an instant as RFC 3339 UTC with a `Z` suffix."""
    text = instant.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")
