"""The mapping tables a deployment team edits (tables.yaml): CRM codes to PSA and ERP codes.

    tables = default_tables()                     # tables.yaml, or the file FIRMSIM_MAPPING_TABLES names
    entity = tables.erp_entity("DE01")            # BusinessException unknown-legal-entity if absent

A mistake in the file is a `TablesError` naming the file, the field and what was expected; a code a
deal carries but the tables lack is a `BusinessException` (the deal goes to the exception queue).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from syncengine.domain.errors import BusinessException

TABLES_ENV = "FIRMSIM_MAPPING_TABLES"
DEFAULT_PATH = Path(__file__).with_name("tables.yaml")
BILLING_MODELS = ("FIXED_FEE", "TIME_AND_MATERIALS", "RETAINER", "CAPPED_TM")
REVENUE_POLICIES = ("RIGHT_TO_INVOICE", "COST_TO_COST", "POINT_IN_TIME", "STRAIGHT_LINE")
CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
ENTITY = re.compile(r"^[A-Z]{2}[0-9]{2}$")
DIMENSION = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


class TablesError(ValueError):
    """The mapping tables file is wrong; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class PracticeMapping:
    """What a CRM practice becomes: the PSA template's practice, the project type and its dimensions."""

    psa_practice: str
    project_type: str
    service_line: str
    cost_center: str


@dataclass(frozen=True, slots=True)
class BillingMapping:
    """What a CRM billing model becomes in the ERP."""

    billing_method: str
    revenue_policy: str


@dataclass(frozen=True, slots=True)
class MappingTables:
    """The loaded tables."""

    source: str
    legal_entities: Mapping[str, str]
    practices: Mapping[str, PracticeMapping]
    billing_models: Mapping[str, BillingMapping]
    regions: Mapping[str, str]
    default_region: str
    vat_area: frozenset[str]
    legal_suffixes: Mapping[str, str]
    """Each spelling of a legal form (`limited`) and its one spelling (`ltd`)."""
    payment_terms_days: int
    standard_hourly_cost: Mapping[str, Decimal]
    fallback_cost_ratio: Decimal

    def erp_entity(self, crm_code: str | None) -> str:
        """Return the ERP legal entity of a CRM delivering-entity code."""
        if crm_code is None or crm_code not in self.legal_entities:
            raise BusinessException("unknown-legal-entity", f"legal entity {crm_code!r} is not in the mapping "
                                    f"tables ({self.source}: legal_entities)")
        return self.legal_entities[crm_code]

    def practice(self, crm_practice: str | None) -> PracticeMapping:
        """Return the mapping of a CRM practice."""
        if crm_practice is None or crm_practice not in self.practices:
            raise BusinessException("unknown-practice", f"practice {crm_practice!r} is not in the mapping tables "
                                    f"({self.source}: practices); known: {', '.join(sorted(self.practices))}")
        return self.practices[crm_practice]

    def billing(self, billing_model: str | None) -> BillingMapping:
        """Return the ERP mapping of a CRM billing model."""
        if billing_model is None or billing_model not in self.billing_models:
            raise BusinessException("unknown-billing-model", f"billing model {billing_model!r} is not in the "
                                    f"mapping tables ({self.source}: billing_models)")
        return self.billing_models[billing_model]

    def region(self, country: str) -> str:
        """Return the sales region of a country."""
        return self.regions.get(country, self.default_region)


class _Reader:
    """Read fields of the raw YAML, naming the file and the field path on any mistake."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, expected: str, got: Any) -> TablesError:
        return TablesError(f"{self.source}: {where}: expected {expected}, got {got!r}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not value:
            raise self.fail(where, "a non-empty mapping", value)
        return value

    def text(self, value: Any, where: str, pattern: re.Pattern[str], expected: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(where, expected, value)
        return value

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(where, f"one of {', '.join(choices)}", value)
        return str(value)

    def decimal(self, value: Any, where: str) -> Decimal:
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount <= 0:
            raise self.fail(where, "a positive decimal string such as '85.00'", value)
        return amount

    def keys(self, section: dict[str, Any], where: str, pattern: re.Pattern[str], expected: str) -> None:
        for key in section:
            self.text(key, f"{where} key", pattern, expected)


def parse_tables(raw: Any, source: str) -> MappingTables:
    """Check raw tables (parsed YAML) and return them; raise TablesError naming the bad field."""
    read = _Reader(source)
    root = read.mapping(raw, "the file")
    if root.get("version") != 1:
        raise read.fail("version", "1", root.get("version"))
    entities = read.mapping(root.get("legal_entities"), "legal_entities")
    read.keys(entities, "legal_entities", ENTITY, "a CRM entity code like DE01")
    legal_entities = {code: read.text(read.mapping(row, f"legal_entities.{code}").get("erp_entity"),
                                      f"legal_entities.{code}.erp_entity", ENTITY, "an ERP entity code like DE01")
                      for code, row in entities.items()}
    practices: dict[str, PracticeMapping] = {}
    for code, row in read.mapping(root.get("practices"), "practices").items():
        where = f"practices.{code}"
        read.text(code, "practices key", CODE, "a practice code like DATA_AI")
        fields = read.mapping(row, where)
        practices[code] = PracticeMapping(
            psa_practice=read.text(fields.get("psa_practice"), f"{where}.psa_practice", CODE, "a PSA practice code"),
            project_type=read.text(fields.get("project_type"), f"{where}.project_type", CODE, "a project type code"),
            service_line=read.text(fields.get("service_line"), f"{where}.service_line", DIMENSION,
                                   "a dimension code like SL-OPS"),
            cost_center=read.text(fields.get("cost_center"), f"{where}.cost_center", DIMENSION,
                                  "a dimension code like CC-4000"))
    billing_models: dict[str, BillingMapping] = {}
    for model, row in read.mapping(root.get("billing_models"), "billing_models").items():
        where = f"billing_models.{model}"
        read.choice(model, "billing_models key", BILLING_MODELS)
        fields = read.mapping(row, where)
        billing_models[model] = BillingMapping(
            billing_method=read.choice(fields.get("billing_method"), f"{where}.billing_method", BILLING_MODELS),
            revenue_policy=read.choice(fields.get("revenue_policy"), f"{where}.revenue_policy", REVENUE_POLICIES))
    regions = dict(read.mapping(root.get("regions"), "regions"))
    default_region = read.text(regions.pop("default", None), "regions.default", CODE, "a region code like ROW")
    read.keys(regions, "regions", COUNTRY, "an ISO country code like DE")
    for country, region in regions.items():
        read.text(region, f"regions.{country}", CODE, "a region code like EMEA")
    vat_area = read.mapping(root.get("tax"), "tax").get("vat_area")
    if not isinstance(vat_area, list) or not vat_area:
        raise read.fail("tax.vat_area", "a list of country codes", vat_area)
    for index, country in enumerate(vat_area):
        read.text(country, f"tax.vat_area[{index}]", COUNTRY, "an ISO country code")
    customers = read.mapping(root.get("customers"), "customers")
    suffixes = _legal_forms(customers.get("legal_suffixes"), read)
    terms = customers.get("payment_terms_days")
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= 365:
        raise read.fail("customers.payment_terms_days", "an integer from 0 to 365", terms)
    planning = read.mapping(root.get("planning"), "planning")
    hourly = read.mapping(planning.get("standard_hourly_cost"), "planning.standard_hourly_cost")
    read.keys(hourly, "planning.standard_hourly_cost", CURRENCY, "a currency code like EUR")
    ratio = read.decimal(planning.get("fallback_cost_ratio"), "planning.fallback_cost_ratio")
    if ratio > 1:
        raise read.fail("planning.fallback_cost_ratio", "a share of the price from 0 to 1", str(ratio))
    return MappingTables(
        source=source, legal_entities=legal_entities, practices=practices, billing_models=billing_models,
        regions=regions, default_region=default_region, vat_area=frozenset(vat_area),
        legal_suffixes=suffixes, payment_terms_days=terms,
        standard_hourly_cost={currency: read.decimal(cost, f"planning.standard_hourly_cost.{currency}")
                              for currency, cost in hourly.items()},
        fallback_cost_ratio=ratio)


def _legal_forms(value: Any, read: _Reader) -> dict[str, str]:
    """Read `customers.legal_suffixes`: a list of legal forms, each its own spelling, or a mapping of
    spellings to their one spelling (`limited: ltd`)."""
    where = "customers.legal_suffixes"
    pairs = list(value.items()) if isinstance(value, dict) else \
        [(word, word) for word in value] if isinstance(value, list) else []
    if not pairs or not all(isinstance(word, str) and word.strip() and isinstance(form, str) and form.strip()
                            for word, form in pairs):
        raise read.fail(where, "a list of words or a mapping of spellings to one spelling (limited: ltd)", value)
    return {word.strip().casefold(): form.strip().casefold() for word, form in pairs}


def load_tables(path: str | Path) -> MappingTables:
    """Read and check a tables file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise TablesError(f"{source}: cannot read the mapping tables ({error.strerror or error})") from error
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TablesError(f"{source}: not valid YAML ({error})") from error
    return parse_tables(raw, source)


@lru_cache(maxsize=1)
def default_tables() -> MappingTables:
    """Return the deployment's tables: the file FIRMSIM_MAPPING_TABLES names, else the packaged one."""
    return load_tables(os.environ.get(TABLES_ENV) or DEFAULT_PATH)
