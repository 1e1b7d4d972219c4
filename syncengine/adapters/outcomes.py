"""How the engine reads an HTTP answer: ok, transient, business exception, conflict, permanent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from syncengine.domain.errors import BusinessException, ConflictFailure, PermanentFailure, TransientFailure

LOST_RESPONSE_HEADER = "Firmsim-Lost-Response"
LATENCY_HEADER = "Firmsim-Latency-Ms"
REPLAYED_HEADER = "Idempotent-Replayed"

BUSINESS_SLUGS = frozenset({
    # contracts/openapi/CONVENTIONS.md "Problem types": the 422s routed to the exception queue
    "missing-tax-registration", "unknown-practice", "currency-not-allowed", "invalid-dimension",
    "unknown-customer", "unknown-contract", "credit-hold", "period-closed", "duplicate-customer",
})


class Outcome(StrEnum):
    """What an HTTP answer means to the caller."""

    OK = "ok"
    TRANSIENT = "transient"
    BUSINESS = "business"
    CONFLICT = "conflict"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call as the engine saw it; `status` is None when no answer came (timeout, lost)."""

    system: str
    method: str
    path: str
    status: int | None
    outcome: Outcome
    latency_ms: int = 0
    reason: str = ""
    retry_after_s: float | None = None
    problem: Mapping[str, Any] | None = field(default=None, compare=False)
    elapsed_s: float = field(default=0.0, compare=False)
    """Wall time the call took (live mode; about zero in-process), for where-the-time-went metrics."""

    @property
    def throttled(self) -> bool:
        """Tell whether the target throttled the call (429)."""
        return self.status == 429

    @property
    def status_label(self) -> str:
        """Return the status as counted in metrics (`200`, `503`, `timeout`, `lost-response`)."""
        return str(self.status) if self.status is not None else self.reason


def problem_slug(problem: Mapping[str, Any] | None) -> str:
    """Return the last segment of a problem's type URI (`.../problems/credit-hold` -> `credit-hold`)."""
    if not problem:
        return ""
    problem_type = problem.get("type")
    if not isinstance(problem_type, str):
        return ""
    return problem_type.rstrip("/").rsplit("/", 1)[-1]


def classify(status: int, problem: Mapping[str, Any] | None) -> Outcome:
    """Sort a status (and its problem document) into an outcome."""
    if 200 <= status < 300:
        return Outcome.OK
    if status >= 500 or status in (408, 429):
        return Outcome.TRANSIENT
    if status in (409, 412):
        return Outcome.CONFLICT
    if status == 422 and problem_slug(problem) in BUSINESS_SLUGS:
        return Outcome.BUSINESS
    return Outcome.PERMANENT


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Read Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3); None when absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


class HttpFailure:
    """Mixin of the HTTP failures: the call that failed."""

    call: Call

    @property
    def status(self) -> int | None:
        """Return the HTTP status (None when no answer came)."""
        return self.call.status

    @property
    def problem(self) -> Mapping[str, Any] | None:
        """Return the problem document of the answer, if any."""
        return self.call.problem


class TransientHttpError(TransientFailure, HttpFailure):
    """5xx, 429, a timeout, a refused connection or a lost response: retry later."""


class BusinessHttpError(BusinessException, HttpFailure):
    """A 422 whose problem type is one of the business exceptions."""


class ConflictHttpError(ConflictFailure, HttpFailure):
    """409 or 412: the record changed under the caller."""


class PermanentHttpError(PermanentFailure, HttpFailure):
    """Any other 4xx (or an answer that cannot be read): the request is wrong as sent."""


def failure(call: Call) -> Exception:
    """Return the exception to raise for a failed call."""
    where = f"{call.method} {call.system}{call.path}"
    detail = f"{where} -> {call.status_label}"
    if call.problem and isinstance(call.problem.get("detail"), str):
        detail += f": {call.problem['detail']}"
    error: TransientHttpError | BusinessHttpError | ConflictHttpError | PermanentHttpError
    if call.outcome is Outcome.TRANSIENT:
        error = TransientHttpError(call.reason or problem_slug(call.problem) or f"http-{call.status}", detail,
                                   retry_after_s=call.retry_after_s, throttled=call.throttled)
    elif call.outcome is Outcome.BUSINESS:
        error = BusinessHttpError(problem_slug(call.problem), detail)
    elif call.outcome is Outcome.CONFLICT:
        error = ConflictHttpError(problem_slug(call.problem) or f"http-{call.status}", detail)
    else:
        error = PermanentHttpError(call.reason or problem_slug(call.problem) or f"http-{call.status}", detail)
    error.call = call
    return error
