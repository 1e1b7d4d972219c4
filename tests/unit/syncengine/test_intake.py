"""Intake end to end: the feed cursor moves only after hand-over; webhooks, duplicated or forged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from simulators.common.clock import ManualClock
from syncengine.adapters.outcomes import TransientHttpError
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.domain import SourceEvent, by_subject
from syncengine.intake.feed import type_filter
from syncengine.ports import Ports
from syncengine.runtime import Engine, Flow
from syncengine.runtime.registry import HandlerRegistry
from tests.unit.common.toy import create_app
from tests.unit.syncengine.conftest import add_fault

TOKEN = "firmsim-dev-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "whsec-toy-0001"


def handle_widget(message: SourceEvent, ports: Ports) -> None:
    """Do nothing: these tests look at intake only."""


@pytest.fixture
def toy(clock: ManualClock) -> Flask:
    return create_app({"CLOCK": clock, "SYSTEM_NAME": "toy"})


@pytest.fixture
def engine(toy: Flask, clock: ManualClock) -> Engine:
    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN, webhook_secret=SECRET),), clock=clock, poll_limit=2,
        flows=(Flow("widgets", {"toy.widget.*": [handle_widget]}, by_subject),)))
    toy.config["WEBHOOK_SENDER"] = engine.webhooks.sender() if engine.webhooks else None
    return engine


def create_widgets(toy: Flask, count: int) -> None:
    for n in range(count):
        assert toy.test_client().post("/widgets", json={"name": f"w{n}"}, headers=AUTH).status_code == 201


def test_the_poller_reads_every_page_and_stores_the_cursor(engine: Engine, toy: Flask) -> None:
    create_widgets(toy, 5)
    result = engine.poll("toy")
    assert (result.events, result.pages, result.cursor) == (5, 3, "5")
    assert engine.ports.ledger.cursor("toy") == "5"
    assert engine.queues.depth() == 5
    assert engine.poll("toy").events == 0


def test_the_cursor_does_not_move_when_hand_over_fails(engine: Engine, toy: Flask,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    create_widgets(toy, 3)
    handed: list[str] = []

    def submit(system: str, raw: Any, *, replay: bool = False) -> int:
        if raw["sequence"] == 3:
            raise RuntimeError("bus unavailable")
        handed.append(raw["id"])
        return 1

    def submit_page(system: str, raws: list[Any], *, replay: bool = False) -> int:
        return sum(submit(system, raw, replay=replay) for raw in raws)

    sink = type("Sink", (), {"submit": staticmethod(submit), "submit_page": staticmethod(submit_page)})()
    monkeypatch.setattr(engine.pollers["toy"], "sink", sink)
    with pytest.raises(RuntimeError):
        engine.poll("toy")
    assert handed == ["toy-000001", "toy-000002"]
    assert engine.ports.ledger.cursor("toy") == "2"


def test_an_unreachable_feed_leaves_the_cursor_alone(engine: Engine, toy: Flask) -> None:
    create_widgets(toy, 1)
    add_fault(toy, "outage", operations=["listEvents"])
    with pytest.raises(TransientHttpError):
        engine.poll("toy")
    assert engine.ports.ledger.cursor("toy") is None


def test_duplicated_webhooks_and_the_feed_make_one_delivery(engine: Engine, toy: Flask, clock: ManualClock) -> None:
    admin = toy.test_client()
    admin.post("/admin/subscriptions", json={"url": "http://engine/webhooks/toy", "secret": SECRET})
    add_fault(toy, "webhook_duplicate", copies=2)
    create_widgets(toy, 1)
    clock.advance(1)
    assert admin.post("/admin/webhooks/deliver").get_json()["delivered"] == 3
    engine.poll("toy")
    snapshot = engine.snapshot()
    assert engine.queues.depth() == 1
    assert (snapshot.events_received, snapshot.duplicate_events) == (4, 3)


def test_forged_webhooks_are_refused_and_counted(engine: Engine, toy: Flask) -> None:
    admin = toy.test_client()
    admin.post("/admin/subscriptions", json={"url": "http://engine/webhooks/toy", "secret": "not-the-secret"})
    create_widgets(toy, 1)
    admin.post("/admin/webhooks/deliver")
    assert engine.queues.depth() == 0
    assert engine.snapshot().rejected_signatures == 1


def test_a_page_records_its_event_ids_at_once_and_drops_what_was_taken_in_before(engine: Engine, toy: Flask) -> None:
    create_widgets(toy, 3)
    feed = toy.test_client().get("/events", query_string={"limit": 10}, headers=AUTH).get_json()["items"]
    engine.submit("toy", feed[0])  # taken in before, by a webhook
    unrouted = {**feed[1], "id": "toy-other-1", "type": "toy.gadget.created"}
    malformed = {"id": "toy-bad-1", "type": "toy.widget.created"}
    malformed_unhandled = {"id": "toy-bad-2", "type": "toy.gadget.created"}
    single_writes: list[str] = []
    record_received = engine.ports.ledger.record_received

    def counted(system: str, event_id: str, now: datetime) -> bool:
        single_writes.append(event_id)
        return record_received(system, event_id, now)

    engine.ports.ledger.record_received = counted  # type: ignore[method-assign]

    queued = engine.submit_page("toy", [*feed, feed[2], unrouted, malformed, malformed_unhandled])

    assert queued == 2, "the second and third widget, once each"
    assert single_writes == ["toy-bad-2"], "only an event of no handled type that is malformed is recorded alone"
    snapshot = engine.snapshot()
    assert (snapshot.duplicate_events, snapshot.malformed_events, snapshot.ignored_events) == (2, 2, 1)
    assert not engine.ports.ledger.record_received("toy", "toy-bad-1", engine.ports.clock.now())
    assert engine.ports.ledger.record_received("toy", "toy-other-1", engine.ports.clock.now()), \
        "an event no flow handles is not recorded"


def test_the_poller_asks_only_for_the_types_the_flows_handle_and_passes_the_rest(toy: Flask,
                                                                                clock: ManualClock) -> None:
    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN),), clock=clock, poll_limit=2,
        flows=(Flow("polished", {"toy.widget.polished": [handle_widget]}, by_subject),
               Flow("gadgets", {"toy.gadget.*": [handle_widget]}, by_subject))))
    create_widgets(toy, 3)
    widget_id = toy.test_client().get("/widgets", headers=AUTH).get_json()["items"][0]["id"]
    assert toy.test_client().post(f"/widgets/{widget_id}/polish", headers=AUTH).status_code == 200
    create_widgets(toy, 2)

    result = engine.poll("toy")

    assert (result.events, result.pages, result.cursor) == (1, 1, "6")
    snapshot = engine.snapshot()
    assert (snapshot.events_received, snapshot.ignored_events, engine.queues.depth()) == (1, 0, 1)
    assert engine.ports.ledger.cursor("toy") == "6"
    assert engine.poll("toy").events == 0


def test_flows_of_more_types_than_a_feed_takes_read_every_event(toy: Flask, clock: ManualClock) -> None:
    many = {f"toy.kind_{number}.made": [handle_widget] for number in range(51)}
    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("toy", app=toy, token=TOKEN),), clock=clock, poll_limit=2,
        flows=(Flow("many", many, by_subject),)))
    create_widgets(toy, 2)

    assert engine.poll("toy").events == 2
    assert engine.snapshot().ignored_events == 2


def test_the_registry_asks_for_the_fewest_prefixes_that_cover_every_handled_type() -> None:
    registry = HandlerRegistry([Flow("one", {"psa.time_entry.approved": [handle_widget],
                                             "psa.time_entry.*": [handle_widget],
                                             "erp.invoice.posted": [handle_widget]}, by_subject)])
    assert registry.type_prefixes() == ("erp.invoice.posted", "psa.time_entry.")

    registry.add(Flow("two", {"psa.time_entry_note.added": [handle_widget], "erp.*": [handle_widget]}, by_subject))

    assert registry.type_prefixes() == ("erp.", "psa.time_entry.", "psa.time_entry_note.added")


def test_a_flow_of_every_type_or_a_type_the_feed_would_refuse_reads_every_event() -> None:
    assert type_filter(HandlerRegistry([Flow("all", {"*": [handle_widget]}, by_subject)]).type_prefixes()) is None
    assert type_filter(["psa.time_entry.", "PSA.Odd-Type"]) is None
    assert type_filter([]) is None
    assert type_filter(["psa.time_entry.", "erp."]) == ["psa.time_entry.", "erp."]
