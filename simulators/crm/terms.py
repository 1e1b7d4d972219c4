"""Deal terms of an opportunity: money and hours, stages, and the rules that keep terms consistent.

Money and hours travel as decimal strings and are quantized to 2 places with ROUND_HALF_UP.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simulators.common.errors import ApiProblem, business_error
from simulators.common.store import Record

CENT = Decimal("0.01")
# The largest amount the API's Amount type carries (15 integer digits).
MAX_AMOUNT = Decimal("999999999999999.99")

OPEN_STAGES = ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION")
SOW_STAGES = ("PROPOSAL", "NEGOTIATION")
PROBABILITY = {"PROSPECTING": 10, "QUALIFICATION": 20, "PROPOSAL": 50, "NEGOTIATION": 75,
               "CLOSED_WON": 100, "CLOSED_LOST": 0}

FIXED_FEE = "FIXED_FEE"
TIME_AND_MATERIALS = "TIME_AND_MATERIALS"
RETAINER = "RETAINER"
CAPPED_TM = "CAPPED_TM"

# Terms that freeze once the SOW is submitted; name, description and close date stay editable.
TERM_FIELDS = ("amount", "currency", "billing_model", "legal_entity", "practice", "service_start", "service_end",
               "estimated_hours", "billing_milestones", "monthly_fee", "cap_amount", "rate_card")
# Terms a SOW cannot be submitted without.
REQUIRED_TERMS = ("amount", "billing_model", "legal_entity", "practice", "service_start", "service_end",
                  "estimated_hours")
MODEL_TERMS: dict[str, tuple[str, ...]] = {
    FIXED_FEE: ("billing_milestones",),
    TIME_AND_MATERIALS: ("rate_card",),
    RETAINER: ("monthly_fee",),
    CAPPED_TM: ("cap_amount", "rate_card"),
}
# The billing models each model-specific term belongs to.
FIELD_MODELS: dict[str, tuple[str, ...]] = {
    "billing_milestones": (FIXED_FEE,),
    "monthly_fee": (RETAINER,),
    "cap_amount": (CAPPED_TM,),
    "rate_card": (TIME_AND_MATERIALS, CAPPED_TM),
}


def quantize(value: Decimal) -> Decimal:
    """Round to 2 places, half up, without a negative zero."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else Decimal("0.00")


def decimal(text: str) -> Decimal:
    """Read a decimal string the spec has already validated, quantized."""
    return quantize(Decimal(text))


def decimal_text(value: Decimal) -> str:
    """Write a decimal as the API carries it ("1250.00")."""
    return str(quantize(value))


def canonical(text: str) -> str:
    """Normalise a decimal string ("1250.5" -> "1250.50")."""
    return decimal_text(Decimal(text))


def optional_decimal(text: str | None) -> str | None:
    """Normalise an optional decimal string ("1250.5" -> "1250.50")."""
    return None if text is None else decimal_text(Decimal(text))


def total(amounts: Iterable[str]) -> Decimal:
    """Sum decimal strings."""
    return quantize(sum((Decimal(amount) for amount in amounts), Decimal(0)))


def normalize_milestones(milestones: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return milestones with their amounts quantized, in the order given."""
    return [{"name": m["name"], "amount": decimal_text(Decimal(m["amount"])), "due_date": m["due_date"],
             "requires_acceptance": m["requires_acceptance"]} for m in milestones]


def normalize_rate_card(rate_card: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rate card with its rates quantized, in the order given."""
    return [{"role": line["role"], "hourly_rate": decimal_text(Decimal(line["hourly_rate"]))} for line in rate_card]


def normalize_terms(body: dict[str, Any]) -> dict[str, Any]:
    """Return the term fields of a request body, normalised (money quantized, lists copied)."""
    terms: dict[str, Any] = {}
    for name in ("amount", "monthly_fee", "cap_amount", "estimated_hours"):
        if name in body:
            terms[name] = optional_decimal(body[name])
    for name in ("currency", "billing_model", "legal_entity", "practice", "service_start", "service_end"):
        if name in body:
            terms[name] = body[name]
    if "billing_milestones" in body:
        terms["billing_milestones"] = normalize_milestones(body["billing_milestones"])
    if "rate_card" in body:
        terms["rate_card"] = normalize_rate_card(body["rate_card"])
    return terms


def parse_date(value: str, field: str) -> date:
    """Read a business date the spec has validated; refuse one Python cannot represent."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise inconsistent(field, f"{field} {value!r} is not a calendar date this system can hold") from error


def inconsistent(field: str, message: str) -> ApiProblem:
    """Refuse terms that contradict each other or the billing model."""
    return business_error("inconsistent-deal-terms", "Inconsistent deal terms", message, field=field,
                          errors=[{"field": field, "message": message}])


def check_service_period(start: str | None, end: str | None, end_field: str = "service_end") -> None:
    """Refuse a service period that ends before it starts."""
    if start is not None and end is not None and parse_date(end, end_field) < parse_date(start, "service_start"):
        raise inconsistent(end_field, f"{end_field} {end} is before service_start {start}")


def check_terms_fit(opportunity: Record) -> None:
    """Refuse model-specific terms on the wrong billing model, duplicate rates, a reversed service period."""
    model = opportunity.get("billing_model")
    for field, models in FIELD_MODELS.items():
        value = opportunity.get(field)
        present = bool(value) if isinstance(value, list) else value is not None
        if present and model not in models:
            raise inconsistent(field, f"{field} applies only to {' and '.join(models)} deals, "
                                      f"not to {model or 'a deal without a billing model'}")
    roles = [line["role"] for line in opportunity.get("rate_card") or []]
    duplicates = sorted({role for role in roles if roles.count(role) > 1})
    if duplicates:
        raise inconsistent("rate_card", f"the rate card has more than one rate for {', '.join(duplicates)}")
    check_service_period(opportunity.get("service_start"), opportunity.get("service_end"))


def check_terms_complete(opportunity: Record) -> None:
    """Refuse a deal whose terms cannot make a contract: missing terms, milestones not adding up."""
    model = opportunity.get("billing_model")
    required = list(REQUIRED_TERMS) + list(MODEL_TERMS.get(model or "", ()))
    missing = [field for field in required if opportunity.get(field) in (None, [])]
    if missing:
        raise business_error("incomplete-deal-terms", "Incomplete deal terms",
                             f"Opportunity {opportunity['id']} lacks {', '.join(missing)}",
                             field=missing[0], errors=[{"field": field, "message": "required before the SOW"}
                                                       for field in missing])
    check_terms_fit(opportunity)
    if model == FIXED_FEE:
        scheduled = total(m["amount"] for m in opportunity["billing_milestones"])
        if scheduled != decimal(opportunity["amount"]):
            raise inconsistent("billing_milestones", f"the milestones add up to {decimal_text(scheduled)}, "
                                                     f"not the amount {opportunity['amount']}")
