"""A story of the firm told through the mocks' public APIs, with the engine running behind it.

At chosen moments the story captures one event the engine consumes: it runs the engine's real
handlers for that event with a recording client (`tests.contract.recorder`), turns what they sent and
read into Pact interactions (HTTP per provider, and the event itself as a message), then runs the
same handlers again, unpatched, on the message as the pact reifies it and against Pact's mock
servers, and checks they end the same way and leave the same ledger. The pact files are written to
the session's pact directory (`conftest.py` compares them with contracts/pacts/).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pact import Pact
from pact.error import MismatchesError
from werkzeug.test import Client

from harness.runner.flows import builtin_flows
from harness.runner.world import ENGINE_TOKEN, build_world
from syncengine.adapters.http import SystemClient
from syncengine.domain.messages import SourceEvent
from syncengine.flows import contract_lookup
from syncengine.ledger.records import Tracking
from syncengine.ports import Ports
from syncengine.runtime.registry import Route
from tests.contract.pact_builder import CONSUMER, add_http_interaction, add_message_interaction, operation_of
from tests.contract.recorder import Exchange, Recorder, Seed, copy_ledger, export, ledger_state, seed_of
from tests.contract.tracking import tracked, used_part

UNREACHABLE = "http://127.0.0.1:9"
SETTLE_S = 6 * 3600.0


@dataclass(frozen=True)
class FixedClock:
    """The instant the engine handled the captured event, for both runs."""

    instant: datetime

    def now(self) -> datetime:
        """Return the fixed instant."""
        return self.instant


@dataclass
class Trigger:
    """The user's request that made a system emit the captured event, and the system's state before it."""

    seed: Seed
    request: dict[str, Any]
    feed_before: int


@dataclass
class Capture:
    """One captured event: how the engine's handlers ended, and the calls they made."""

    event: dict[str, Any]
    outcomes: list[str]
    exchanges: list[Exchange] = field(default_factory=list)

    def operations(self) -> list[str]:
        """Return `<system> <operationId> <status>` of every call, in order."""
        return [f"{e.system} {operation_of(e.system, e.method, e.path)[0]} {e.status}" for e in self.exchanges]


def article(word: str) -> str:
    """Return the indefinite article of a word."""
    return "an" if word[:1] in "aeiou" else "a"


def describe(error: Exception | None) -> str:
    """Return how a handler ended: `processed`, or the failure's class, reason and retry-after."""
    if error is None:
        return "processed"
    text = f"{type(error).__name__}({getattr(error, 'reason', error)})"
    retry_after = getattr(error, "retry_after_s", None)
    return f"{text} retry after {retry_after:g} s" if retry_after is not None else text


def run_routes(routes: list[Route], event: SourceEvent, ports: Ports) -> list[str]:
    """Run each route's handler as the engine's dispatcher does: in a unit of work with its tracking record."""
    outcomes = []
    ledger = ports.ledger
    for route in routes:
        route.ordering_key(event)
        error: Exception | None = None
        try:
            with ledger.unit_of_work():
                route.handler(event, ports)
                ledger.record_processed(Tracking(event.system, event.source_id, event.source_version,
                                                 route.handler_name, ports.now()))
        except Exception as failure:  # noqa: BLE001 - the outcome is compared, whatever it is
            error = failure
        outcomes.append(f"{route.handler_name}: {describe(error)}")
    return outcomes


class Story:
    """The four systems and the engine on a virtual clock, told through public APIs."""

    def __init__(self, pact_dir: Path, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.pact_dir = pact_dir
        self.world = build_world(start, flows=builtin_flows())
        self.baselines = {kind: export(app) for kind, app in self.world.apps.items()}
        self.triggers: dict[str, Trigger] = {}
        self.faults: dict[str, list[dict[str, Any]]] = {}
        self._actions = 0

    # -- telling the story -----------------------------------------------------------------------

    def act(self, system: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Do what a user does in a system; the request must succeed."""
        app = self.world.apps[system]
        seed = seed_of(app, self.baselines[system]) if method != "GET" else {}
        feed_before = len(self.world.context(system).feed)
        self._actions += 1
        key = f"story-{self._actions}" if method == "POST" else None
        result = self.world.ports[system].call(method, path, body=body, params=params or None, idempotency_key=key)
        assert result.ok, f"{system} {method} {path} -> {result.status} {result.body}"
        request = {"method": method, "path": path, **({"body": body} if body is not None else {}),
                   **({"query": params} if params else {})}
        if method != "GET":
            self.triggers[system] = Trigger(seed, request, feed_before)
        return result.body

    def settle(self) -> None:
        """Let the engine handle everything in flight."""
        assert self.world.drain(SETTLE_S), "the engine did not settle"

    def wait(self, seconds: float) -> None:
        """Let virtual time pass (the engine polls meanwhile)."""
        self.world.run_until(self.world.env.now + seconds)

    def fault(self, system: str, definition: dict[str, Any]) -> None:
        """Schedule a fault in a system (through its admin API) for the next capture."""
        response = Client(self.world.apps[system]).post("/admin/faults", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
        self.faults.setdefault(system, []).append(definition)

    def _clear_faults(self) -> None:
        for system in self.faults:
            Client(self.world.apps[system]).delete("/admin/faults")
        self.faults = {}

    # -- capturing -------------------------------------------------------------------------------

    def _event(self, system: str, event_type: str) -> dict[str, Any]:
        trigger = self.triggers[system]
        emitted = [event for event in self.world.context(system).feed.all()[trigger.feed_before:]
                   if event["type"] == event_type]
        assert emitted, f"the last {system} action {trigger.request} emitted no {event_type}"
        return json.loads(json.dumps(emitted[-1]))

    def capture(self, system: str, event_type: str, *, label: str, before: str, after: str) -> Capture:
        """Capture the last `event_type` event: record the handlers, write the pacts, replay them against Pact."""
        event = self._event(system, event_type)
        engine = self.world.engine
        assert engine is not None
        routes = engine.registry.routes(event_type)
        assert routes, f"no flow consumes {event_type}"
        clock = FixedClock(self.world.clock.now())
        ledger_before = copy_ledger(engine.ports.ledger)
        # The replay's copied ledger has no lookups kept in memory: record the handlers as cold too.
        contract_lookup.forget(engine.ports.ledger)
        recorder = Recorder(self.world.apps, self.baselines, self.faults)
        clients = {kind: SystemClient(kind, f"http://{kind}", clock, token=ENGINE_TOKEN,
                                      transport=recorder.transport(kind)) for kind in self.world.apps}
        data = tracked(event["data"])
        message = SourceEvent.from_cloudevent(system, {**event, "data": data})
        with recorder.reading():
            outcomes = run_routes(routes, message, Ports(ledger=engine.ports.ledger, clients=clients, clock=clock))
        for client in clients.values():
            client.close()
        self._clear_faults()
        capture = Capture(event, outcomes, recorder.exchanges)
        trigger = self.triggers[system]
        self._verify_against_pact(capture, system, used_part(data), label, before, after, trigger, ledger_before,
                                  routes, clock)
        return capture

    def _verify_against_pact(self, capture: Capture, system: str, data_used: dict[str, Any], label: str, before: str,
                             after: str, trigger: Trigger, ledger_before: Any, routes: list[Route],
                             clock: FixedClock) -> None:
        event_type = capture.event["type"]
        http_pacts: dict[str, Pact] = {}
        for exchange, (description, state) in zip(capture.exchanges,
                                                  _names(capture.exchanges, event_type, label, after), strict=True):
            pact = http_pacts.setdefault(exchange.system, Pact(CONSUMER, exchange.system).with_specification("V4"))
            add_http_interaction(pact, exchange, description, state)
        messages = Pact(CONSUMER, system).with_specification("V4")
        add_message_interaction(messages, capture.event, data_used, f"{article(event_type)} {event_type} event {label}",
                                before, trigger.seed, trigger.request)
        expected_ledger = ledger_state(copy_ledger(self.world.engine.ports.ledger))  # type: ignore[union-attr]
        replayed: list[list[str]] = []
        failures: list[str] = []
        servers = {kind: pact.serve() for kind, pact in http_pacts.items()}
        urls = {kind: str(server.__enter__().url) for kind, server in servers.items()}

        def handle(body: Any, metadata: dict[str, object]) -> None:
            event = SourceEvent.from_cloudevent(system, json.loads(str(body)))
            # Plain-HTTP transports: each default one loads the CA store, a tenth of a second apiece.
            clients = {kind: SystemClient(kind, urls.get(kind, UNREACHABLE), clock, token="pact", timeout_s=5.0,
                                          transport=httpx.HTTPTransport(verify=False))
                       for kind in self.world.apps}
            ledger = copy_ledger(ledger_before)
            try:
                replayed.append(run_routes(routes, event, Ports(ledger=ledger, clients=clients, clock=clock)))
            finally:
                for client in clients.values():
                    client.close()
            if replayed[-1] != capture.outcomes:
                failures.append(f"against Pact the handlers ended {replayed[-1]}, not {capture.outcomes}")
            elif ledger_state(ledger) != expected_ledger:
                failures.append("against Pact the handlers left another ledger than against the mocks")

        try:
            errors = messages.verify(handle, "Async", raises=False) or []
            failures += [f"{error.description}: {error.error}" for error in errors]
        finally:
            for kind, server in servers.items():
                try:
                    server.__exit__(None, None, None)
                except MismatchesError as mismatches:
                    failures.append(f"{kind}: {mismatches}")
        assert not failures, "\n".join(failures)
        assert replayed == [capture.outcomes]
        for pact in [*http_pacts.values(), messages]:
            pact.write_file(self.pact_dir)


def _names(exchanges: list[Exchange], event_type: str, label: str, after: str) -> Iterator[tuple[str, str]]:
    """Yield each exchange's interaction description and provider state sentence."""
    done: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for exchange in exchanges:
        operation_id, _ = operation_of(exchange.system, exchange.method, exchange.path)
        description = f"{operation_id} on {event_type} {label}"
        counts[description] = counts.get(description, 0) + 1
        if counts[description] > 1:
            description += f" (call {counts[description]})"
        earlier = done.setdefault(exchange.system, [])
        state = after if not earlier else f"{after}, after the engine's {', '.join(dict.fromkeys(earlier))}"
        earlier.append(operation_id)
        yield description, state
