"""The ERP app factory: the finance system of record, built on the shared request pipeline."""

from __future__ import annotations

from typing import Any

from flask import Flask

from simulators.common.app import build_app
from simulators.common.store import Store
from simulators.erp import (
    balances,
    contracts,
    credit,
    customers,
    entities,
    fx,
    invoices,
    journals,
    milestones,
    payments,
    periods,
    progress,
    revenue_runs,
    runs,
    settlements,
    transactions,
)

PREFIXES = {
    "legal_entities": "LE",
    "tax_codes": "TAX",
    "ledgers": "LED",
    "fx_rates": "FX",
    "customers": "CUS",
    "contracts": "CON",
    "contract_versions": "CVR",
    "estimates": "EAC",
    "cost_actuals": "CAC",
    "billable_transactions": "BTX",
    "billing_runs": "BRN",
    "invoices": "INV",
    "credit_memos": "CM",
    "payments": "PAY",
    "revenue_runs": "RRN",
    "revenue_results": "RVR",
    "journal_entries": "JE",
    "contract_positions": "POS",
}

MODULES = (entities, customers, contracts, milestones, progress, transactions, runs, invoices, balances, periods,
           journals, fx, payments, credit, settlements, revenue_runs)


def seed(store: Store) -> None:
    """Seed what every ERP starts with: legal entities, tax codes, open ledgers and FX rates."""
    entities.seed_reference_data(store)
    periods.seed_ledgers(store)
    fx.seed_rates(store)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Return the ERP Flask app."""
    return build_app("erp", [module.operations for module in MODULES], config, PREFIXES, seeder=seed)
