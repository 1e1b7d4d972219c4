"""Read the fields of an API record (an event's data or a response body) with clear failures.

A field that is missing or of the wrong type makes the record unusable: a `PoisonMessage` naming
the record and the field, so the message is dead-lettered rather than half-applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from syncengine.domain.errors import PoisonMessage
from syncengine.domain.money import format_amount, parse_amount

MALFORMED = "malformed-record"


class Fields:
    """One record's fields, read by type."""

    def __init__(self, record: Any, where: str) -> None:
        if not isinstance(record, Mapping):
            raise PoisonMessage(MALFORMED, f"{where}: expected an object, got {type(record).__name__}")
        self.record = record
        self.where = where

    def _fail(self, name: str, expected: str) -> PoisonMessage:
        return PoisonMessage(MALFORMED, f"{self.where}: {name} must be {expected}, got {self.record.get(name)!r}")

    def has(self, name: str) -> bool:
        """Tell whether the field is present and not null."""
        return self.record.get(name) is not None

    def text(self, name: str) -> str:
        """Return a required non-empty string."""
        value = self.record.get(name)
        if not isinstance(value, str) or not value:
            raise self._fail(name, "a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        """Return a string or None."""
        return self.text(name) if self.record.get(name) not in (None, "") else None

    def integer(self, name: str) -> int:
        """Return a required integer."""
        value = self.record.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(name, "an integer")
        return value

    def optional_integer(self, name: str) -> int | None:
        """Return an integer or None."""
        return None if self.record.get(name) is None else self.integer(name)

    def boolean(self, name: str) -> bool:
        """Return a required boolean."""
        value = self.record.get(name)
        if not isinstance(value, bool):
            raise self._fail(name, "true or false")
        return value

    def day(self, name: str) -> date:
        """Return a required business date (YYYY-MM-DD)."""
        value = self.record.get(name)
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self._fail(name, "a date (YYYY-MM-DD)")

    def optional_day(self, name: str) -> date | None:
        """Return a business date or None."""
        return None if self.record.get(name) is None else self.day(name)

    def amount(self, name: str, currency: str) -> Decimal:
        """Return a required money amount (decimal string), quantized to the currency."""
        return parse_amount(self.record.get(name), currency, f"{self.where}: {name}")

    def optional_amount(self, name: str, currency: str) -> Decimal | None:
        """Return a money amount or None."""
        return None if self.record.get(name) is None else self.amount(name, currency)

    def optional_decimal(self, name: str) -> Decimal | None:
        """Return a decimal number (hours) or None."""
        value = self.record.get(name)
        if value is None:
            return None
        try:
            number = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise self._fail(name, "a decimal string")
        return number

    def items(self, name: str) -> list[Fields]:
        """Return a list of objects (missing or null reads as empty)."""
        value = self.record.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(name, "a list")
        return [Fields(item, f"{self.where}: {name}[{index}]") for index, item in enumerate(value)]

    def optional_record(self, name: str) -> Fields | None:
        """Return a nested object or None."""
        value = self.record.get(name)
        return None if value is None else Fields(value, f"{self.where}: {name}")


def amount_text(amount: Decimal, currency: str) -> str:
    """Write a money amount as the APIs carry it (`1250.00`)."""
    return format_amount(amount, currency)


def hours_text(hours: Decimal) -> str:
    """Write hours with two places (`960.00`)."""
    return f"{hours.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"


def digest(body: Any) -> str:
    """Return a short stable digest of a request body (for idempotency keys that follow the body)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
