"""A delivery as a bus message body: compact JSON, its event without the CloudEvents constants.

The body carries the system, the handler's tracking name, the ordering key and the event's own
fields (id, type, subject, time, sequence, data, traceparent); `specversion`, `source` and
`datacontenttype` are the same for every event and left out. An operator's re-drive also names the
exception it resolves. Bodies of the earlier form (the whole CloudEvent) decode the same.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from syncengine.domain.messages import SourceEvent, format_instant
from syncengine.runtime.registry import Delivery

if TYPE_CHECKING:
    from syncengine.runtime.engine import Engine


def encode(delivery: Delivery) -> bytes:
    """Return the bus body of a delivery."""
    event = delivery.event
    fields: dict[str, Any] = {"id": event.event_id, "type": event.type, "subject": event.subject,
                              "time": format_instant(event.time), "sequence": event.sequence, "data": dict(event.data)}
    if event.traceparent is not None:
        fields["traceparent"] = event.traceparent
    body: dict[str, Any] = {"system": event.system, "handler": delivery.route.handler_name, "key": delivery.key,
                            "event": fields}
    if delivery.exception_id is not None:
        body["exception_id"] = delivery.exception_id
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def decode(engine: Engine, body: bytes) -> Delivery:
    """Rebuild a delivery from its bus body (raise ValueError, KeyError, LookupError, TypeError or a
    MalformedEvent on a malformed one)."""
    payload = json.loads(body)
    event = SourceEvent.from_cloudevent(str(payload["system"]), payload["event"])
    exception_id = payload.get("exception_id")
    return Delivery(event, engine.registry.route(str(payload["handler"])), str(payload["key"]),
                    exception_id=None if exception_id is None else str(exception_id))
