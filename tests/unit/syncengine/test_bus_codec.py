"""The bus codec: a delivery comes back from its body as it went in; a malformed body is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC

import pytest

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.domain.errors import MalformedEvent
from syncengine.domain.messages import SourceEvent
from syncengine.runtime.bus_codec import decode, decode_many, encode, encode_many
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Delivery
from tests.unit.syncengine.distributed_support import worker_on
from tests.unit.syncengine.test_engine import Steps, raw_event


def _engine_and_deliveries(*events: dict[str, object]) -> tuple[Engine, list[Delivery]]:
    engine = worker_on(Steps(), InProcessBus(partitions=1)).engine
    deliveries: list[Delivery] = []
    engine.outlet = deliveries.append
    for event in events:
        engine.submit("src", event)
    return engine, deliveries


def test_a_delivery_with_text_beyond_ascii_and_nested_data_comes_back_from_its_body() -> None:
    engine, deliveries = _engine_and_deliveries(
        raw_event(1, "a", "A1", notes="Réunion à Zürich — 東京", lines=[{"hours": "1.50", "billable": True}],
                  rate=0.1),
        raw_event(2, "a", "A2", notes=None))
    assert decode(engine, encode(deliveries[0])) == deliveries[0]
    assert decode_many(engine, encode_many(deliveries)) == deliveries
    assert "Zürich".encode() in encode(deliveries[0]), "text is carried as UTF-8, not escaped"


def test_an_event_of_several_deliveries_is_written_once_and_each_delivery_comes_back_with_it() -> None:
    engine, [first, second] = _engine_and_deliveries(raw_event(1, "a", "A1"), raw_event(2, "b", "B1"))
    costed = replace(first, key=f"{first.key}/cost")
    body = encode_many([first, second, costed])
    assert body.count(b'"src-000001"') == 1 and body.count(b'"src-000002"') == 1
    back = decode_many(engine, body)
    assert back == [first, second, costed]
    assert back[0].event is back[2].event, "an event shared in the body is read once"


def test_a_body_of_the_earlier_form_with_each_event_inline_decodes_the_same() -> None:
    engine, deliveries = _engine_and_deliveries(raw_event(1, "a", "A1"), raw_event(2, "a", "A2"))
    earlier = {"deliveries": [json.loads(encode(delivery)) for delivery in deliveries]}
    assert decode_many(engine, json.dumps(earlier).encode()) == deliveries


@pytest.mark.parametrize("index", [1, -1, "0", None, True])
def test_a_delivery_naming_an_event_the_body_does_not_hold_is_refused(index: object) -> None:
    engine, [delivery] = _engine_and_deliveries(raw_event(1, "a", "A1"))
    body = json.loads(encode_many([delivery]))
    body["deliveries"][0]["event"] = index
    with pytest.raises(ValueError, match="event"):
        decode_many(engine, json.dumps(body).encode())


def test_a_body_written_by_the_standard_library_decodes_the_same() -> None:
    engine, [delivery] = _engine_and_deliveries(raw_event(1, "a", "A1", notes="Café"))
    earlier = {"system": "src", "handler": delivery.route.handler_name, "key": delivery.key,
               "event": delivery.event.to_cloudevent()}
    assert decode(engine, json.dumps(earlier).encode()) == delivery


def test_an_event_with_an_integer_beyond_64_bits_still_goes_on_the_bus() -> None:
    engine, [delivery] = _engine_and_deliveries(raw_event(1, "a", "A1", count=2**70))
    [back] = decode_many(engine, encode_many([delivery]))
    assert (back.event.event_id, back.event.time, back.key, back.route) == (
        delivery.event.event_id, delivery.event.time, delivery.key, delivery.route)
    assert back.event.data["count"] == pytest.approx(2**70)


@pytest.mark.parametrize("body", [b"{not json", b'{"deliveries": []}', b'{"system": NaN}', b"\xff\xfe"])
def test_a_malformed_body_is_refused_with_a_value_error(body: bytes) -> None:
    engine, _ = _engine_and_deliveries()
    with pytest.raises(ValueError):
        decode_many(engine, body)


@pytest.mark.parametrize("time_text", ["2026-03-02T10:00:00+01:00", "2026-03-02T09:00:00.250000Z",
                                       "2026-03-02T09:00:00+00:00"])
def test_an_event_time_however_written_comes_back_as_the_same_utc_instant(time_text: str) -> None:
    engine, [delivery] = _engine_and_deliveries(raw_event(1, "a", "A1"))
    body = {"system": "src", "handler": delivery.route.handler_name, "key": delivery.key,
            "event": {**delivery.event.to_cloudevent(), "time": time_text}}
    back = decode(engine, json.dumps(body).encode())
    assert back.event == SourceEvent.from_cloudevent("src", body["event"])
    assert back.event.time.tzinfo is UTC and back.event.time.hour == 9


@pytest.mark.parametrize(("field", "value"), [("sequence", "1"), ("sequence", True), ("time", "yesterday"),
                                              ("data", ["A1"]), ("subject", "")])
def test_an_event_with_a_bad_field_is_refused_naming_it(field: str, value: object) -> None:
    engine, [delivery] = _engine_and_deliveries(raw_event(1, "a", "A1"))
    body = {"system": "src", "handler": delivery.route.handler_name, "key": delivery.key,
            "event": {**delivery.event.to_cloudevent(), field: value}}
    with pytest.raises(MalformedEvent, match=field):
        decode_many(engine, json.dumps({"deliveries": [body]}).encode())
