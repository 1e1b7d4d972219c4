"""Retry policy: capped exponential backoff with seeded jitter, Retry-After, and where failures go."""

from __future__ import annotations

import random

import pytest

from syncengine.domain import BusinessException, ConflictFailure, MalformedEvent, PermanentFailure, TransientFailure
from syncengine.retry import Action, Backoff, RetryPolicy


def schedule(seed: int, attempts: int = 8, backoff: Backoff | None = None) -> list[float]:
    rng = random.Random(seed)
    backoff = backoff or Backoff(base_s=1.0, multiplier=2.0, cap_s=60.0)
    return [backoff.delay(attempt, rng) for attempt in range(1, attempts + 1)]


def test_the_schedule_repeats_exactly_for_the_same_seed() -> None:
    assert schedule(7) == schedule(7)
    assert schedule(7) != schedule(8)


def test_delays_grow_exponentially_within_their_jitter_band() -> None:
    for attempt, delay in enumerate(schedule(3, 6), start=1):
        ceiling = min(60.0, 2.0 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


def test_delays_never_exceed_the_cap() -> None:
    delays = schedule(11, 40, Backoff(base_s=5.0, multiplier=3.0, cap_s=120.0))
    assert max(delays) <= 120.0
    assert min(delays[10:]) >= 60.0


def test_retry_after_is_a_floor_even_above_the_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=10.0)
    assert backoff.delay(1, random.Random(0), retry_after_s=30.0) == 30.0
    assert 4.0 <= backoff.delay(4, random.Random(0), retry_after_s=2.0) <= 8.0


def test_transient_failures_retry_until_max_attempts_when_one_is_set() -> None:
    policy = RetryPolicy(max_attempts=3)
    error = TransientFailure("service-unavailable", "ERP down", retry_after_s=20.0)
    rng = random.Random(1)
    first = policy.decide(error, 1, rng)
    assert (first.action, first.reason) == (Action.RETRY, "service-unavailable")
    assert first.delay_s >= 20.0
    assert policy.decide(error, 2, rng).action is Action.RETRY
    exhausted = policy.decide(error, 3, rng)
    assert (exhausted.action, exhausted.reason) == (Action.EXCEPTION, "retries-exhausted")


def test_by_default_transient_failures_retry_through_a_six_hour_outage() -> None:
    policy, rng = RetryPolicy(), random.Random(4)
    error = TransientFailure("service-unavailable", "ERP down")
    elapsed_s, attempt = 0.0, 1
    while elapsed_s < 6 * 3600:
        decision = policy.decide(error, attempt, rng, elapsed_s)
        assert decision.action is Action.RETRY, (attempt, elapsed_s)
        assert decision.delay_s <= 300.0
        elapsed_s, attempt = elapsed_s + decision.delay_s, attempt + 1
    assert attempt > 8


def test_transient_failures_past_the_retry_budget_are_parked_as_exceptions_not_dead_letters() -> None:
    policy = RetryPolicy()
    error = TransientFailure("rate-limited", "429", retry_after_s=600.0)
    assert policy.decide(error, 200, random.Random(0), 23 * 3600).action is Action.RETRY
    exhausted = policy.decide(error, 201, random.Random(0), 24 * 3600 - 300)
    assert (exhausted.action, exhausted.reason) == (Action.EXCEPTION, "retries-exhausted")
    assert "24 h retry budget" in exhausted.detail and "429" in exhausted.detail


def test_the_retry_budget_is_configurable() -> None:
    policy = RetryPolicy(retry_budget_s=3600.0, backoff=Backoff(base_s=60.0, cap_s=600.0))
    error = TransientFailure("timeout")
    assert policy.decide(error, 1, random.Random(0), 0.0).action is Action.RETRY
    assert policy.decide(error, 9, random.Random(0), 3500.0).action is Action.EXCEPTION


def test_exhausted_retries_can_go_to_dead_letters_instead() -> None:
    policy = RetryPolicy(max_attempts=2, on_exhausted=Action.DEAD_LETTER)
    decision = policy.decide(TransientFailure("timeout"), 2, random.Random(0))
    assert decision.action is Action.DEAD_LETTER


def test_conflicts_retry_fewer_times() -> None:
    policy = RetryPolicy(max_attempts=8, conflict_attempts=2)
    rng = random.Random(0)
    assert policy.decide(ConflictFailure("precondition-failed"), 1, rng).action is Action.RETRY
    assert policy.decide(ConflictFailure("precondition-failed"), 2, rng).action is Action.EXCEPTION


@pytest.mark.parametrize(("error", "action", "reason"), [
    (BusinessException("missing-tax-registration", "ACME"), Action.EXCEPTION, "missing-tax-registration"),
    (PermanentFailure("validation-error", "bad body"), Action.DEAD_LETTER, "validation-error"),
    (MalformedEvent("malformed-event", "no data"), Action.DEAD_LETTER, "malformed-event"),
    (KeyError("customer_id"), Action.DEAD_LETTER, "unexpected-error"),
])
def test_other_failures_are_sorted_at_once(error: Exception, action: Action, reason: str) -> None:
    decision = RetryPolicy().decide(error, 1, random.Random(0))
    assert (decision.action, decision.reason) == (action, reason)


def test_a_policy_cannot_retry_forever() -> None:
    with pytest.raises(ValueError, match="on_exhausted"):
        RetryPolicy(on_exhausted=Action.RETRY)
    with pytest.raises(ValueError, match="cannot retry forever"):
        RetryPolicy(max_attempts=None, retry_budget_s=None)
