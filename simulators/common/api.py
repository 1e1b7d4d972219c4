"""What a resource handler sees (`Request`) and returns (`Reply`), and the registry of handlers.

A handler is a module-level function registered against an operationId of the spec:

    operations = Operations()

    @operations("approveTimeEntry")
    def approve_time_entry(request: Request) -> Reply:
        entry = request.store.get("time_entries", request.path["time_entry_id"])
        request.check_if_match(entry)
        ...
        request.emit("psa.time_entry.approved", entry)
        return ok(entry)

The pipeline (simulators.common.app) has already applied faults, auth, rate limits, spec validation
and idempotency; the handler runs in one store transaction, and its events reach the feed only if
it succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from simulators.common.errors import ApiProblem
from simulators.common.pagination import paginate
from simulators.common.store import Record, Store

if TYPE_CHECKING:
    from simulators.common.app import SystemContext


@dataclass(slots=True)
class Reply:
    """A handler's answer: status, JSON body, extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def etag(record: Record) -> str:
    """Return the ETag of a record (its version, quoted)."""
    return f'"{record["version"]}"'


def ok(record: Any, status: int = 200) -> Reply:
    """Reply with a record (and its ETag when it has a version)."""
    headers = {}
    if isinstance(record, dict) and "version" in record and "id" in record:
        headers["ETag"] = etag(record)
    return Reply(status, record, headers)


def created(record: Record, location: str) -> Reply:
    """Reply 201 with a new record, its Location and ETag."""
    reply = ok(record, 201)
    reply.headers["Location"] = location
    return reply


@dataclass(slots=True)
class Request:
    """One validated business request, as a handler sees it."""

    context: SystemContext
    operation_id: str
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]
    now: datetime
    traceparent: str | None = None
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def store(self) -> Store:
        """Return the system's record store."""
        return self.context.store

    @property
    def today(self) -> date:
        """Return the current business date (UTC)."""
        return self.now.date()

    @property
    def config(self) -> dict[str, Any]:
        """Return the app's configuration."""
        return self.context.config

    def emit(self, event_type: str, record: Record, subject: str | None = None) -> None:
        """Queue an event to append to the feed when the request commits."""
        self.events.append((event_type, subject or record["id"], record))

    def check_if_match(self, record: Record) -> None:
        """Refuse with 412 when the caller's If-Match names an older version."""
        expected = self.headers.get("If-Match")
        if expected is not None and expected != "*" and expected.strip() != etag(record):
            raise ApiProblem(412, "precondition-failed", "Precondition failed",
                             f"If-Match {expected} is stale; the current ETag is {etag(record)}",
                             field="If-Match", current_etag=etag(record))

    def page(self, records: list[Record]) -> Reply:
        """Reply with one cursor page of records."""
        return Reply(200, paginate(records, self.query.get("cursor"), int(self.query.get("limit", 50))))


Handler = Callable[[Request], Reply]


class Operations:
    """The handlers of one resource module, by operationId."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def __call__(self, operation_id: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of `operation_id`."""

        def register(handler: Handler) -> Handler:
            if operation_id in self.handlers:
                raise ValueError(f"two handlers for {operation_id}")
            self.handlers[operation_id] = handler
            return handler

        return register
