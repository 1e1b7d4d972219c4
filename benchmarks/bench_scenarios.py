"""Benchmark the scenario engine end to end: the firm on the four in-process systems with the built-in engine.

    .venv/bin/python benchmarks/bench_scenarios.py                       # baseline and full-year
    .venv/bin/python benchmarks/bench_scenarios.py baseline --poll 300 --max-poll 300  # polling every 300 s

The engine polls as in `firmsim run` by default (every 60 s, backing off to 15 min while a feed is quiet).
Prints, per scenario: wall time, CPU time of the process (the figure to compare on a shared machine),
simulated days per wall second, business events per second (facts the actors recorded in truth, and
events the four systems appended to their feeds), API calls, and peak memory (max RSS of the process,
so run one scenario per process for a clean figure). Figures, not
assertions; results are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from collections import Counter
from typing import Any

from harness.gc_pause import gc_paused
from harness.runner.flows import builtin_flows
from harness.runner.sim import MAX_POLL_INTERVAL_S
from harness.runner.world import build_world
from scenarios.engine.clock import DAY
from scenarios.engine.config import load
from scenarios.engine.firm import LEAD_IN_DAYS, Firm, firm_start


def bench(name: str, poll_interval_s: float, seed: int | None, progress: bool = False,
          max_wall_s: float | None = None, max_poll_interval_s: float | None = None) -> dict[str, Any]:
    """Run one library scenario to the end of its period (plus a one-day drain) and measure it.

    With `max_wall_s`, stop at the first 30-day step that ends past that wall time and report how far it got.
    """
    scenario = load(name)
    if seed is not None:
        import dataclasses

        scenario = dataclasses.replace(scenario, seed=seed, params={**scenario.params, "seed": seed})
    started = time.perf_counter()
    cpu_started = time.process_time()
    world = build_world(firm_start(scenario), flows=builtin_flows(), seed=scenario.seed,
                        poll_interval_s=poll_interval_s, max_poll_interval_s=max_poll_interval_s)
    built = time.perf_counter()
    firm = Firm(world, scenario)
    firm.start()
    step = 30 * DAY
    target = world.clock.at(firm.end_instant())
    while float(world.env.now) < target:
        world.run_until(min(target, float(world.env.now) + step))
        if progress:
            print(f"  .. {world.clock.now().date()}  {time.perf_counter() - started:7.1f} s  "
                  f"cpu {time.process_time() - cpu_started:7.1f} s  "
                  f"{len(firm.truth):>8} facts  {firm.api_calls:>8} actor calls", flush=True)
        if max_wall_s is not None and time.perf_counter() - started > max_wall_s:
            break
    ran = time.perf_counter()
    finished = float(world.env.now) >= target
    if finished:
        world.drain(86400.0)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    feed_events = sum(len(world.context(system).feed) for system in world.apps)
    calls = {system: sum(world.context(system).calls.values()) for system in sorted(world.apps)}
    days = round(float(world.env.now) / DAY) if not finished else scenario.days + LEAD_IN_DAYS
    kpis = firm.kpis({"records": world.context("erp").store.export()})
    return {
        "scenario": name, "seed": scenario.seed, "people": len(firm.roster.workers), "simulated_days": days,
        "finished": finished,
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "build_s": round(built - started, 1),
        "firm_run_s": round(ran - built, 1),
        "days_per_wall_s": round(days / wall, 2), "facts": len(firm.truth),
        "facts_per_s": round(len(firm.truth) / wall), "feed_events": feed_events,
        "feed_events_per_s": round(feed_events / wall), "actor_calls": firm.api_calls,
        "api_calls_answered": calls, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "facts_by_kind": Counter(firm.truth.counts()), "kpis": kpis.render(),
    }


def main() -> None:
    """Benchmark the scenarios named on the command line (default: baseline and full-year)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=["baseline", "full-year"])
    parser.add_argument("--poll", type=float, default=60.0, help="engine feed poll interval, virtual seconds")
    parser.add_argument("--max-poll", type=float, default=MAX_POLL_INTERVAL_S,
                        help="longest poll interval while a feed is quiet, virtual seconds")
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    parser.add_argument("--progress", action="store_true", help="print a line every 30 simulated days")
    parser.add_argument("--max-wall", type=float, default=None, help="stop after this many wall seconds")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, python {platform.python_version()}, {platform.processor() or 'cpu'}")
    for name in args.scenarios:
        with gc_paused():  # as `firmsim run` simulates
            result = bench(name, args.poll, args.seed, args.progress, args.max_wall, args.max_poll)
        print(f"\n== {name} (seed {result['seed']}, {result['people']} people, engine polling every {args.poll:g} s, "
              f"up to {args.max_poll:g} s while quiet)")
        for key in ("finished", "simulated_days", "wall_s", "cpu_s", "build_s", "firm_run_s", "days_per_wall_s",
                    "facts", "facts_per_s", "feed_events", "feed_events_per_s", "actor_calls", "api_calls_answered",
                    "peak_rss_mb"):
            print(f"  {key:<20} {result[key]}")
        print("  facts by kind        " + ", ".join(f"{k} {v}" for k, v in sorted(result["facts_by_kind"].items())))
        print("  " + result["kpis"].replace("\n", "\n  "))


if __name__ == "__main__":
    main()
