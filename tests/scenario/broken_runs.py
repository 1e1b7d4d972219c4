"""Small, deterministic runs of the harness for the broken-engine tests, each run once per module."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.oracle.model import InvariantResult
from harness.runner.flows import builtin_flows
from harness.runner.sim import simulate
from scenarios.engine.config import Scenario, from_params, load, resolve
from scenarios.engine.truth import Truth
from tests.scenario.broken_engines import Variant

POLL_INTERVAL_S = 3600.0
"""An hour of sync lag is well inside what the oracle allows (billing runs are days after the work) and
keeps idle feed polling, most of a small run's cost at the harness's 60 s, cheap."""
TEN_PEOPLE = {"ANALYST": 2, "CONSULTANT": 3, "SENIOR_CONSULTANT": 2, "MANAGER": 1, "SENIOR_MANAGER": 1, "PARTNER": 1}
POSTINGS = ["createBillableTransaction", "postBillableTransactionBatch", "reverseBillableTransaction"]


@dataclass(frozen=True)
class Setup:
    """A library scenario shrunk to one legal entity, with overrides, and the seed it runs with."""

    name: str
    library: str
    seed: int
    overrides: dict[str, Any]

    def scenario(self) -> Scenario:
        """Return the library scenario with the US01 entity only and the overrides merged in."""
        params = copy.deepcopy(load(self.library).params)
        params["firm"]["legal_entities"] = {"US01": params["firm"]["legal_entities"]["US01"]}
        _merge(params, copy.deepcopy(self.overrides))
        params["name"] = self.name
        return from_params(params, Path(resolve(self.library)))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


SHORT = Setup("broken-short", "baseline", 2, {
    "period": {"start": "2026-01-05", "end": "2026-02-06"},
    "firm": {"legal_entities": {"US01": {"headcount": TEN_PEOPLE}}},
    "sales": {"opportunities_per_week": 4},
    "change_orders": {"rate": 1.0, "distinct_rate": 0.0},
    "delivery": {"return_rate": 0.15, "reopen_rate": 0.15, "project_months": {"min": 1, "mode": 1, "max": 2}},
    "workforce": {"retro_corrections": 4},
    "bad_master_data": [{"kind": "unknown_practice", "count": 1, "fix_after_days": 2},
                        {"kind": "invalid_currency_for_entity", "count": 1, "fix_after_days": 2}],
    "faults": [{"kind": "lost_response", "system": "erp", "start": "0d", "duration": "60d",
                "params": {"probability": 0.3, "operations": POSTINGS}}],
})
# Invoices dated 31 January fall due on 2 March (the engine's 30-day terms) and are over 60 days
# overdue at the credit review of 4 May; customers take 70 +- 40 days to pay.
LONG = Setup("broken-long", "baseline", 1, {
    "period": {"start": "2026-01-19", "end": "2026-05-04"},
    "firm": {"legal_entities": {"US01": {"headcount": {**TEN_PEOPLE, "ANALYST": 1, "CONSULTANT": 2,
                                                                    "SENIOR_CONSULTANT": 1}}}},
    "sales": {"opportunities_per_week": 1.5},
    "finance": {"payment_days": {"mean": 70, "sd": 40}},
})
# LONG ended on 30 April, before May's billing run: the payments of mid- and late April are the last
# documents of their deals, so an engine that drops payment events leaves them unpaid in CRM and PSA
# (with May's run, its invoices would refresh every deal's status and hide the defect).
PAID = Setup("broken-paid", "baseline", 1, {**LONG.overrides, "period": {"start": "2026-01-19", "end": "2026-04-30"}})


@dataclass
class Outcome:
    """What a finished run left for the tests: the oracle's results, truth and the systems' state."""

    invariants: dict[str, InvariantResult]
    truth: Truth
    states: dict[str, dict[str, Any]]
    lost_responses: int

    def invariant(self, invariant_id: str) -> InvariantResult:
        """Return the result of one invariant."""
        return self.invariants[invariant_id]

    def records(self, system: str, collection: str) -> list[dict[str, Any]]:
        """Return one collection of a system's end state."""
        records: list[dict[str, Any]] = self.states[system]["records"].get(collection, [])
        return records


class Runs:
    """Run each (setup, variant, engine) once and keep what the tests read."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str, str], Outcome] = {}

    def __call__(self, setup: Setup, variant: Variant | None = None, engine: str = "builtin") -> Outcome:
        """Return the outcome of the setup on the built-in engine, a broken variant of it, or no engine."""
        key = (setup.name, variant.__name__ if variant else "", engine)
        if key not in self._done:
            flows = variant(builtin_flows()) if variant is not None else None
            run = simulate(setup.scenario(), seed=setup.seed, engine=engine, ledger_path=None, flows=flows,
                           poll_interval_s=POLL_INTERVAL_S)
            lost = run.world.context("erp").faults.injected.get("lost_response", 0)
            self._done[key] = Outcome({result.id: result for result in run.invariants}, run.truth, run.states, lost)
        return self._done[key]
