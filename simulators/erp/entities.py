"""Legal entities and tax codes: seeded reference data, read-only through the API."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.store import Store
from simulators.erp.tax import TAX_CODES

operations = Operations()

LEGAL_ENTITIES: tuple[dict[str, Any], ...] = (
    {"id": "US01", "name": "Firmsim Consulting Inc.", "country": "US", "currency": "USD",
     "tax_regime": "US_SALES_TAX", "tax_registration": "EIN 12-3456789", "standard_tax_code": "US_EXEMPT",
     "tax_rules": "Services exempt from sales tax, except in states that tax services by default "
                  "(HI 4 %, NM 5.125 %, SD 4.2 %, WV 6 %)."},
    {"id": "UK01", "name": "Firmsim Consulting Ltd", "country": "GB", "currency": "GBP",
     "tax_regime": "VAT", "tax_registration": "GB123456789", "standard_tax_code": "UK_STANDARD",
     "tax_rules": "UK VAT 20 % to UK customers; reverse charge (0 %) to VAT-registered business customers in "
                  "the EU; outside the scope (0 %) beyond the VAT area."},
    {"id": "DE01", "name": "Firmsim Beratung GmbH", "country": "DE", "currency": "EUR",
     "tax_regime": "VAT", "tax_registration": "DE123456789", "standard_tax_code": "DE_STANDARD",
     "tax_rules": "German VAT 19 % to German customers; reverse charge (0 %) to VAT-registered business "
                  "customers in other EU states and the UK; outside the scope (0 %) beyond the VAT area."},
)


def seed_reference_data(store: Store) -> None:
    """Seed the legal entities and tax codes every ERP starts with."""
    for entity in LEGAL_ENTITIES:
        store.seed("legal_entities", dict(entity))
    for code in TAX_CODES:
        store.seed("tax_codes", {**code, "legal_entities": list(code["legal_entities"])})


@operations("listLegalEntities")
def list_legal_entities(request: Request) -> Reply:
    """List the legal entities."""
    return request.page(request.store.all("legal_entities"))


@operations("getLegalEntity")
def get_legal_entity(request: Request) -> Reply:
    """Read a legal entity."""
    return ok(request.store.get("legal_entities", request.path["legal_entity_id"]))


@operations("listTaxCodes")
def list_tax_codes(request: Request) -> Reply:
    """List the tax codes, optionally those one entity uses."""
    entity = request.query.get("legal_entity")
    return request.page(request.store.where("tax_codes", lambda code: entity is None
                                            or entity in code["legal_entities"]))


@operations("getTaxCode")
def get_tax_code(request: Request) -> Reply:
    """Read a tax code."""
    return ok(request.store.get("tax_codes", request.path["tax_code_id"]))
