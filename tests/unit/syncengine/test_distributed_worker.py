"""The distributed worker on the in-process bus: per-key order, retries held per key, acks after commit."""

from __future__ import annotations

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.domain import TransientFailure
from syncengine.retry import Action, Backoff, RetryPolicy
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
