"""Run a scenario end to end (the firm on the four systems with the real engine) for the scenario tests.

Also a command, so determinism can be checked across processes:

    python -m tests.scenario.simulate SCENARIO SEED [SEED ...]          # digests, one JSON line per seed
    python -m tests.scenario.simulate --kpis SCENARIO SEED [SEED ...]   # business KPIs, one JSON line per seed
    python -m tests.scenario.simulate --kpis --scale 0.15 --end 2026-12-31 full-year 42   # a smaller firm
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from harness.gc_pause import gc_paused
from harness.runner.flows import builtin_flows
from harness.runner.world import World, build_world
from scenarios.engine.config import Scenario, load
from scenarios.engine.firm import Firm, firm_start
from scenarios.engine.kpis import USD_PER
from simulators.common.admin import export_state

# Sync lag of a few hours is plenty for a firm's month and keeps idle feed polling cheap in tests.
TEST_POLL_INTERVAL_S = 4 * 3600.0
# An invoice still open this long before the period's end was left unpaid for good, not late.
UNPAID_TAIL_DAYS = 150


@dataclass
class Simulated:
    """A finished run: the world (systems, engine) and the firm (truth, memory)."""

    scenario: Scenario
    world: World
    firm: Firm

    def state(self, system: str) -> dict[str, Any]:
        """Return a system's state export (what `GET /admin/state` answers)."""
        return export_state(self.world.context(system))

    def records(self, system: str, collection: str) -> list[dict[str, Any]]:
        """Return one collection of a system's records."""
        records: list[dict[str, Any]] = self.world.context(system).store.export()[collection]
        return records

    def unpaid_tail_share(self) -> float:
        """Return what invoices dated over UNPAID_TAIL_DAYS before the period's end still owe, over all billing (USD).

        Every customer pays in the end: what is open at the end is the last months' billing, not a pile of
        invoices that a dropped or refused payment left open for good.
        """
        invoices = self.records("erp", "invoices")
        cutoff = self.scenario.end - timedelta(days=UNPAID_TAIL_DAYS)
        billed = sum((_usd(invoice, "total") for invoice in invoices), Decimal(0))
        tail = sum((_usd(invoice, "open_amount") for invoice in invoices
                    if date.fromisoformat(invoice["invoice_date"]) < cutoff), Decimal(0))
        return float(tail / billed) if billed else 0.0

    def digests(self) -> dict[str, str]:
        """Return the sha256 of the truth and of each system's state export."""
        found = {"truth": self.firm.truth.digest()}
        for system in sorted(self.world.apps):
            text = json.dumps(self.state(system), sort_keys=True, separators=(",", ":"))
            found[system] = hashlib.sha256(text.encode()).hexdigest()
        return found


def _usd(invoice: dict[str, Any], field: str) -> Decimal:
    return Decimal(invoice[field]) * USD_PER[invoice["currency"]]


def simulate(scenario: Scenario, *, seed: int | None = None, drain: bool = True) -> Simulated:
    """Run the firm over the scenario's period with the built-in engine, then let the engine drain."""
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=seed, params={**scenario.params, "seed": seed})
    with gc_paused():
        world = build_world(firm_start(scenario), flows=builtin_flows(), seed=scenario.seed,
                            poll_interval_s=TEST_POLL_INTERVAL_S)
        firm = Firm(world, scenario)
        firm.start()
        firm.run()
        if drain:
            world.drain(3 * 86400.0)
    return Simulated(scenario, world, firm)


def shrunk(name: str, scale: float, end: date) -> Scenario:
    """Return a library scenario with a smaller firm and a shorter period, its characteristics kept.

    What is per head stays per head: the pipeline (unless the scenario sets it outright, then it is
    scaled), hiring, attrition, contractors; retroactive corrections are scaled with the headcount.
    """
    scenario = load(name)
    params = dict(scenario.params)
    firm = dict(params["firm"])
    firm["legal_entities"] = {
        entity: {"headcount": {role: max(1, math.ceil(count * scale)) if count else 0
                               for role, count in shape["headcount"].items()}}
        for entity, shape in firm["legal_entities"].items()}
    params["firm"] = firm
    sales = dict(params["sales"])
    if sales.get("opportunities_per_week") is not None:
        sales["opportunities_per_week"] = sales["opportunities_per_week"] * scale
    params["sales"] = sales
    workforce = dict(params["workforce"])
    workforce["retro_corrections"] = max(3, round(workforce["retro_corrections"] * scale)) \
        if workforce["retro_corrections"] else 0
    params["workforce"] = workforce
    params["period"] = {"start": scenario.start.isoformat(), "end": end.isoformat()}
    return dataclasses.replace(scenario, end=end, params=params)


def main(argv: list[str]) -> None:
    """Print the digests (or the KPIs) of a scenario run with each seed given."""
    parser = argparse.ArgumentParser(prog="python -m tests.scenario.simulate")
    parser.add_argument("--kpis", action="store_true", help="print the business KPIs instead of the digests")
    parser.add_argument("--scale", type=float, default=None, help="run the scenario's firm at this size")
    parser.add_argument("--end", type=date.fromisoformat, default=None, help="with --scale: the period's last day")
    parser.add_argument("scenario")
    parser.add_argument("seeds", nargs="+", type=int)
    args = parser.parse_args(argv)
    kpis = args.kpis
    scenario = load(args.scenario)
    if args.scale is not None:
        scenario = shrunk(args.scenario, args.scale, args.end or scenario.end)
    for seed in args.seeds:
        run = simulate(scenario, seed=int(seed))
        if kpis:
            erp = run.state("erp")
            print(json.dumps({"seed": int(seed), **run.firm.kpis(erp).as_dict(),
                              "unpaid_tail_share": run.unpaid_tail_share()}, default=str), flush=True)
        else:
            print(json.dumps({"seed": int(seed), **run.digests()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
