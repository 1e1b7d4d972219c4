"""The distributed worker parks a key behind its business exception, as the embedded engine does."""

from __future__ import annotations

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.domain.errors import BusinessException
from syncengine.ledger.records import ExceptionStatus
from syncengine.runtime.coordination import SoloCoordinator
from syncengine.runtime.parking import KEY_PARKED
from syncengine.runtime.worker import DistributedWorker
from tests.unit.syncengine.distributed_support import settle, worker_on
from tests.unit.syncengine.test_engine import Steps, raw_event


def test_later_messages_of_a_refused_key_wait_behind_its_exception_and_other_keys_flow() -> None:
    steps, bus = Steps(), InProcessBus(partitions=2)
    worker = worker_on(steps, bus)
    steps.failing["A1"] = lambda: BusinessException("missing-tax-registration", "no VAT number")
    worker.start()
    try:
        plan = [("a", "A1"), ("b", "B1"), ("a", "A2"), ("b", "B2"), ("a", "A3")]
        for sequence, (group, subject) in enumerate(plan, start=1):
            worker.engine.submit("src", raw_event(sequence, group, subject))
        settle(worker, bus)
        ledger = worker.engine.ports.ledger
        items = ledger.exceptions(ExceptionStatus.OPEN)
        assert [subject for _, subject in steps.handled] == ["B1", "B2"], "a later message overtook A1's exception"
        assert [(item.key, item.reason) for item in items] == [
            ("group:a", "missing-tax-registration"), ("group:a", KEY_PARKED), ("group:a", KEY_PARKED)]
        assert all(items[0].id in item.detail for item in items[1:]), items
        assert [item.payload["event"]["subject"] for item in items] == ["A1", "A2", "A3"]
        assert worker.engine.snapshot().exceptions == 3

        # An operator closes them (a re-drive would too): the key flows again.
        for item in items:
            ledger.resolve_exception(item.id, worker.engine.ports.clock.now())
        worker.engine.submit("src", raw_event(6, "a", "A4"))
        settle(worker, bus)
    finally:
        worker.stop()
    assert [subject for _, subject in steps.handled] == ["B1", "B2", "A4"]


def test_once_what_parked_the_key_is_gone_its_next_message_runs_the_parked_ones_first_in_order() -> None:
    steps, bus = Steps(), InProcessBus(partitions=1)
    worker = worker_on(steps, bus)
    steps.failing["A1"] = lambda: BusinessException("missing-tax-registration", "no VAT number")
    worker.start()
    try:
        for sequence, subject in enumerate(["A1", "A2", "A3"], start=1):
            worker.engine.submit("src", raw_event(sequence, "a", subject))
        settle(worker, bus)
        ledger = worker.engine.ports.ledger
        first = ledger.exceptions(ExceptionStatus.OPEN)[0]
        ledger.resolve_exception(first.id, worker.engine.ports.clock.now())  # fixed elsewhere (a flow's re-drive)
        worker.engine.submit("src", raw_event(4, "a", "A4"))
        settle(worker, bus)
        assert ledger.exceptions(ExceptionStatus.OPEN) == []
    finally:
        worker.stop()
    assert [subject for _, subject in steps.handled] == ["A2", "A3", "A4"]


def test_a_key_parked_by_the_partitions_last_owner_stays_parked_for_the_next() -> None:
    steps, bus = Steps(), InProcessBus(partitions=1)
    first = worker_on(steps, bus)
    steps.failing["A1"] = lambda: BusinessException("unknown-practice", "no such practice")
    first.start()
    try:
        first.engine.submit("src", raw_event(1, "a", "A1"))
        settle(first, bus)
    finally:
        first.stop()
    steps.failing.clear()
    second = DistributedWorker(first.engine, bus, SoloCoordinator(), workers=2)  # same ledger, a fresh worker
    second.start()
    try:
        second.engine.submit("src", raw_event(2, "a", "A2"))
        settle(second, bus)
    finally:
        second.stop()
    assert steps.handled == []
    assert [item.reason for item in second.engine.ports.ledger.exceptions(ExceptionStatus.OPEN)] == [
        "unknown-practice", KEY_PARKED]
