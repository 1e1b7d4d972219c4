"""Deliveries as bus message bodies: compact JSON, each event without the CloudEvents constants.

A delivery carries the system, the handler's tracking name, the ordering key and the event's own
fields (id, type, subject, time, sequence, data, traceparent); `specversion`, `source` and
`datacontenttype` are the same for every event and left out. An operator's re-drive also names the
exception it resolves. A body holds one delivery, or several in their order (what a feed read took
in for one partition: one bus message for a bulk approval's hundred). In a body of several, each
event is written once, in `events`, and each delivery names its event by its index there: an event
two flows handle (a time entry's approval is billed and costed) crosses the bus once, not twice
(`{"events": [...], "deliveries": [{"system", "handler", "key", "event": 0}, ...]}`). Bodies of the
earlier forms (each delivery with its event inline; the whole CloudEvent) decode the same.

Bodies are written and read with orjson: on a hundred-delivery body ~12x faster to write and ~2x to
read than the standard library (bus JSON was ~12 % of a worker's CPU). A body orjson cannot write (an
integer beyond 64 bits in an event's data) is written by the standard library; orjson reads such a
number back as a float (no field the engine reads is one: ids are strings, money decimal strings).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from syncengine.adapters.bus.port import Ack
from syncengine.domain.messages import SourceEvent, format_instant
from syncengine.runtime.registry import Delivery

if TYPE_CHECKING:
    from syncengine.runtime.engine import Engine


def encode(delivery: Delivery) -> bytes:
    """Return the bus body of a delivery."""
    return _dumps(_fields(delivery))


def encode_many(deliveries: Sequence[Delivery]) -> bytes:
    """Return one bus body for several deliveries, in their order, each distinct event written once."""
    index: dict[int, int] = {}  # by identity: a feed read hands each of an event's routes the same SourceEvent
    events: list[dict[str, Any]] = []
    heads = []
    for delivery in deliveries:
        event = delivery.event
        number = index.get(id(event))
        if number is None:
            number = index[id(event)] = len(events)
            events.append(_event_fields(event))
        head: dict[str, Any] = {"system": event.system, "handler": delivery.route.handler_name,
                                "key": delivery.key, "event": number}
        if delivery.exception_id is not None:
            head["exception_id"] = delivery.exception_id
        heads.append(head)
    return _dumps({"events": events, "deliveries": heads})


def _dumps(body: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(body, option=orjson.OPT_UTC_Z)  # an event's UTC time as `format_instant` writes it
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, say
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_instant).encode()


def _instant(value: Any) -> str:
    if isinstance(value, datetime):
        return format_instant(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def decode_many(engine: Engine, body: bytes) -> list[Delivery]:
    """Rebuild the deliveries of a bus body, one or several (raise as `decode` does on a malformed one)."""
    payload = orjson.loads(body)
    if isinstance(payload, dict) and "deliveries" in payload:
        if not isinstance(payload["deliveries"], list) or not payload["deliveries"]:
            raise ValueError("deliveries: expected a non-empty list")
        if "events" not in payload:
            return [_delivery(engine, fields) for fields in payload["deliveries"]]
        events = payload["events"]
        if not isinstance(events, list):
            raise ValueError("events: expected a list")
        read: dict[int, SourceEvent] = {}
        return [_shared(engine, head, events, read) for head in payload["deliveries"]]
    return [_delivery(engine, payload)]


def _shared(engine: Engine, head: Any, events: list[Any], read: dict[int, SourceEvent]) -> Delivery:
    """Rebuild a delivery whose event is `events[head["event"]]`, each event read once (`read`)."""
    number = head["event"]
    if type(number) is not int or not 0 <= number < len(events):
        raise ValueError(f"deliveries: event {number!r} is not an index of the body's {len(events)} events")
    system = str(head["system"])
    event = read.get(number)
    if event is None or event.system != system:
        event = read[number] = SourceEvent.from_cloudevent(system, events[number])
    exception_id = head.get("exception_id")
    return Delivery(event, engine.registry.route(str(head["handler"])), str(head["key"]),
                    exception_id=None if exception_id is None else str(exception_id))


def _event_fields(event: SourceEvent) -> dict[str, Any]:
    # A UTC time and a dict go to orjson as they are (`format_instant` costs ~3 us, a dict copy ~1 us).
    fields: dict[str, Any] = {"id": event.event_id, "type": event.type, "subject": event.subject,
                              "time": event.time if event.time.tzinfo is UTC else format_instant(event.time),
                              "sequence": event.sequence,
                              "data": event.data if type(event.data) is dict else dict(event.data)}
    if event.traceparent is not None:
        fields["traceparent"] = event.traceparent
    return fields


def _fields(delivery: Delivery) -> dict[str, Any]:
    event = delivery.event
    body: dict[str, Any] = {"system": event.system, "handler": delivery.route.handler_name, "key": delivery.key,
                            "event": _event_fields(event)}
    if delivery.exception_id is not None:
        body["exception_id"] = delivery.exception_id
    return body


def decode(engine: Engine, body: bytes) -> Delivery:
    """Rebuild a delivery from its bus body (raise ValueError, KeyError, LookupError, TypeError or a
    MalformedEvent on a malformed one)."""
    return _delivery(engine, orjson.loads(body))


def _delivery(engine: Engine, payload: Any) -> Delivery:
    # from_cloudevent reads an event as this codec writes it inline (its plain reading), others field by field
    event = SourceEvent.from_cloudevent(str(payload["system"]), payload["event"])
    exception_id = payload.get("exception_id")
    return Delivery(event, engine.registry.route(str(payload["handler"])), str(payload["key"]),
                    exception_id=None if exception_id is None else str(exception_id))


KEPT_BYTES = 32 * 1024 * 1024
"""The most body bytes `EncodedBodies` keeps (a backlog of ~300 feed reads of a hundred events)."""


class EncodedBodies:
    """Bodies this process encoded, each with the deliveries it was encoded from, until a consumer of this
    process takes the message back from the bus.

    A worker consumes much of what its own intake publishes (all of it, alone): decoding a body again
    (~16 us an event: JSON, the event's fields, two deliveries) rebuilt what the intake had in hand. A
    body is found by its bytes (a hash and a comparison: ~1 us an event), so what the bus hands back is
    what was kept, byte for byte; any other body (another worker's, or one evicted) is decoded. Bounded
    by `max_bytes`: the oldest bodies go first. Safe for many threads."""

    def __init__(self, max_bytes: int = KEPT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bodies: dict[bytes, list[Delivery]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.taken = 0
        """Bodies handed back instead of decoded."""

    def keep(self, body: bytes, deliveries: Sequence[Delivery]) -> None:
        """Keep a body and the deliveries it holds, in their order."""
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if body in self._bodies:
                return
            self._bodies[body] = list(deliveries)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                oldest = next(iter(self._bodies))
                del self._bodies[oldest]
                self._bytes -= len(oldest)

    def take(self, body: bytes) -> list[Delivery] | None:
        """Return (and forget) the deliveries of a body kept, None for one that is not."""
        with self._lock:
            deliveries = self._bodies.pop(body, None)
            if deliveries is not None:
                self._bytes -= len(body)
                self.taken += 1
        return deliveries


class AckWhenAllDone:
    """The ack of a bus message holding several deliveries: given once each of them is done."""

    def __init__(self, ack: Ack, count: int) -> None:
        self._ack = ack
        self._left = count
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self._left -= 1
            done = self._left == 0
        if done:
            self._ack()
