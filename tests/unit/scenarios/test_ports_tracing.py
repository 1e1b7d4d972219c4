"""The actors' ports start one W3C trace per business transaction, from a seeded stream."""

from __future__ import annotations

import random
import re

from scenarios.engine.ports import WsgiPort, new_traceparent
from simulators.common.app import DEFAULT_TOKEN, context_of
from tests.unit.common.toy import create_app


def test_traceparents_are_valid_distinct_and_repeat_with_the_seed() -> None:
    first = [new_traceparent(random.Random(5)) for _ in range(1)] + [new_traceparent(random.Random(6))]
    stream = random.Random(5)
    drawn = [new_traceparent(stream) for _ in range(3)]

    assert all(re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", value) for value in drawn)
    assert len(set(drawn)) == 3
    assert drawn[0] == first[0] != first[1]


def test_a_port_call_carries_its_traceparent_onto_the_event_it_causes() -> None:
    app = create_app({"API_TOKENS": [DEFAULT_TOKEN]})
    port = WsgiPort("toy", app, DEFAULT_TOKEN)
    traceparent = new_traceparent(random.Random(1))

    created = port.call("POST", "/widgets", body={"name": "w"}, idempotency_key="k-1", traceparent=traceparent)
    untraced = port.call("POST", "/widgets", body={"name": "v"}, idempotency_key="k-2")

    assert created.ok and untraced.ok
    first, second = context_of(app).feed.all()
    assert first["traceparent"] == traceparent
    assert "traceparent" not in second
