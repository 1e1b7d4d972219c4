"""The PSA mock: projects, WBS, milestones, resources, rate cards, assignments, time and expenses."""

from __future__ import annotations

from typing import Any

from flask import Flask

from simulators.common.app import build_app

PREFIXES = {
    "templates": "TPL",
    "projects": "PRJ",
    "tasks": "TSK",
    "milestones": "MIL",
    "resources": "RES",
    "rate_cards": "RTC",
    "assignments": "ASG",
    "time_entries": "TIM",
    "expenses": "EXP",
    "cost_ledgers": "CLG",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Return the PSA app (in-memory, seeded with templates and default rate cards)."""
    from simulators.psa import (
        assignments,
        cost_ledger,
        expenses,
        milestones,
        project_finance,
        projects,
        rate_cards,
        resources,
        tasks,
        templates,
        time_entries,
        timesheets,
    )
    from simulators.psa.seed import seed

    modules = [templates, projects, project_finance, cost_ledger, tasks, milestones, resources, rate_cards,
               assignments, time_entries, timesheets, expenses]
    return build_app("psa", [module.operations for module in modules], config, PREFIXES, seed)
