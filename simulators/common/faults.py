"""The fault plane: outages, latency, throttling, lost responses, expired tokens, webhook chaos.

Faults are windows of time against the injected clock, scheduled by a scenario or set live through
the admin API. Random choices come from one seeded stream per plane and are drawn only while a
fault is active, so a run without faults draws nothing.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

REQUEST_FAULTS = ("outage", "latency", "throttle", "lost_response", "token_expiry")
WEBHOOK_FAULTS = ("webhook_duplicate", "webhook_reorder", "webhook_delay", "webhook_drop")
FAULT_KINDS = REQUEST_FAULTS + WEBHOOK_FAULTS

_PARAMS: dict[str, set[str]] = {
    "outage": {"operations", "retry_after"},
    "latency": {"operations", "distribution", "ms", "min_ms", "max_ms", "median_ms", "sigma"},
    "throttle": {"operations", "probability", "retry_after"},
    "lost_response": {"operations", "probability"},
    "token_expiry": set(),
    "webhook_duplicate": {"probability", "copies"},
    "webhook_reorder": {"probability", "max_delay_s"},
    "webhook_delay": {"delay_s", "min_s", "max_s"},
    "webhook_drop": {"probability"},
}


class FaultError(ValueError):
    """A fault definition that cannot be applied; the message names the field."""


@dataclass(slots=True)
class Fault:
    """One scheduled fault window."""

    id: str
    kind: str
    start: datetime | None
    end: datetime | None
    params: dict[str, Any] = field(default_factory=dict)

    def active(self, now: datetime, operation_id: str | None = None) -> bool:
        """Tell whether the fault applies now (and to this operation)."""
        if self.start is not None and now < self.start:
            return False
        if self.end is not None and now >= self.end:
            return False
        operations = self.params.get("operations")
        return not (operations and operation_id is not None and operation_id not in operations)

    def to_dict(self) -> dict[str, Any]:
        """Return the fault as JSON."""
        from simulators.common.clock import isoformat

        return {
            "id": self.id,
            "kind": self.kind,
            "start": isoformat(self.start) if self.start else None,
            "end": isoformat(self.end) if self.end else None,
            "params": self.params,
        }


@dataclass(frozen=True, slots=True)
class RequestFaults:
    """What the fault plane decided for one request."""

    outage_retry_after: int | None = None
    throttle_retry_after: int | None = None
    token_expired_before: datetime | None = None
    latency_s: float = 0.0
    lose_response: bool = False


NO_REQUEST_FAULTS = RequestFaults()
"""The decision of a request outside every request fault's window (most requests of a run)."""


@dataclass(slots=True)
class DeliveryPlan:
    """What the fault plane decided for one webhook delivery: when, and how many copies."""

    drop: bool = False
    copies: int = 1
    delay_s: float = 0.0


def _parse_instant(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise FaultError(f"{name}: expected an ISO 8601 instant, got {value!r}") from error
    if parsed.tzinfo is None:
        raise FaultError(f"{name}: the instant needs a time zone (e.g. Z), got {value!r}")
    return parsed


def _probability(params: dict[str, Any]) -> float:
    return float(params.get("probability", 1.0))


class FaultPlane:
    """The set of faults of one system instance and the seeded stream that draws from them."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []
        self._counter = 0
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}
        self._quiet: tuple[datetime | None, datetime | None] | None = None

    def _quiet_at(self, now: datetime) -> bool:
        """Tell whether no request fault is in effect at `now` (for any operation).

        The answer holds for a span (from the last window that ended to the next that starts), kept
        until the faults change: most requests of a run fall between windows and skip the scan.
        """
        quiet = self._quiet
        if quiet is not None and (quiet[0] is None or quiet[0] <= now) and (quiet[1] is None or now < quiet[1]):
            return True
        since: datetime | None = None
        until: datetime | None = None
        for fault in self._faults:
            if fault.kind not in REQUEST_FAULTS:
                continue
            if fault.start is not None and now < fault.start:
                until = fault.start if until is None else min(until, fault.start)
            elif fault.end is not None and now >= fault.end:
                since = fault.end if since is None else max(since, fault.end)
            else:
                self._quiet = None
                return False
        self._quiet = (since, until)
        return True

    def reset(self, seed: int | None = None) -> None:
        """Remove every fault (admin reset)."""
        with self._lock:
            self._faults = []
            self._quiet = None
            self.injected = {}
            if seed is not None:
                self._rng = random.Random(seed)

    def add(self, definition: dict[str, Any]) -> Fault:
        """Validate and schedule a fault `{kind, start?, end? | duration?, params?}`."""
        kind = definition.get("kind")
        if kind not in FAULT_KINDS:
            raise FaultError(f"kind: expected one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        params = definition.get("params") or {}
        if not isinstance(params, dict):
            raise FaultError("params: expected an object")
        unknown = set(params) - _PARAMS[kind]
        if unknown:
            raise FaultError(f"params: {kind} takes {sorted(_PARAMS[kind]) or 'no params'}, not {sorted(unknown)}")
        probability = params.get("probability", 1.0)
        if not isinstance(probability, int | float) or not 0 <= probability <= 1:
            raise FaultError(f"params.probability: expected a number from 0 to 1, got {probability!r}")
        start = _parse_instant(definition.get("start"), "start")
        end = _parse_instant(definition.get("end"), "end")
        duration = definition.get("duration")
        if duration is not None:
            if not isinstance(duration, int | float) or duration <= 0:
                raise FaultError(f"duration: expected seconds > 0, got {duration!r}")
            if start is None:
                raise FaultError("duration: needs a start")
            end = start + timedelta(seconds=duration)
        if kind == "token_expiry" and start is None:
            raise FaultError("start: token_expiry needs a start (tokens issued before it expire)")
        if start and end and end <= start:
            raise FaultError("end: must be after start")
        with self._lock:
            self._counter += 1
            fault = Fault(definition.get("id") or f"F{self._counter:04d}", kind, start, end, dict(params))
            self._faults.append(fault)
            self._quiet = None
        return fault

    def remove(self, fault_id: str) -> bool:
        """Remove one fault; tell whether it existed."""
        with self._lock:
            before = len(self._faults)
            self._faults = [fault for fault in self._faults if fault.id != fault_id]
            self._quiet = None
            return len(self._faults) != before

    def scheduled(self) -> list[Fault]:
        """Return the scheduled faults."""
        with self._lock:
            return list(self._faults)

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def _active(self, kinds: tuple[str, ...], now: datetime, operation_id: str | None) -> list[Fault]:
        return [f for f in self._faults if f.kind in kinds and f.active(now, operation_id)]

    def on_request(self, now: datetime, operation_id: str) -> RequestFaults:
        """Decide the faults of one business request."""
        quiet = self._quiet  # one tuple, replaced whole: read without the lock while it holds
        if quiet is not None and (quiet[0] is None or quiet[0] <= now) and (quiet[1] is None or now < quiet[1]):
            return NO_REQUEST_FAULTS
        outage_retry_after: int | None = None
        throttle_retry_after: int | None = None
        token_expired_before: datetime | None = None
        latency_s = 0.0
        lose_response = False
        with self._lock:
            if self._quiet_at(now):
                return NO_REQUEST_FAULTS
            for fault in self._active(REQUEST_FAULTS, now, operation_id):
                params = fault.params
                if fault.kind == "outage":
                    remaining = (fault.end - now).total_seconds() if fault.end else 60.0
                    outage_retry_after = int(params.get("retry_after", max(1, math.ceil(min(remaining, 60)))))
                    self._count("outage")
                elif fault.kind == "throttle" and self._rng.random() < _probability(params):
                    throttle_retry_after = int(params.get("retry_after", 2))
                    self._count("throttle")
                elif fault.kind == "token_expiry":
                    token_expired_before = fault.start
                elif fault.kind == "latency":
                    latency_s += self._latency(params)
                    self._count("latency")
                elif fault.kind == "lost_response" and self._rng.random() < _probability(params):
                    lose_response = True
        return RequestFaults(outage_retry_after, throttle_retry_after, token_expired_before, latency_s, lose_response)

    def _latency(self, params: dict[str, Any]) -> float:
        distribution = params.get("distribution", "fixed")
        if distribution == "uniform":
            return self._rng.uniform(float(params.get("min_ms", 0)), float(params.get("max_ms", 1000))) / 1000
        if distribution == "lognormal":
            median = float(params.get("median_ms", 200))
            return self._rng.lognormvariate(math.log(median), float(params.get("sigma", 0.5))) / 1000
        return float(params.get("ms", 500)) / 1000

    def count_lost_response(self) -> None:
        """Record that a response was lost after its write committed."""
        with self._lock:
            self._count("lost_response")

    def count_token_expiry(self) -> None:
        """Record that a request was refused because its token expired."""
        with self._lock:
            self._count("token_expiry")

    def on_webhook(self, now: datetime) -> DeliveryPlan:
        """Decide how one webhook delivery goes."""
        plan = DeliveryPlan()
        with self._lock:
            for fault in self._active(WEBHOOK_FAULTS, now, None):
                params = fault.params
                if fault.kind == "webhook_drop" and self._rng.random() < _probability(params):
                    plan.drop = True
                    self._count("webhook_drop")
                elif fault.kind == "webhook_duplicate" and self._rng.random() < _probability(params):
                    plan.copies += int(params.get("copies", 1))
                    self._count("webhook_duplicate")
                elif fault.kind == "webhook_reorder" and self._rng.random() < _probability(params):
                    plan.delay_s += self._rng.uniform(0, float(params.get("max_delay_s", 30)))
                    self._count("webhook_reorder")
                elif fault.kind == "webhook_delay":
                    if "delay_s" in params:
                        plan.delay_s += float(params["delay_s"])
                    else:
                        plan.delay_s += self._rng.uniform(float(params.get("min_s", 1)), float(params.get("max_s", 60)))
                    self._count("webhook_delay")
        return plan
