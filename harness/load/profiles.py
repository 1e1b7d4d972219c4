"""Load profiles: how the offered rate moves over a run, and the mix of business events at each moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EVENT_KINDS = ("time_approval", "expense_approval", "invoice", "payment")

Mix = dict[str, float]


@dataclass(frozen=True, slots=True)
class Profile:
    """A named load shape: rate multiplier and event mix as functions of the run's elapsed fraction."""

    name: str
    description: str
    multiplier: Callable[[float], float]
    mix: Callable[[float], Mix]


STEADY_MIX: Mix = {"time_approval": 0.6, "expense_approval": 0.25, "invoice": 0.05, "payment": 0.1}
MONTH_MIX: Mix = {"time_approval": 0.65, "expense_approval": 0.3, "invoice": 0.0, "payment": 0.05}
CLOSE_MIX: Mix = {"time_approval": 0.45, "expense_approval": 0.2, "invoice": 0.15, "payment": 0.2}


def _steady(_: float) -> float:
    return 1.0


def _month_end(fraction: float) -> float:
    """Quiet weeks at half the rate, a surge to 2.5x over the last days, then back to the rate."""
    if fraction < 0.6:
        return 0.5
    if fraction < 0.75:
        return 0.5 + (fraction - 0.6) / 0.15 * 2.0
    if fraction < 0.9:
        return 2.5
    return 1.0


def _month_end_mix(fraction: float) -> Mix:
    return MONTH_MIX if fraction < 0.6 else CLOSE_MIX


PROFILES: dict[str, Profile] = {
    "steady": Profile("steady", "a constant rate: time and expense approvals, some invoices and payments",
                      _steady, lambda _: STEADY_MIX),
    "month-end": Profile("month-end", "half the rate for most of the month, then a 2.5x close surge heavy in "
                         "approvals, billing runs and payments", _month_end, _month_end_mix),
}


def mean_multiplier(profile: Profile, steps: int = 1000) -> float:
    """Return the profile's average rate multiplier over a run."""
    return sum(profile.multiplier((index + 0.5) / steps) for index in range(steps)) / steps
