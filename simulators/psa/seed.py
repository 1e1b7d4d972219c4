"""What a fresh PSA holds: one project template per practice and a default rate card per currency."""

from __future__ import annotations

from typing import Any

from simulators.common.store import Store
from simulators.psa.values import ROLES, money

TEMPLATES: tuple[dict[str, Any], ...] = (
    {"practice": "STRATEGY", "name": "Strategy engagement", "default_service_line": "SL-STR",
     "default_cost_center": "CC-1000",
     "description": "Diagnostic-led strategy work: mobilise, diagnose, recommend.",
     "tasks": (("1", "Mobilisation", True), ("2", "Diagnostic", True), ("3", "Recommendations", True),
               ("4", "Engagement management", True))},
    {"practice": "TECHNOLOGY", "name": "Technology implementation", "default_service_line": "SL-TEC",
     "default_cost_center": "CC-2000",
     "description": "Design, build and deploy a system, with hypercare.",
     "tasks": (("1", "Discovery", True), ("2", "Design", True), ("3", "Build", True), ("4", "Test and deploy", True),
               ("5", "Hypercare", True))},
    {"practice": "DATA_AI", "name": "Data and AI delivery", "default_service_line": "SL-DAI",
     "default_cost_center": "CC-3000",
     "description": "From data assessment to a model in production.",
     "tasks": (("1", "Data assessment", True), ("2", "Data engineering", True), ("3", "Model development", True),
               ("4", "Deployment and MLOps", True))},
    {"practice": "OPERATIONS", "name": "Operations improvement", "default_service_line": "SL-OPS",
     "default_cost_center": "CC-4000",
     "description": "Assess, redesign and implement operating processes.",
     "tasks": (("1", "Current-state assessment", True), ("2", "Process redesign", True),
               ("3", "Implementation support", True), ("4", "Benefits tracking", False))},
)

# Hourly bill rates by role (ANALYST ... PARTNER) for 2025 and from 2026 (about a 4% rise).
DEFAULT_RATES: dict[str, dict[str, tuple[str, ...]]] = {
    "USD": {"2025-01-01": ("150", "190", "230", "275", "325", "420"),
            "2026-01-01": ("156", "198", "240", "286", "338", "437")},
    "GBP": {"2025-01-01": ("115", "145", "175", "210", "250", "320"),
            "2026-01-01": ("120", "151", "182", "218", "260", "333")},
    "EUR": {"2025-01-01": ("135", "170", "205", "245", "290", "375"),
            "2026-01-01": ("140", "177", "213", "255", "302", "390")},
}


def seed(store: Store) -> None:
    """Insert the templates and the default rate cards."""
    for template in TEMPLATES:
        tasks = [{"code": code, "name": name, "billable": billable} for code, name, billable in template["tasks"]]
        store.insert("templates", {**template, "tasks": tasks})
    for currency, by_date in DEFAULT_RATES.items():
        rates = [{"role": role, "bill_rate": money(table[index]), "effective_from": effective_from}
                 for index, role in enumerate(ROLES) for effective_from, table in sorted(by_date.items())]
        store.insert("rate_cards", {"name": f"Standard rates {currency}", "currency": currency, "project_id": None,
                                    "contract_version": None, "rates": rates})
