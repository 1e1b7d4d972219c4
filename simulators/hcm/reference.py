"""HCM reference data and the small helpers every HCM resource module shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simulators.common.errors import ApiProblem, business_error, validation_error
from simulators.common.store import Record, Store

CENT = Decimal("0.01")
HOURS_QUANTUM = Decimal("0.01")
WORKING_DAYS_PER_WEEK = 5


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """A legal entity workers are employed by."""

    code: str
    currency: str
    country: str
    standard_week_hours: Decimal


LEGAL_ENTITIES: dict[str, LegalEntity] = {
    "US01": LegalEntity("US01", "USD", "US", Decimal("40")),
    "UK01": LegalEntity("UK01", "GBP", "GB", Decimal("37.5")),
    "DE01": LegalEntity("DE01", "EUR", "DE", Decimal("40")),
}


def money(value: Decimal) -> str:
    """Return an amount quantized to the cent (half-up) as a decimal string."""
    return str(value.quantize(CENT, ROUND_HALF_UP))


def hours(value: Decimal) -> str:
    """Return hours with two decimals as a decimal string."""
    return str(value.quantize(HOURS_QUANTUM, ROUND_HALF_UP))


def parse_date(raw: str, field: str) -> date:
    """Return the business date in a `YYYY-MM-DD` string, or raise a 400 naming the field."""
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as error:
        raise validation_error(field, f"expected a date YYYY-MM-DD, got {raw!r}") from error


def working_days(start: date, end: date) -> list[date]:
    """Return the Monday-to-Friday days from `start` to `end` inclusive."""
    every_day = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [day for day in every_day if day.weekday() < WORKING_DAYS_PER_WEEK]


def find_worker(store: Store, worker_id: str) -> Record:
    """Return a worker, or raise 404."""
    return store.get("workers", worker_id)


def invalid_effective_date(detail: str, field: str) -> ApiProblem:
    """Refuse a date that does not fit the worker's employment or history."""
    return business_error("invalid-effective-date", "Invalid effective date", detail, field=field)


def conflict(detail: str, field: str | None = None) -> ApiProblem:
    """Refuse a request that conflicts with a record that already exists."""
    return ApiProblem(409, "conflict", "Conflict", detail, field=field)


def employed_on(worker: Record, day: date) -> bool:
    """Tell whether a worker is employed on a day (current employment spell)."""
    if day < date.fromisoformat(worker["hire_date"]):
        return False
    termination = worker["termination_date"]
    return termination is None or day <= date.fromisoformat(termination)
