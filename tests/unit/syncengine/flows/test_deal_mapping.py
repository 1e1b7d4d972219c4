"""The deal side's pure parts: customer identity across accounts, the mapping tables and their errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from syncengine.domain.deal_rules import customer_of, normalise_name
from syncengine.domain.deals import Account
from syncengine.domain.errors import BusinessException
from syncengine.mapping.tables import DEFAULT_PATH, TablesError, default_tables, load_tables, parse_tables

SUFFIXES = default_tables().legal_suffixes


def account(account_id: str, name: str, *, tax_id: str | None = None, country: str = "GB",
            parent: str | None = None) -> Account:
    return Account(account_id=account_id, version=1, name=name, parent_account_id=parent, country=country,
                   us_state=None, tax_id=tax_id, currency="GBP", erp_customer_number=None)


@pytest.mark.parametrize(("name", "normalised"), [
    ("Northwind Logistics GmbH", "northwind logistics gmbh"),
    ("NORTHWIND LOGISTICS, G.m.b.H.", "northwind logistics gmbh"),
    ("Acme, Inc.", "acme inc"),
    ("Acme Incorporated", "acme inc"),
    ("Litware Limited", "litware ltd"),
    ("Fabrikam S.A.", "fabrikam sa"),
    ("SMITH & JONES", "smith and jones"),
    ("Ltd", "ltd"),
])
def test_company_names_compare_without_case_punctuation_or_spelling_of_the_legal_form(name: str,
                                                                                      normalised: str) -> None:
    assert normalise_name(name, SUFFIXES) == normalised


def test_two_companies_of_one_name_and_different_legal_forms_are_two_customers() -> None:
    # invoice-reversals seed 202: Davis Inc's deal was billed to Davis PLC's ERP customer (no tax ids).
    region = default_tables().region
    plc = customer_of((account("ACC-1", "Davis PLC", country="US"),), "US01", legal_suffixes=SUFFIXES,
                      region_of=region)
    inc = customer_of((account("ACC-2", "Davis Inc", country="US"),), "US01", legal_suffixes=SUFFIXES,
                      region_of=region)
    duplicate = customer_of((account("ACC-3", "DAVIS INC.", country="US"),), "US01", legal_suffixes=SUFFIXES,
                            region_of=region)
    assert plc.key != inc.key
    assert duplicate.key == inc.key == "customer:name:davis inc|US@US01"


def test_customer_identity_is_the_nearest_tax_id_up_the_hierarchy_else_name_and_country() -> None:
    parent = account("ACC-1", "Litware Ltd", tax_id="GB 123.456-789")
    child = account("ACC-2", "Litware Analytics", parent="ACC-1")
    orphan = account("ACC-3", "Litware Analytics", country="DE")

    billed = customer_of((child, parent), "UK01", legal_suffixes=SUFFIXES, region_of=default_tables().region)
    assert (billed.key, billed.name, billed.account_id, billed.region) == \
        ("customer:tax:GB123456789@UK01", "Litware Ltd", "ACC-1", "EMEA")
    assert customer_of((orphan,), "DE01", legal_suffixes=SUFFIXES, region_of=lambda _: "EMEA").key == \
        "customer:name:litware analytics|DE@DE01"


def test_legal_forms_may_be_listed_each_its_own_spelling() -> None:
    raw = raw_tables()
    raw["customers"]["legal_suffixes"] = ["Ltd", "plc"]
    assert parse_tables(raw, "deployment.yaml").legal_suffixes == {"ltd": "ltd", "plc": "plc"}


def test_packaged_tables_map_every_practice_billing_model_and_entity() -> None:
    tables = load_tables(DEFAULT_PATH)
    assert tables.practice("OPERATIONS").cost_center == "CC-4000"
    assert tables.billing("FIXED_FEE").revenue_policy == "COST_TO_COST"
    assert tables.erp_entity("UK01") == "UK01"
    with pytest.raises(BusinessException) as refused:
        tables.practice("CYBERSECURITY")
    assert refused.value.reason == "unknown-practice"


def raw_tables() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(("change", "field"), [
    (lambda raw: raw["practices"]["STRATEGY"].update(cost_center="cc 1000"), "practices.STRATEGY.cost_center"),
    (lambda raw: raw["billing_models"]["RETAINER"].update(revenue_policy="MONTHLY"),
     "billing_models.RETAINER.revenue_policy"),
    (lambda raw: raw["legal_entities"].update(FR01={}), "legal_entities.FR01"),
    (lambda raw: raw["planning"].update(fallback_cost_ratio="1.5"), "planning.fallback_cost_ratio"),
    (lambda raw: raw.pop("tax"), "tax"),
    (lambda raw: raw["customers"].update(legal_suffixes={"limited": ""}), "customers.legal_suffixes"),
    (lambda raw: raw["customers"].update(legal_suffixes="ltd"), "customers.legal_suffixes"),
])
def test_a_mistake_in_the_tables_names_the_file_and_the_field(change: Any, field: str) -> None:
    raw = raw_tables()
    change(raw)
    with pytest.raises(TablesError, match=rf"^deployment\.yaml: {field.replace('.', '[.]')}\b"):
        parse_tables(raw, "deployment.yaml")


def test_an_unreadable_tables_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "tables.yaml"
    broken.write_text("practices: [unclosed", encoding="utf-8")
    with pytest.raises(TablesError, match="not valid YAML"):
        load_tables(broken)
    with pytest.raises(TablesError, match="cannot read"):
        load_tables(tmp_path / "missing.yaml")
