"""What can go wrong while handling a message, sorted by what the engine does about it.

- `BusinessException`: the data breaks a business rule (missing tax registration, unknown practice);
  goes to the exception queue with its reason slug and is re-driven once the master data is fixed.
- `TransientFailure`: the target may accept it later (5xx, 429, timeout, lost response); retried
  with backoff, honouring `retry_after`.
- `ConflictFailure`: a concurrent change (409, 412); retried a few times (a re-run re-reads).
- `PermanentFailure`: the request itself is wrong (other 4xx); dead-lettered.
- `PoisonMessage`: the message cannot be handled at all (malformed); dead-lettered at once.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of the failures the engine sorts; `reason` is a stable kebab-case slug."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class BusinessException(EngineError):
    """A business rule refused the message; raise it from a handler to route to the exception queue."""


class TransientFailure(EngineError):
    """The target may accept the same call later."""

    def __init__(self, reason: str, detail: str = "", *, retry_after_s: float | None = None,
                 throttled: bool = False) -> None:
        super().__init__(reason, detail)
        self.retry_after_s = retry_after_s
        self.throttled = throttled


class ConflictFailure(EngineError):
    """The target refused because of a concurrent change (stale ETag, illegal transition)."""


class PermanentFailure(EngineError):
    """The call can never succeed as sent."""


class PoisonMessage(EngineError):
    """The message cannot be handled at all."""


class MalformedEvent(PoisonMessage):
    """An inbound event lacks a field or has one of the wrong type."""
