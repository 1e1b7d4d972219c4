"""Run a scenario end to end (the firm on the four systems with the real engine) for the scenario tests.

Also a command, so determinism can be checked across processes:

    python -m tests.scenario.simulate SCENARIO SEED [SEED ...]          # digests, one JSON line per seed
    python -m tests.scenario.simulate --kpis SCENARIO SEED [SEED ...]   # business KPIs, one JSON line per seed
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass
from typing import Any

from harness.runner.flows import builtin_flows
from harness.runner.world import World, build_world
from scenarios.engine.config import Scenario, load
from scenarios.engine.firm import Firm, firm_start
from simulators.common.admin import export_state

# Sync lag of a few hours is plenty for a firm's month and keeps idle feed polling cheap in tests.
TEST_POLL_INTERVAL_S = 4 * 3600.0


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

    def digests(self) -> dict[str, str]:
        """Return the sha256 of the truth and of each system's state export."""
        found = {"truth": self.firm.truth.digest()}
        for system in sorted(self.world.apps):
            text = json.dumps(self.state(system), sort_keys=True, separators=(",", ":"))
            found[system] = hashlib.sha256(text.encode()).hexdigest()
        return found


def simulate(scenario: Scenario, *, seed: int | None = None, drain: bool = True) -> Simulated:
    """Run the firm over the scenario's period with the built-in engine, then let the engine drain."""
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=seed, params={**scenario.params, "seed": seed})
    world = build_world(firm_start(scenario), flows=builtin_flows(), seed=scenario.seed,
                        poll_interval_s=TEST_POLL_INTERVAL_S)
    firm = Firm(world, scenario)
    firm.start()
    firm.run()
    if drain:
        world.drain(3 * 86400.0)
    return Simulated(scenario, world, firm)


def main(argv: list[str]) -> None:
    """Print the digests (or the KPIs) of a scenario run with each seed given."""
    kpis = argv[0] == "--kpis"
    if kpis:
        argv = argv[1:]
    scenario = load(argv[0])
    for seed in argv[1:]:
        run = simulate(scenario, seed=int(seed))
        if kpis:
            erp = run.state("erp")
            print(json.dumps({"seed": int(seed), **run.firm.kpis(erp).as_dict()}, default=str), flush=True)
        else:
            print(json.dumps({"seed": int(seed), **run.digests()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
