"""Tax determination, pure: which tax code an entity applies to a customer, and a line's tax.

UK01 charges UK VAT at 20 % and DE01 German VAT at 19 % to domestic customers. Business services
to a customer in another VAT country (EU member state or the UK) are supplied where the customer
belongs and reverse-charged (0 %, with a note), which needs the customer's tax registration; a
customer outside the VAT area is outside the scope (0 %). US01 services are exempt from sales tax
except in the states that tax services by default (HI, NM, SD, WV).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulators.erp.money import money

VAT_AREA = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})

REVERSE_CHARGE_NOTE = ("Reverse charge: the customer accounts for the VAT on these services "
                       "(EU VAT Directive Art. 196 / UK VATA 1994 s8).")
OUTSIDE_SCOPE_NOTE = "Outside the scope of VAT: services supplied where the customer belongs."

TAX_CODES: tuple[dict[str, Any], ...] = (
    {"id": "UK_STANDARD", "name": "UK VAT standard rate", "kind": "STANDARD", "rate_percent": "20",
     "legal_entities": ["UK01"], "us_state": None, "invoice_note": None},
    {"id": "DE_STANDARD", "name": "German VAT standard rate (Regelsteuersatz)", "kind": "STANDARD",
     "rate_percent": "19", "legal_entities": ["DE01"], "us_state": None, "invoice_note": None},
    {"id": "REVERSE_CHARGE", "name": "Cross-border B2B services, reverse charge", "kind": "REVERSE_CHARGE",
     "rate_percent": "0", "legal_entities": ["DE01", "UK01"], "us_state": None,
     "invoice_note": REVERSE_CHARGE_NOTE},
    {"id": "OUTSIDE_SCOPE", "name": "Services to a customer outside the VAT area", "kind": "OUTSIDE_SCOPE",
     "rate_percent": "0", "legal_entities": ["DE01", "UK01"], "us_state": None, "invoice_note": OUTSIDE_SCOPE_NOTE},
    {"id": "US_EXEMPT", "name": "US services exempt from sales tax", "kind": "EXEMPT", "rate_percent": "0",
     "legal_entities": ["US01"], "us_state": None, "invoice_note": None},
    {"id": "US_HI_GET", "name": "Hawaii general excise tax on services", "kind": "STATE_SERVICE_TAX",
     "rate_percent": "4", "legal_entities": ["US01"], "us_state": "HI", "invoice_note": None},
    {"id": "US_NM_GRT", "name": "New Mexico gross receipts tax on services", "kind": "STATE_SERVICE_TAX",
     "rate_percent": "5.125", "legal_entities": ["US01"], "us_state": "NM", "invoice_note": None},
    {"id": "US_SD_SALES", "name": "South Dakota sales tax on services", "kind": "STATE_SERVICE_TAX",
     "rate_percent": "4.2", "legal_entities": ["US01"], "us_state": "SD", "invoice_note": None},
    {"id": "US_WV_SALES", "name": "West Virginia sales tax on services", "kind": "STATE_SERVICE_TAX",
     "rate_percent": "6", "legal_entities": ["US01"], "us_state": "WV", "invoice_note": None},
)

_BY_ID = {code["id"]: code for code in TAX_CODES}
STATE_SERVICE_CODES = {code["us_state"]: code["id"] for code in TAX_CODES if code["us_state"]}
STANDARD_CODES = {"UK01": "UK_STANDARD", "DE01": "DE_STANDARD", "US01": "US_EXEMPT"}


class MissingTaxRegistration(Exception):
    """The customer needs a tax registration for this entity's invoices and has none."""


@dataclass(frozen=True, slots=True)
class TaxTreatment:
    """The tax code an invoice applies, its rate and the note it prints."""

    code: str
    rate_percent: Decimal
    note: str | None


@functools.cache  # a handful of fixed codes, asked for by every posted transaction and invoice line
def _treatment(code_id: str) -> TaxTreatment:
    code = _BY_ID[code_id]
    return TaxTreatment(code_id, Decimal(code["rate_percent"]), code["invoice_note"])


def needs_registration(entity: dict[str, Any], customer: dict[str, Any]) -> bool:
    """Tell whether invoices from `entity` to `customer` need the customer's tax registration."""
    return (entity["tax_regime"] == "VAT" and customer["country"] != entity["country"]
            and customer["country"] in VAT_AREA)


def treatment(entity: dict[str, Any], customer: dict[str, Any]) -> TaxTreatment:
    """Return the tax treatment of services from `entity` to `customer`."""
    if entity["tax_regime"] == "US_SALES_TAX":
        if customer["country"] == "US" and customer.get("us_state") in STATE_SERVICE_CODES:
            return _treatment(STATE_SERVICE_CODES[customer["us_state"]])
        return _treatment("US_EXEMPT")
    if customer["country"] == entity["country"]:
        return _treatment(STANDARD_CODES[entity["id"]])
    if customer["country"] not in VAT_AREA:
        return _treatment("OUTSIDE_SCOPE")
    if not customer.get("tax_registration"):
        raise MissingTaxRegistration(
            f"Customer {customer['id']} ({customer['country']}) has no tax registration; {entity['id']} "
            f"needs one to reverse-charge cross-border services")
    return _treatment("REVERSE_CHARGE")


def line_tax(net: Decimal, rate_percent: Decimal) -> Decimal:
    """Return a line's tax: net × rate, rounded half up to cents."""
    return money(net * rate_percent / Decimal(100))
