"""The handler registry: each flow's table of event type -> handlers, and its ordering key.

A flow module declares its table the cosmicpython way and is registered once at bootstrap:

    HANDLERS = {"psa.time_entry.approved": [handle_time_entry_approved]}
    FLOW = Flow("time_billing", HANDLERS, ordering_key=by_field("project_id", prefix="project"))

An event type ending in `*` matches every type with that prefix (`psa.time_entry.*`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncengine.domain.messages import SourceEvent
from syncengine.domain.ordering import KeyFunction
from syncengine.domain.records import quick_init
from syncengine.ports import Ports

ROUTES_KEPT = 4096
"""The most event types whose routes are kept (a feed's types are a few dozen; a broken one may send any)."""
Handler = Callable[[SourceEvent, Ports], None]
BatchHandler = Callable[[Sequence[SourceEvent], Ports], None]
"""A handler's batch form: a key's messages, in order, handled as the handler would one by one."""


class BatchFailure(Exception):
    """Raised by a batch form that knows which message failed: handling the one at `index` of its messages
    raised `error` (the ones before it went through, in the unit of work that now rolls back). The
    dispatcher then sorts it as that message's failure, as if the batch had been handled one by one,
    instead of running the batch again one message at a time to find it."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"message {index} of the batch: {error}")
        self.index, self.error = index, error


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow: its name, its handlers by event type, and how its messages are ordered."""

    name: str
    handlers: Mapping[str, Sequence[Handler]]
    ordering_key: KeyFunction
    batch_handlers: Mapping[Handler, BatchHandler] = field(default_factory=dict)
    """The batch form of some handlers: the dispatcher hands it a run of a key's messages at once."""


@dataclass(frozen=True, slots=True)
class Route:
    """One handler of one flow that an event type reaches; `handler_name` is its tracking name."""

    flow: str
    handler_name: str
    handler: Handler = field(compare=False)
    ordering_key: KeyFunction = field(compare=False)
    batch_handler: BatchHandler | None = field(default=None, compare=False)


@quick_init
@dataclass(frozen=True, slots=True)
class Delivery:
    """One event on its way to one handler, under its ordering key."""

    event: SourceEvent
    route: Route
    key: str
    attempt: int = 1
    exception_id: str | None = None

    @property
    def id(self) -> str:
        """Return what names this delivery in the exception queue and dead letters."""
        return f"{self.event.message_id}/{self.route.handler_name}"

    def payload(self) -> dict[str, Any]:
        """Return what the ledger keeps to re-drive this delivery."""
        return {"system": self.event.system, "event": self.event.to_cloudevent(),
                "handler": self.route.handler_name, "key": self.key}


class HandlerRegistry:
    """Every registered flow's routes, by event type."""

    def __init__(self, flows: Sequence[Flow] = ()) -> None:
        self._exact: dict[str, list[Route]] = {}
        self._prefixes: list[tuple[str, Route]] = []
        self._by_name: dict[str, Route] = {}
        self._flows: dict[str, Flow] = {}
        self._routes: dict[str, tuple[Route, ...]] = {}
        """`routes` by event type, as found (every event of a feed asks, twice)."""
        self._type_prefixes: tuple[str, ...] | None = None
        for flow in flows:
            self.add(flow)

    def add(self, flow: Flow) -> None:
        """Register a flow; raise ValueError on a duplicate flow or handler name."""
        if flow.name in self._flows:
            raise ValueError(f"flow {flow.name!r} is registered twice")
        routes: list[tuple[str, Route]] = []
        for event_type, handlers in flow.handlers.items():
            for handler in handlers:
                name = f"{flow.name}.{handler.__name__}"
                existing = self._by_name.get(name)
                if existing is not None and existing.handler is not handler:
                    raise ValueError(f"two handlers are named {name}")
                route = existing or Route(flow.name, name, handler, flow.ordering_key,
                                          flow.batch_handlers.get(handler))
                self._by_name[name] = route
                routes.append((event_type, route))
        self._flows[flow.name] = flow
        self._routes.clear()
        self._type_prefixes = None
        for event_type, route in routes:
            if event_type.endswith("*"):
                self._prefixes.append((event_type[:-1], route))
            else:
                self._exact.setdefault(event_type, []).append(route)

    @property
    def flows(self) -> list[str]:
        """Return the registered flow names in registration order."""
        return list(self._flows)

    def type_prefixes(self) -> tuple[str, ...]:
        """Return the shortest set of type prefixes that covers every event type a route is registered for
        (an exact type is its own prefix), sorted: what a feed reader needs to ask for, and no more."""
        if self._type_prefixes is None:
            covering: list[str] = []
            for prefix in sorted({*self._exact, *(prefix for prefix, _ in self._prefixes)}):
                if not covering or not prefix.startswith(covering[-1]):  # sorted: a prefix precedes what it covers
                    covering.append(prefix)
            self._type_prefixes = tuple(covering)
        return self._type_prefixes

    def routes(self, event_type: str) -> Sequence[Route]:
        """Return the routes an event type reaches: exact ones first, then prefix ones."""
        found = self._routes.get(event_type)
        if found is None:
            routes = list(self._exact.get(event_type, []))
            routes += [route for prefix, route in self._prefixes
                       if event_type.startswith(prefix) and route not in routes]
            found = tuple(routes)
            if len(self._routes) < ROUTES_KEPT:
                self._routes[event_type] = found
        return found

    def route(self, handler_name: str) -> Route:
        """Return a route by its handler name (to re-drive a queued exception)."""
        try:
            return self._by_name[handler_name]
        except KeyError:
            raise LookupError(f"no handler named {handler_name!r} is registered") from None
