"""Accounting periods (calendar months, "YYYY-MM") and period close.

Close is sequential, as in real ERPs: periods are closed one after the other, and everything up to
the last closed period is closed. A posting dated in a closed period is not refused: it lands on the
first day of the first open period and the entry says so (NetSuite's "post in the next open period").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from simulators.erp.money import period_of

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """A malformed period, or a close/reopen out of sequence."""


__all__ = ["PeriodError", "Periods", "Posting", "first_day", "next_period", "parse_period", "period_of",
           "previous_period"]


def parse_period(period: str) -> tuple[int, int]:
    """Return (year, month) of a period "YYYY-MM", or raise PeriodError naming the value."""
    match = _PERIOD.match(period)
    if match is None:
        raise PeriodError(f"period {period!r} is not of the form YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def next_period(period: str) -> str:
    """Return the period after `period`."""
    year, month = parse_period(period)
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def previous_period(period: str) -> str:
    """Return the period before `period`."""
    year, month = parse_period(period)
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def first_day(period: str) -> date:
    """Return the first day of `period`."""
    year, month = parse_period(period)
    return date(year, month, 1)


@dataclass(frozen=True, slots=True)
class Posting:
    """Where a business event dated `original_date` is posted, and why if it moved."""

    original_date: date
    posting_date: date
    posted_period: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Periods:
    """The close status of one ledger (one legal entity): every period up to `closed_through` is closed."""

    closed_through: str | None = None

    def __post_init__(self) -> None:
        if self.closed_through is not None:
            parse_period(self.closed_through)

    def is_closed(self, period: str) -> bool:
        """Tell whether `period` is closed."""
        parse_period(period)
        return self.closed_through is not None and period <= self.closed_through

    def first_open(self) -> str | None:
        """Return the first open period, or None when nothing has been closed yet (all are open)."""
        return None if self.closed_through is None else next_period(self.closed_through)

    def close(self, period: str) -> Periods:
        """Return the periods with `period` closed; it must be the first open period (or the first close)."""
        parse_period(period)
        if self.closed_through is not None:
            expected = next_period(self.closed_through)
            if period <= self.closed_through:
                raise PeriodError(f"period {period} is already closed (closed through {self.closed_through})")
            if period != expected:
                raise PeriodError(f"cannot close {period} before {expected}: periods close in order")
        return Periods(closed_through=period)

    def reopen(self, period: str) -> Periods:
        """Return the periods with `period` reopened; only the last closed period can be reopened."""
        parse_period(period)
        if self.closed_through != period:
            raise PeriodError(
                f"cannot reopen {period}: only the last closed period ({self.closed_through}) can be reopened"
            )
        return Periods(closed_through=previous_period(period))

    def posting_for(self, original_date: date) -> Posting:
        """Return where an event dated `original_date` posts: its own period, or the next open one."""
        period = period_of(original_date)
        if not self.is_closed(period):
            return Posting(original_date, original_date, period, None)
        target = next_period(self.closed_through or period)
        note = (
            f"original date {original_date.isoformat()} falls in closed period {period}; "
            f"posted on {first_day(target).isoformat()} in period {target}"
        )
        return Posting(original_date, first_day(target), target, note)
