"""The distributed worker on the in-process bus: per-key order, retries held per key, acks after commit."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.adapters.bus.port import partition_of
from syncengine.adapters.clock import SystemClock
from syncengine.bootstrap import EngineConfig, bootstrap
from syncengine.domain import TransientFailure
from syncengine.domain.messages import SourceEvent
from syncengine.ports import Ports
from syncengine.retry import Action, Backoff, RetryPolicy
from syncengine.runtime import worker as worker_module
from syncengine.runtime.bus_codec import AckWhenAllDone, EncodedBodies, decode_many, encode_many
from syncengine.runtime.coordination import SoloCoordinator
from syncengine.runtime.registry import Delivery, Flow, Handler
from syncengine.runtime.worker import DistributedWorker
from tests.unit.syncengine.distributed_support import settle, worker_on
from tests.unit.syncengine.test_engine import Steps, down, raw_event

POLICY = RetryPolicy(max_attempts=3, backoff=Backoff(base_s=1.0, multiplier=2.0, cap_s=4.0),
                     on_exhausted=Action.DEAD_LETTER)


def test_each_key_keeps_its_order_and_a_retrying_key_holds_only_itself() -> None:
    steps, bus = Steps(), InProcessBus(partitions=4)
    worker = worker_on(steps, bus, POLICY)
    attempts = {"A1": 0}

    def down_twice() -> Exception:
        attempts["A1"] += 1
        if attempts["A1"] == 2:
            steps.failing.pop("A1")
        return down()

    steps.failing["A1"] = down_twice
    worker.start()
    try:
        plan = [("a", "A1"), ("b", "B1"), ("a", "A2"), ("b", "B2"), ("c", "C1"), ("a", "A3"), ("b", "B3")]
        for sequence, (group, subject) in enumerate(plan, start=1):
            worker.engine.submit("src", raw_event(sequence, group, subject))
        settle(worker, bus)
    finally:
        worker.stop()
    handled = [subject for _, subject in steps.handled]
    assert sorted(handled) == sorted(subject for _, subject in plan)
    for group in "abc":
        mine = [subject for subject in handled if subject[0].lower() == group]
        assert mine == sorted(mine), f"group {group} out of order: {mine}"
    assert handled.index("B3") < handled.index("A1"), "group b waited for group a's retries"
    assert worker.engine.snapshot().retries == 2


def test_a_message_that_keeps_failing_is_dead_lettered_and_acked_so_its_partition_moves_on() -> None:
    steps, bus = Steps(), InProcessBus(partitions=1)
    worker = worker_on(steps, bus, POLICY)
    steps.failing["A1"] = lambda: TransientFailure("service-unavailable", "down for good")
    worker.start()
    try:
        worker.engine.submit("src", raw_event(1, "a", "A1"))
        worker.engine.submit("src", raw_event(2, "a", "A2"))
        settle(worker, bus)
    finally:
        worker.stop()
    assert [subject for _, subject in steps.handled] == ["A2"]
    [letter] = worker.engine.ports.ledger.dead_letters()
    assert "A1" in letter.message_id or "src-000001" in letter.message_id, letter


def test_a_bus_message_of_several_deliveries_runs_them_in_order_and_is_acked_once_all_are_done() -> None:
    steps, bus = Steps(), InProcessBus(partitions=1)
    worker = worker_on(steps, bus, POLICY)
    deliveries: list[Delivery] = []
    worker.engine.outlet = deliveries.append
    for sequence, (group, subject) in enumerate([("a", "A1"), ("b", "B1"), ("a", "A2"), ("b", "B2"), ("a", "A3")],
                                                start=1):
        worker.engine.submit("src", raw_event(sequence, group, subject))
    assert decode_many(worker.engine, encode_many(deliveries)) == deliveries
    bus.put(0, encode_many(deliveries))  # two keys of one partition in one message
    steps.failing["A2"] = _once(steps, "A2")
    worker.start()
    try:
        settle(worker, bus)
    finally:
        worker.stop()
    handled = list(dict.fromkeys(subject for _, subject in steps.handled))
    assert [subject for subject in handled if subject.startswith("A")] == ["A1", "A2", "A3"]
    assert [subject for subject in handled if subject.startswith("B")] == ["B1", "B2"]
    assert [worker.engine.ports.ledger.applied_version(f"step:{subject}") for subject in handled] == [1] * 5
    assert worker.engine.snapshot().flows["steps"].processed == 5
    assert bus.depth() == 0


def test_a_feed_read_publishes_one_message_per_partition_carrying_an_event_of_two_flows_once() -> None:
    steps, costs, bus = Steps(), Steps(), InProcessBus(partitions=2)
    cost_flow = Flow("costs", {"src.step.done": [_costed(costs)]},
                     lambda event: f"group:{event.data['group']}/cost")
    engine = bootstrap(EngineConfig(clock=SystemClock(), flows=(steps.flow(), cost_flow),
                                    park_on_exception=False, virtual_latency=False))
    worker = DistributedWorker(engine, bus, SoloCoordinator(), workers=3, backoff_scale=0.02)
    events = [raw_event(sequence, group, f"{group.upper()}{sequence}")
              for sequence, group in enumerate("ababcc", start=1)]

    def poll(system: str) -> SimpleNamespace:
        engine.submit_page(system, events)
        return SimpleNamespace(events=len(events))

    engine.poll = poll  # type: ignore[method-assign]
    bodies: list[bytes] = []
    publish_batch = bus.publisher().publish_batch
    bus.publisher = lambda: SimpleNamespace(  # type: ignore[method-assign]
        publish_batch=lambda messages: (bodies.extend(body for _, body, _ in messages), publish_batch(messages)))
    worker.intake.read_feed("src")
    partitions = {partition_of(f"group:{group}", 2) for group in "abc"}
    assert len(bodies) == worker.intake.messages == len(partitions)
    assert worker.intake.published == 12
    assert all(b"".join(bodies).count(f'"{event["id"]}"'.encode()) == 1 for event in events)
    worker.start()
    try:
        settle(worker, bus)
    finally:
        worker.stop()
    assert sorted(subject for _, subject in steps.handled) == sorted(event["subject"] for event in events)
    assert sorted(subject for _, subject in costs.handled) == sorted(event["subject"] for event in events)


def test_a_feed_read_for_partitions_the_worker_consumes_comes_back_to_it_without_being_decoded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    steps, bus = Steps(), InProcessBus(partitions=2)
    worker = worker_on(steps, bus)
    events = [raw_event(sequence, group, f"{group.upper()}{sequence}") for sequence, group in enumerate("abacbc", 1)]

    def poll(system: str) -> SimpleNamespace:
        worker.engine.submit_page(system, events)
        return SimpleNamespace(events=len(events))

    worker.engine.poll = poll  # type: ignore[method-assign]
    decoded: list[bytes] = []
    monkeypatch.setattr(worker_module, "decode_many", lambda engine, body: decoded.append(body) or decode_many(
        engine, body))
    worker.start()
    try:
        settle(worker, bus)  # owns both partitions
        worker.intake.read_feed("src")
        settle(worker, bus)
    finally:
        worker.stop()
    assert sorted(subject for _, subject in steps.handled) == sorted(event["subject"] for event in events)
    for group in "abc":
        mine = [subject for _, subject in steps.handled if subject[0].lower() == group]
        assert mine == sorted(mine, key=lambda subject: int(subject[1:]))
    assert (worker.kept.taken, decoded) == (worker.intake.messages, [])


def test_a_body_is_handed_back_once_as_kept_and_only_for_the_same_bytes() -> None:
    steps, bus = Steps(), InProcessBus(partitions=1)
    worker = worker_on(steps, bus)
    deliveries: list[Delivery] = []
    worker.engine.outlet = deliveries.append
    for sequence, subject in enumerate(["A1", "A2", "A3"], start=1):
        worker.engine.submit("src", raw_event(sequence, "a", subject))
    first, second = encode_many(deliveries[:2]), encode_many(deliveries[2:])
    kept = EncodedBodies(max_bytes=len(first) + len(second))
    kept.keep(first, deliveries[:2])
    kept.keep(second, deliveries[2:])
    assert kept.take(bytes(bytearray(first))) == deliveries[:2]  # equal bytes, another object
    assert kept.take(first) is None  # taken once
    assert kept.take(second.replace(b"A3", b"A9")) is None
    assert kept.take(second) == deliveries[2:]
    small = EncodedBodies(max_bytes=max(len(first), len(second)))
    small.keep(first, deliveries[:2])
    small.keep(second, deliveries[2:])  # over the bound: the oldest goes
    assert (small.take(first), small.take(second), small.taken) == (None, deliveries[2:], 1)


def _costed(costs: Steps) -> Handler:
    def handle_cost(message: SourceEvent, ports: Ports) -> None:
        costs.handled.append((ports.now(), message.subject))

    return handle_cost


def test_the_ack_of_a_message_of_several_deliveries_is_given_once_the_last_is_done() -> None:
    acks: list[str] = []
    ack = AckWhenAllDone(lambda: acks.append("acked"), 3)
    ack()
    ack()
    assert acks == []
    ack()
    assert acks == ["acked"]


def _once(steps: Steps, subject: str) -> Callable[[], Exception]:
    def fail_once() -> Exception:
        steps.failing.pop(subject)
        return down()

    return fail_once


def test_the_gauges_count_the_bus_messages_published_and_consumed() -> None:
    steps, bus = Steps(), InProcessBus(partitions=2)
    worker = worker_on(steps, bus)
    worker.start()
    try:
        for sequence, (group, subject) in enumerate([("a", "A1"), ("b", "B1"), ("a", "A2")], start=1):
            worker.engine.submit("src", raw_event(sequence, group, subject))  # outside a feed read: one message each
        settle(worker, bus)
        gauges = worker.gauges()
    finally:
        worker.stop()
    assert (gauges["worker_bus_messages_published"], gauges["worker_bus_messages_consumed"]) == (3, 3)
    assert gauges["worker_ledger_statements"] == 0  # a memory ledger sends no statements
