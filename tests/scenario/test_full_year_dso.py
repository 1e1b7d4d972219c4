"""Realism over a year: full-year's DSO is in DOMAIN.md's range (35-70 days), measured on a tenth of the firm.

full-year itself takes about ten CPU minutes; its receivables depend on the year's shape (twelve
month-end outages, disputes, reversals, credit memos from reopened time and retroactive rate
corrections, customers on long terms), not on the firm's size. So the test runs full-year as it is
with a tenth of each role's headcount (the pipeline and hiring follow the headcount) and its
retroactive corrections scaled alike: about 100 people over the same year, some 40 s of CPU.
Utilization has its own test (another file), so each can be run and read alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from scenarios.engine.config import load
from scenarios.engine.kpis import USD_PER
from tests.scenario.simulate import Simulated, simulate

TENTH = """\
name: full-year-tenth
description: full-year with a tenth of its people, for its year-end KPIs.
extends: full-year
firm:
  legal_entities:
    US01: {headcount: {ANALYST: 8, CONSULTANT: 14, SENIOR_CONSULTANT: 10, MANAGER: 6, SENIOR_MANAGER: 3, PARTNER: 2}}
    UK01: {headcount: {ANALYST: 6, CONSULTANT: 9, SENIOR_CONSULTANT: 6, MANAGER: 4, SENIOR_MANAGER: 2, PARTNER: 1}}
    DE01: {headcount: {ANALYST: 5, CONSULTANT: 8, SENIOR_CONSULTANT: 6, MANAGER: 4, SENIOR_MANAGER: 1, PARTNER: 1}}
workforce: {retro_corrections: 6}
"""


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    path = tmp_path_factory.mktemp("scenarios") / "full-year-tenth.yaml"
    path.write_text(TENTH, encoding="utf-8")
    return simulate(load(str(path)))


def _usd(record: dict[str, Any], field: str) -> Decimal:
    return Decimal(record[field]) * USD_PER[record["currency"]]


@pytest.mark.slow
def test_full_year_dso_is_between_35_and_70_days(year: Simulated) -> None:
    assert year.scenario.end == date(2026, 12, 31)
    dso = year.firm.kpis(year.state("erp")).dso_days
    assert dso is not None and 35 <= dso <= 70, dso


@pytest.mark.slow
def test_no_tail_of_invoices_left_unpaid_grows_over_the_year(year: Simulated) -> None:
    # every customer pays in the end: what is still open at year end is the last months' billing, not a
    # pile of invoices that a dropped or refused payment left open for good
    invoices = year.records("erp", "invoices")
    old = [invoice for invoice in invoices if invoice["open_amount"] != "0.00"
           and date.fromisoformat(invoice["invoice_date"]) < year.scenario.end - timedelta(days=150)]
    billed = sum((_usd(invoice, "total") for invoice in invoices), Decimal(0))
    assert sum((_usd(invoice, "open_amount") for invoice in old), Decimal(0)) < Decimal("0.005") * billed, [
        (invoice["id"], invoice["invoice_date"], invoice["open_amount"]) for invoice in old]
