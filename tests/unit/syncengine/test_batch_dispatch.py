"""Batched attempts: a key's queued messages in one unit of work, a failure rolling the batch back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from syncengine.adapters.clock import SystemClock
from syncengine.bootstrap import EngineConfig, bootstrap
from syncengine.domain import BusinessException
from syncengine.domain.messages import SourceEvent
from syncengine.ledger import ExceptionStatus
from syncengine.ports import Ports
from syncengine.retry import Action, Backoff, RetryPolicy
from syncengine.runtime import Engine
from syncengine.runtime.dispatch import AttemptOutcome
from syncengine.runtime.registry import BatchFailure, Delivery
from tests.unit.syncengine.test_engine import Steps, down, raw_event


def _engine(steps: Steps) -> tuple[Engine, list[Delivery]]:
    policy = RetryPolicy(max_attempts=3, backoff=Backoff(base_s=1.0, multiplier=2.0, cap_s=4.0),
                         on_exhausted=Action.DEAD_LETTER)
    engine = bootstrap(EngineConfig(clock=SystemClock(), flows=(steps.flow(),), retry=policy, park_on_exception=False,
                                    virtual_latency=False))
    deliveries: list[Delivery] = []
    engine.outlet = deliveries.append
    for sequence in range(1, 6):
        engine.submit("src", raw_event(sequence, "a", f"A{sequence}"))
    return engine, deliveries


def _commits(engine: Engine) -> list[int]:
    ledger = engine.ports.ledger
    count = [0]
    commit = ledger._commit

    def counted() -> None:
        count[0] += 1
        commit()

    ledger._commit = counted  # type: ignore[method-assign]
    return count


def _applied(engine: Engine, subject: str) -> int | None:
    return engine.ports.ledger.applied_version(f"step:{subject}")


def test_a_batch_that_goes_through_commits_once_with_every_tracking_record() -> None:
    steps = Steps()
    engine, deliveries = _engine(steps)
    commits = _commits(engine)
    results = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED] * 5
    assert commits == [1]
    assert [subject for _, subject in steps.handled] == ["A1", "A2", "A3", "A4", "A5"]
    assert all(engine.ports.ledger.already_processed("src", f"A{n}", 1, deliveries[0].route.handler_name)
               for n in range(1, 6))
    again = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in again] == [AttemptOutcome.DUPLICATE] * 5
    assert len(steps.handled) == 5
    counts = engine.snapshot().flows["steps"]
    assert (counts.processed, counts.duplicates, counts.retries) == (5, 5, 0)


def test_a_later_failure_rolls_back_and_settles_only_the_ones_before_it() -> None:
    steps = Steps()
    engine, deliveries = _engine(steps)
    steps.failing["A3"] = down
    results = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED] * 2
    assert [_applied(engine, f"A{n}") for n in range(1, 6)] == [1, 1, None, None, None]
    assert engine.snapshot().retries == 0, "the failure is the failing message's attempt only when it heads a batch"
    [retry] = engine.dispatcher.attempt_batch(deliveries[2:])
    assert retry.outcome is AttemptOutcome.RETRY
    assert engine.snapshot().retries == 1
    assert _applied(engine, "A4") is None


def test_a_head_refused_for_good_goes_to_the_exception_queue_as_a_single_attempt_would() -> None:
    steps = Steps()
    engine, deliveries = _engine(steps)
    steps.failing["A1"] = lambda: BusinessException("unknown-contract", "no contract")
    [result] = engine.dispatcher.attempt_batch(deliveries)
    assert result.outcome is AttemptOutcome.EXCEPTION
    [item] = engine.ports.ledger.exceptions(ExceptionStatus.OPEN)
    assert item.reason == "unknown-contract"
    assert _applied(engine, "A2") is None
    rest = engine.dispatcher.attempt_batch(deliveries[1:])
    assert [result.outcome for result in rest] == [AttemptOutcome.PROCESSED] * 4


def _batched(steps: Steps) -> tuple[Engine, list[Delivery], list[list[str]]]:
    """An engine whose step handler has a batch form that notes the subjects of each call it gets."""
    calls: list[list[str]] = []
    flow = steps.flow()
    [[handle_step]] = flow.handlers.values()

    def handle_steps(messages: Sequence[SourceEvent], ports: Ports) -> None:
        calls.append([message.subject for message in messages])
        for message in messages:
            handle_step(message, ports)

    policy = RetryPolicy(max_attempts=3, backoff=Backoff(base_s=1.0, multiplier=2.0, cap_s=4.0),
                         on_exhausted=Action.DEAD_LETTER)
    engine = bootstrap(EngineConfig(clock=SystemClock(), retry=policy, park_on_exception=False,
                                    virtual_latency=False,
                                    flows=(replace(flow, batch_handlers={handle_step: handle_steps}),)))
    deliveries: list[Delivery] = []
    engine.outlet = deliveries.append
    for sequence in range(1, 6):
        engine.submit("src", raw_event(sequence, "a", f"A{sequence}"))
    return engine, deliveries, calls


def test_a_run_of_messages_with_a_batch_form_is_handed_to_it_at_once() -> None:
    steps = Steps()
    engine, deliveries, calls = _batched(steps)
    commits = _commits(engine)
    results = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED] * 5
    assert calls == [["A1", "A2", "A3", "A4", "A5"]]
    assert commits == [1]
    assert [_applied(engine, f"A{n}") for n in range(1, 6)] == [1] * 5
    again = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in again] == [AttemptOutcome.DUPLICATE] * 5
    assert len(calls) == 1, "what was processed is not handed over again"
    counts = engine.snapshot().flows["steps"]
    assert (counts.processed, counts.duplicates) == (5, 5)


def test_a_message_twice_in_one_batch_is_handled_once() -> None:
    steps = Steps()
    engine, deliveries, calls = _batched(steps)
    results = engine.dispatcher.attempt_batch([deliveries[0], deliveries[1], deliveries[0]])
    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED, AttemptOutcome.PROCESSED,
                                                      AttemptOutcome.DUPLICATE]
    assert calls == [["A1", "A2"]]


def test_a_failing_batch_form_is_run_again_one_message_at_a_time_to_find_the_one_that_fails() -> None:
    steps = Steps()
    engine, deliveries, calls = _batched(steps)
    steps.failing["A3"] = down
    results = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED] * 2
    assert [_applied(engine, f"A{n}") for n in range(1, 6)] == [1, 1, None, None, None]
    assert calls == [["A1", "A2", "A3", "A4", "A5"], ["A1", "A2"]], "the ones before it went again as a batch"
    assert engine.snapshot().retries == 0
    [retry] = engine.dispatcher.attempt_batch(deliveries[2:])
    assert retry.outcome is AttemptOutcome.RETRY
    assert engine.ports.ledger.processed_among([("src", "A4", 1, deliveries[3].route.handler_name)]) == set()


def test_a_batch_form_that_names_the_message_that_failed_is_not_run_again_one_message_at_a_time() -> None:
    steps = Steps()
    calls: list[list[str]] = []
    flow = steps.flow()
    [[handle_step]] = flow.handlers.values()

    def handle_steps(messages: Sequence[SourceEvent], ports: Ports) -> None:
        calls.append([message.subject for message in messages])
        for index, message in enumerate(messages):
            try:
                handle_step(message, ports)
            except Exception as error:
                raise BatchFailure(index, error) from error

    engine = bootstrap(EngineConfig(clock=SystemClock(), park_on_exception=False, virtual_latency=False,
                                    retry=RetryPolicy(max_attempts=3, on_exhausted=Action.DEAD_LETTER),
                                    flows=(replace(flow, batch_handlers={handle_step: handle_steps}),)))
    deliveries: list[Delivery] = []
    engine.outlet = deliveries.append
    for sequence in range(1, 6):
        engine.submit("src", raw_event(sequence, "a", f"A{sequence}"))
    steps.failing["A3"] = down
    results = engine.dispatcher.attempt_batch(deliveries)
    assert [result.outcome for result in results] == [AttemptOutcome.PROCESSED] * 2
    assert calls == [["A1", "A2", "A3", "A4", "A5"], ["A1", "A2"]]
    assert [subject for _, subject in steps.handled] == ["A1", "A2", "A1", "A2"], "no one-by-one run"
    assert [_applied(engine, f"A{n}") for n in range(1, 6)] == [1, 1, None, None, None]
    [retry] = engine.dispatcher.attempt_batch(deliveries[2:])
    assert retry.outcome is AttemptOutcome.RETRY and engine.snapshot().retries == 1
    assert calls[-1] == ["A3", "A4", "A5"]
