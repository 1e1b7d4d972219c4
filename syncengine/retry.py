"""What to do after a failed attempt: retry after a backoff, queue an exception, or dead-letter.

Backoff is capped exponential with "equal jitter" (half fixed, half random), drawn from a seeded
`random.Random` stream, so a run repeats exactly; a `Retry-After` from the target is a floor.

Transient failures are bounded by *time*, not by a count: a six-hour outage or a day of heavy
throttling is something the target recovers from, and a message that would have gone through must
not be lost to a small attempt count. The default budget is 24 h of engine-clock time from the
first failure, at most one attempt every 5 minutes once backed off. What is still failing then goes
to the exception queue (`retries-exhausted`), where it parks its key (order holds) and an operator
re-drives it once the target is back; dead letters are kept for what can never go through as sent
(poison messages, permanent errors, engine bugs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from syncengine.domain.errors import (
    BusinessException,
    ConflictFailure,
    EngineError,
    PermanentFailure,
    PoisonMessage,
    TransientFailure,
)


class Action(StrEnum):
    """What happens to a message after a failed attempt."""

    RETRY = "retry"
    EXCEPTION = "exception"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict on a failure: action, wait before the next attempt, reason and detail."""

    action: Action
    reason: str
    detail: str
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff: base * multiplier^(attempt-1), at most `cap_s`, with equal jitter."""

    base_s: float = 1.0
    multiplier: float = 2.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.multiplier < 1 or self.cap_s < self.base_s:
            raise ValueError("backoff needs base_s > 0, multiplier >= 1 and cap_s >= base_s")

    def delay(self, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Return the wait after failed attempt number `attempt` (1-based), at least `retry_after_s`."""
        ceiling = min(self.cap_s, self.base_s * self.multiplier ** min(attempt - 1, 64))
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return delay


DAY_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Sort failures: transient ones retry for `retry_budget_s` since their first failure (and at most
    `max_attempts`, when set), conflicts up to `conflict_attempts`; then `on_exhausted` (the exception
    queue by default). Business exceptions go to the exception queue; permanent errors, poison
    messages and unexpected errors go to dead letters at once."""

    max_attempts: int | None = None
    retry_budget_s: float | None = DAY_S
    conflict_attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    on_exhausted: Action = Action.EXCEPTION

    def __post_init__(self) -> None:
        if (self.max_attempts is not None and self.max_attempts < 1) or self.conflict_attempts < 1:
            raise ValueError("max_attempts and conflict_attempts must be >= 1")
        if self.retry_budget_s is not None and self.retry_budget_s < 0:
            raise ValueError("retry_budget_s must be >= 0")
        if self.max_attempts is None and self.retry_budget_s is None:
            raise ValueError("give max_attempts or retry_budget_s: a policy cannot retry forever")
        if self.on_exhausted is Action.RETRY:
            raise ValueError("on_exhausted must be exception or dead_letter")

    def decide(self, error: BaseException, attempt: int, rng: random.Random, elapsed_s: float = 0.0) -> Decision:
        """Return what to do after attempt number `attempt` (1-based) failed with `error`, `elapsed_s`
        (engine-clock seconds) after this message first failed."""
        if isinstance(error, BusinessException):
            return Decision(Action.EXCEPTION, error.reason, error.detail)
        if isinstance(error, TransientFailure):
            return self._retry(error, attempt, self.max_attempts, rng, error.retry_after_s, elapsed_s)
        if isinstance(error, ConflictFailure):
            return self._retry(error, attempt, self.conflict_attempts, rng, None, None)
        if isinstance(error, PermanentFailure | PoisonMessage):
            return Decision(Action.DEAD_LETTER, error.reason, error.detail)
        return Decision(Action.DEAD_LETTER, "unexpected-error", f"{type(error).__name__}: {error}")

    def _retry(self, error: EngineError, attempt: int, limit: int | None, rng: random.Random,
               retry_after_s: float | None, elapsed_s: float | None) -> Decision:
        if limit is not None and attempt >= limit:
            return Decision(self.on_exhausted, "retries-exhausted",
                            f"{error.reason} after {attempt} attempts: {error.detail}")
        delay_s = self.backoff.delay(attempt, rng, retry_after_s)
        if elapsed_s is not None and self.retry_budget_s is not None and elapsed_s + delay_s > self.retry_budget_s:
            return Decision(self.on_exhausted, "retries-exhausted",
                            f"{error.reason} for {elapsed_s / 3600:.1f} h ({attempt} attempts), over the "
                            f"{self.retry_budget_s / 3600:g} h retry budget: {error.detail}")
        return Decision(Action.RETRY, error.reason, error.detail, delay_s)
