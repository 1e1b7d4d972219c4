"""Value helpers of the PSA: money and hours as decimal strings, business dates, reference lookups."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simulators.common.errors import ApiProblem, business_error
from simulators.common.store import Record, Store

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PRACTICES = ("STRATEGY", "TECHNOLOGY", "DATA_AI", "OPERATIONS")
ENTITY_CURRENCY = {"US01": "USD", "UK01": "GBP", "DE01": "EUR"}
ROLES = ("ANALYST", "CONSULTANT", "SENIOR_CONSULTANT", "MANAGER", "SENIOR_MANAGER", "PARTNER")


def cents(value: Decimal | str) -> Decimal:
    """Quantize to cents, rounding half up (the one rounding rule of firmsim)."""
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def money(value: Decimal | str) -> str:
    """Return an amount as a decimal string with two places."""
    return str(cents(value))


def day(value: str) -> date:
    """Return the business date of an ISO date string (already validated by the spec)."""
    return date.fromisoformat(value)


def shift(on: date, days: int) -> date | None:
    """Return `on` moved by `days`, or None past the calendar's ends (year 1 or 9999)."""
    try:
        return on + timedelta(days=days)
    except OverflowError:
        return None


def find_referenced(store: Store, collection: str, record_id: str, field: str) -> Record:
    """Return a record named in a request body, or refuse with 404 naming the field."""
    record = store.find(collection, record_id)
    if record is None:
        noun = collection.rstrip("s").replace("_", " ")
        raise ApiProblem(404, "not-found", "Not found", f"{field}: no {noun} with id {record_id!r}", field=field)
    return record


def check_practice(practice: str) -> None:
    """Refuse a practice that has no project template."""
    if practice not in PRACTICES:
        raise business_error("unknown-practice", "Unknown practice",
                             f"practice {practice!r} has no project template; expected one of {', '.join(PRACTICES)}",
                             field="practice")


def check_entity_currency(legal_entity: str, currency: str) -> None:
    """Refuse a currency that is not the legal entity's."""
    expected = ENTITY_CURRENCY[legal_entity]
    if currency != expected:
        raise business_error("currency-not-allowed", "Currency not allowed",
                             f"legal entity {legal_entity} books in {expected}, not {currency}", field="currency")


def check_date_order(start: date, end: date, start_field: str, end_field: str) -> None:
    """Refuse an end date before its start date."""
    if end < start:
        raise business_error("invalid-dates", "Invalid dates",
                             f"{end_field} {end.isoformat()} is before {start_field} {start.isoformat()}",
                             field=end_field)
