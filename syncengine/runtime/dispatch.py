"""One attempt at one delivery: the handler and its tracking record in one unit of work, then the
failure (if any) sorted by the retry policy into a retry, an exception or a dead letter."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from syncengine.adapters.outcomes import Call
from syncengine.adapters.tracing import handling
from syncengine.ledger.port import TrackingKey
from syncengine.ledger.records import DeadLetter, DuplicateTracking, ExceptionItem, Tracking
from syncengine.ports import Ports
from syncengine.retry import Action, RetryPolicy
from syncengine.runtime.metrics import CURRENT_METER, CallMeter, Metrics
from syncengine.runtime.registry import BatchFailure, Delivery, Route


class AttemptOutcome(StrEnum):
    """How one attempt ended."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    EXCEPTION = "exception"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """The end of one attempt: outcome, wait before a retry, simulated latency of its calls."""

    outcome: AttemptOutcome
    delay_s: float = 0.0
    latency_s: float = 0.0
    reason: str = ""
    exception: ExceptionItem | None = None
    dead_letter: DeadLetter | None = None
    unavailable: str | None = None
    """The system a retry waits for when the attempt failed because it is down (503, unreachable), else None."""


_PROCESSED = AttemptResult(AttemptOutcome.PROCESSED)
_DUPLICATE = AttemptResult(AttemptOutcome.DUPLICATE)
"""The results of a batch's messages (immutable, so one of each serves every message)."""

UNAVAILABLE_REASONS = frozenset({"connection-error"})
"""Reasons of a call that found no system at all (besides a 503 answer)."""


class Dispatcher:
    """Run deliveries against their handlers with exactly-once effects on the ledger."""

    def __init__(self, ports: Ports, policy: RetryPolicy, rng: random.Random, metrics: Metrics, *,
                 virtual_latency: bool = True) -> None:
        self.ports = ports
        self.policy = policy
        self.rng = rng
        self.metrics = metrics
        self.virtual_latency = virtual_latency
        self._first_failed: dict[str, datetime] = {}
        """When each delivery now retrying first failed (the retry budget counts from there); kept in
        memory: a worker restarted, or a key moved to another worker, starts a fresh budget."""

    def attempt(self, delivery: Delivery) -> AttemptResult:
        """Run one attempt at a delivery; never raises for a handler's failure."""
        meter = CallMeter()
        token = CURRENT_METER.set(meter)
        started = time.perf_counter()
        try:
            with handling(delivery.event.traceparent, f"{delivery.id}|{delivery.attempt}"):
                outcome = self._run(delivery)
        except Exception as error:  # noqa: BLE001 - every failure is sorted, none may stop the engine
            return self._failed(delivery, error, meter)
        finally:
            CURRENT_METER.reset(token)
            self.metrics.spend("attempts", time.perf_counter() - started)
        if delivery.attempt > 1:
            self._first_failed.pop(delivery.id, None)
        counts = self.metrics.flow(delivery.route.flow)
        counts.api_calls += meter.calls
        latency_s = meter.latency_ms / 1000
        if outcome is AttemptOutcome.DUPLICATE:
            counts.duplicates += 1
        else:
            counts.processed += 1
            committed_at = self.ports.clock.now()
            if self.virtual_latency:
                committed_at += timedelta(seconds=latency_s)
            counts.sync_lag_s.append((committed_at - delivery.event.time).total_seconds())
        return AttemptResult(outcome, latency_s=latency_s)

    def attempt_batch(self, deliveries: Sequence[Delivery]) -> list[AttemptResult]:
        """Run first attempts at several deliveries of one key, in order, in one unit of work; return the
        results of the ones it settled, a prefix of them (the rest go in a later batch).

        Set-based: one tracking check and one tracking write for the whole batch, and a run of
        messages whose handler has a batch form (`Flow.batch_handlers`) handed to it at once. All go
        through: one commit for all, each PROCESSED or DUPLICATE. The first one fails: rolled back,
        that failure is its attempt, sorted by the retry policy as `attempt` sorts it. A later one
        fails: rolled back, the ones before it run again as a batch (their calls are replayed by their
        idempotency keys) and the one that failed heads the next batch. When it is not known which one
        failed (a batch form that raised no `BatchFailure` naming it, or the tracking write), the batch
        runs again one handler call at a time (`attempt_each`), which finds it. One commit for many
        messages is what lets a ledger whose commit waits for a disk flush keep up with a bulk
        approval's hundred events. Re-drives (which resolve an exception) are not batched.
        """
        if not deliveries or any(delivery.exception_id is not None for delivery in deliveries):
            raise ValueError("a batch holds one or more first deliveries, no re-drive")
        meter = CallMeter()
        token = CURRENT_METER.set(meter)
        started = time.perf_counter()
        outcomes: list[tuple[AttemptOutcome, int]] = []
        failure: _Failure | None = None
        try:
            with self.ports.ledger.unit_of_work():
                outcomes = self._run_set(deliveries, meter)
        except _Failure as raised:
            failure = raised
        except Exception as raised:  # noqa: BLE001 - the commit failed: the head's attempt is what failed
            failure = _Failure(raised, 0, ambiguous=False)
        finally:
            CURRENT_METER.reset(token)
            self.metrics.spend("attempts", time.perf_counter() - started)
        if failure is None:
            return self._settled(deliveries, outcomes, meter)
        if failure.ambiguous and len(deliveries) > 1:
            self.metrics.flow(deliveries[0].route.flow).api_calls += meter.calls
            return _after(meter, self.attempt_each(deliveries))
        return self._sorted_failure(deliveries, failure.index, failure.error, meter)

    def _run_set(self, deliveries: Sequence[Delivery], meter: CallMeter) -> list[tuple[AttemptOutcome, int]]:
        """Run a batch inside its unit of work: one tracking check, the handlers, one tracking write."""
        ledger = self.ports.ledger
        keys = [_tracking_key(delivery) for delivery in deliveries]
        done = ledger.processed_among(keys)
        outcomes = [(AttemptOutcome.DUPLICATE, 0)] * len(deliveries)
        to_run: list[int] = []
        for index, key in enumerate(keys):
            if key not in done:
                done.add(key)  # the same message twice in one batch: the second is a duplicate
                to_run.append(index)
        for run in _runs(deliveries, to_run):
            head = deliveries[run[0]]
            calls_before = meter.calls
            handler_started = time.perf_counter()
            try:
                with handling(head.event.traceparent, f"{head.id}|{head.attempt}"):
                    if len(run) > 1 and head.route.batch_handler is not None:
                        head.route.batch_handler([deliveries[index].event for index in run], self.ports)
                    else:
                        head.route.handler(head.event, self.ports)
            except BatchFailure as failure:
                if not 0 <= failure.index < len(run):
                    raise _Failure(failure.error, run[0], ambiguous=True) from failure.error
                raise _Failure(failure.error, run[failure.index], ambiguous=False) from failure.error
            except Exception as error:
                raise _Failure(error, run[0], ambiguous=len(run) > 1) from error
            finally:
                self.metrics.spend("handlers", time.perf_counter() - handler_started)
            for index in run:
                outcomes[index] = (AttemptOutcome.PROCESSED, meter.calls - calls_before if index == run[0] else 0)
        now = self.ports.clock.now()
        try:
            ledger.record_processed_many([Tracking(*keys[index], now) for index in to_run])
        except Exception as error:
            raise _Failure(error, 0, ambiguous=True) from error
        return outcomes

    def _sorted_failure(self, deliveries: Sequence[Delivery], failed_at: int, error: Exception,
                        meter: CallMeter) -> list[AttemptResult]:
        """Settle a batch that failed at one known delivery: the ones before it again, else the head's failure."""
        if failed_at > 0:
            self.metrics.flow(deliveries[0].route.flow).api_calls += meter.calls
            return _after(meter, self.attempt_batch(deliveries[:failed_at]))
        if isinstance(error, DuplicateTracking):
            counts = self.metrics.flow(deliveries[0].route.flow)
            counts.api_calls += meter.calls
            counts.duplicates += 1
            return [AttemptResult(AttemptOutcome.DUPLICATE, latency_s=meter.latency_ms / 1000)]
        return [self._failed(deliveries[0], error, meter)]

    def attempt_each(self, deliveries: Sequence[Delivery]) -> list[AttemptResult]:
        """Run a batch as `attempt_batch` does, but one handler call, tracking check and write per delivery,
        so that a failure is known to be its delivery's."""
        meter = CallMeter()
        token = CURRENT_METER.set(meter)
        started = time.perf_counter()
        outcomes: list[tuple[AttemptOutcome, int]] = []
        failed_at, error = 0, None
        try:
            with self.ports.ledger.unit_of_work():
                for index, delivery in enumerate(deliveries):
                    failed_at, calls_before = index, meter.calls
                    with handling(delivery.event.traceparent, f"{delivery.id}|{delivery.attempt}"):
                        outcome = self._run_in_batch(delivery)
                    outcomes.append((outcome, meter.calls - calls_before))
                failed_at = 0  # the commit itself failed: the head's attempt is what failed
        except Exception as raised:  # noqa: BLE001 - every failure is sorted, none may stop the engine
            error = raised
        finally:
            CURRENT_METER.reset(token)
            self.metrics.spend("attempts", time.perf_counter() - started)
        if error is None:
            return self._settled(deliveries, outcomes, meter)
        return self._sorted_failure(deliveries, failed_at, error, meter)

    def _settled(self, deliveries: Sequence[Delivery], outcomes: list[tuple[AttemptOutcome, int]],
                 meter: CallMeter) -> list[AttemptResult]:
        now = self.ports.clock.now()
        if self.virtual_latency:
            now += timedelta(milliseconds=meter.latency_ms)
        results = []
        first_failed = self._first_failed
        flow = deliveries[0].route.flow
        counts = self.metrics.flow(flow)
        for delivery, (outcome, calls) in zip(deliveries, outcomes, strict=True):
            if first_failed:
                first_failed.pop(delivery.id, None)
            if delivery.route.flow != flow:
                flow = delivery.route.flow
                counts = self.metrics.flow(flow)
            counts.api_calls += calls
            if outcome is AttemptOutcome.DUPLICATE:
                counts.duplicates += 1
                results.append(_DUPLICATE)
            else:
                counts.processed += 1
                counts.sync_lag_s.append((now - delivery.event.time).total_seconds())
                results.append(_PROCESSED)
        # the batch's calls took their latency once, before its last result (one of the two shared results:
        # an outcome and nothing else, built anew rather than through dataclasses.replace, once per batch)
        results[-1] = AttemptResult(results[-1].outcome, latency_s=meter.latency_ms / 1000)
        return results

    def _run_in_batch(self, delivery: Delivery) -> AttemptOutcome:
        """Run one delivery inside the batch's unit of work (a duplicate tracking row fails the batch)."""
        ledger = self.ports.ledger
        event = delivery.event
        handler_name = delivery.route.handler_name
        if ledger.already_processed(event.system, event.source_id, event.source_version, handler_name):
            return AttemptOutcome.DUPLICATE
        handler_started = time.perf_counter()
        try:
            delivery.route.handler(event, self.ports)
        finally:
            self.metrics.spend("handlers", time.perf_counter() - handler_started)
        ledger.record_processed(Tracking(event.system, event.source_id, event.source_version, handler_name,
                                         self.ports.clock.now()))
        return AttemptOutcome.PROCESSED

    def _run(self, delivery: Delivery) -> AttemptOutcome:
        ledger = self.ports.ledger
        event = delivery.event
        handler_name = delivery.route.handler_name
        try:
            with ledger.unit_of_work():
                if ledger.already_processed(event.system, event.source_id, event.source_version, handler_name):
                    outcome = AttemptOutcome.DUPLICATE
                else:
                    handler_started = time.perf_counter()
                    try:
                        delivery.route.handler(event, self.ports)
                    finally:
                        self.metrics.spend("handlers", time.perf_counter() - handler_started)
                    ledger.record_processed(Tracking(event.system, event.source_id, event.source_version,
                                                     handler_name, self.ports.clock.now()))
                    outcome = AttemptOutcome.PROCESSED
                if delivery.exception_id is not None:
                    ledger.resolve_exception(delivery.exception_id, self.ports.clock.now())
        except DuplicateTracking:
            outcome = AttemptOutcome.DUPLICATE
            if delivery.exception_id is not None:
                ledger.resolve_exception(delivery.exception_id, self.ports.clock.now())
        return outcome

    def _failed(self, delivery: Delivery, error: Exception, meter: CallMeter) -> AttemptResult:
        counts = self.metrics.flow(delivery.route.flow)
        counts.api_calls += meter.calls
        latency_s = meter.latency_ms / 1000
        now = self.ports.clock.now()
        if delivery.attempt == 1:
            self._first_failed[delivery.id] = now
        first_failed = self._first_failed.setdefault(delivery.id, now)
        decision = self.policy.decide(error, delivery.attempt, self.rng, (now - first_failed).total_seconds())
        if decision.action is Action.RETRY:
            counts.retries += 1
            return AttemptResult(AttemptOutcome.RETRY, decision.delay_s, latency_s, decision.reason,
                                 unavailable=_unavailable(error))
        self._first_failed.pop(delivery.id, None)
        ledger = self.ports.ledger
        # A re-driven message stays in the exception queue until it goes through or an operator closes it.
        if decision.action is Action.EXCEPTION or delivery.exception_id is not None:
            counts.exceptions += 1
            item = ledger.record_exception(flow=delivery.route.flow, key=delivery.key, message_id=delivery.id,
                                           reason=decision.reason, detail=decision.detail,
                                           payload=delivery.payload(), now=now)
            return AttemptResult(AttemptOutcome.EXCEPTION, 0.0, latency_s, decision.reason, exception=item)
        counts.dead_letters += 1
        letter = ledger.dead_letter(flow=delivery.route.flow, key=delivery.key, message_id=delivery.id,
                                    reason=decision.reason, detail=decision.detail, payload=delivery.payload(),
                                    now=now)
        return AttemptResult(AttemptOutcome.DEAD_LETTER, 0.0, latency_s, decision.reason, dead_letter=letter)


class _Failure(Exception):
    """A batch failed at `index` (`ambiguous`: or at one of the messages handled with it)."""

    def __init__(self, error: Exception, index: int, *, ambiguous: bool) -> None:
        super().__init__(str(error))
        self.error, self.index, self.ambiguous = error, index, ambiguous


def _after(meter: CallMeter, results: list[AttemptResult]) -> list[AttemptResult]:
    """Return the results of a batch run again, the latency of the calls of the try that failed added to the last."""
    results[-1] = replace(results[-1], latency_s=results[-1].latency_s + meter.latency_ms / 1000)
    return results


def _unavailable(error: Exception) -> str | None:
    """Return the system a failed call found down (it answered 503, or could not be reached), else None."""
    call = getattr(error, "call", None)
    if not isinstance(call, Call):
        return None
    return call.system if call.status == 503 or (call.status is None and call.reason in UNAVAILABLE_REASONS) else None


def _tracking_key(delivery: Delivery) -> TrackingKey:
    event = delivery.event
    return (event.system, event.source_id, event.source_version, delivery.route.handler_name)


def _same(route: Route, other: Route) -> bool:
    # the registry hands out one Route per handler: identity first, the fields' comparison only otherwise
    return route is other or route == other


def _runs(deliveries: Sequence[Delivery], indexes: list[int]) -> list[list[int]]:
    """Group the deliveries to run into runs of one route with a batch form (others run alone)."""
    runs: list[list[int]] = []
    for index in indexes:
        route = deliveries[index].route
        if runs and route.batch_handler is not None and _same(deliveries[runs[-1][0]].route, route):
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs
