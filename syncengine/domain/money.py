"""Money: Decimal quantized to the currency's minor unit with one rounding rule (ROUND_HALF_UP)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from syncengine.domain.errors import PoisonMessage

MINOR_UNITS: dict[str, int] = {"USD": 2, "GBP": 2, "EUR": 2, "CHF": 2, "CAD": 2, "AUD": 2, "JPY": 0}
ROUNDING = ROUND_HALF_UP
_MINOR_UNIT_STEPS = {currency: Decimal(1).scaleb(-places) for currency, places in MINOR_UNITS.items()}
"""Each currency's minor unit as a Decimal step (0.01, 1), made once: every amount read or written is
quantized, and building the step took most of that."""


def minor_unit(currency: str) -> int:
    """Return the number of decimal places of a currency (ISO 4217)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}; expected one of {', '.join(sorted(MINOR_UNITS))}") from None


def quantize(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round an amount to the currency's minor unit, half up (2.345 USD -> 2.35, -2.345 -> -2.35)."""
    step = _MINOR_UNIT_STEPS.get(currency)
    if step is None:
        step = Decimal(1).scaleb(-minor_unit(currency))
    return (amount if type(amount) is Decimal else Decimal(amount)).quantize(step, rounding=ROUNDING)


def parse_amount(text: object, currency: str, where: str = "amount") -> Decimal:
    """Read a decimal-string amount from an API payload; a float or garbage is a poison message."""
    if not isinstance(text, str):
        raise PoisonMessage("malformed-amount", f"{where}: expected a decimal string, got {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise PoisonMessage("malformed-amount", f"{where}: expected a decimal string, got {text!r}") from None
    if not value.is_finite():
        raise PoisonMessage("malformed-amount", f"{where}: expected a finite amount, got {text!r}")
    return quantize(value, currency)


def format_amount(amount: Decimal, currency: str) -> str:
    """Write an amount as the decimal string the APIs carry (`1250.00`)."""
    # A quantized amount's exponent is its currency's (-2 or 0), which str writes without an exponent
    # just as the `:f` format does, at a fifth of its cost.
    return str(quantize(amount, currency))
