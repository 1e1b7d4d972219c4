"""Benchmark sustained business events per second and sync lag through systems and engine (`firmsim load`).

    .venv/bin/python benchmarks/bench_load.py                                  # embedded engine, 1 and 4 threads
    .venv/bin/python benchmarks/bench_load.py --duration 30 --rate 100 --steps 6
    .venv/bin/python benchmarks/bench_load.py --bus amqp://guest:guest@127.0.0.1:5672/ \\
        --store postgresql://postgres@127.0.0.1:5432/test --workers 1,2,4    # engine worker processes

Each configuration is one `firmsim load steady` run (approvals in bulk: a timesheet of 20 entries, an
expense report of 5; a business event is an entry approved): the profile at --rate for --duration, then the
saturation ramp (the rate doubled each step until the engine stops keeping up). Prints a markdown table
(throughput, sync-lag percentiles, the saturation point, engine API calls per business event, where the
time went) to paste into benchmarks/RESULTS.md. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.load.run import LoadOptions, run_load


def row(label: str, report: dict[str, Any], wall_s: float) -> str:
    """Return one markdown table row of a load report."""
    run = report["run"]
    lag = run["sync_lag_s"]["all"]
    saturation = report.get("saturation") or {}
    counters = report["time"]["engine_counters"]
    share = report["time"]["share"]
    systems = share.get("systems (request handling, all callers)", 0.0)
    engine_code = share.get("engine: own code (handlers minus their API calls)", 0.0)
    ledger = share.get("engine: ledger (tracking, unit of work)", 0.0)
    calls = share.get("engine: API calls (client side, incl. target systems)", 0.0)
    at = saturation.get("saturated_at_offered_rate")
    sustained = saturation.get("max_sustained_throughput_per_s")
    return (f"| {label} | {run['offered_rate']:g} | {run['throughput_per_s']:.1f} | {lag['p50']:.3f} | "
            f"{lag['p99']:.3f} | {lag['p99_9']:.3f} | {lag['max']:.3f} | "
            f"{'-' if sustained is None else format(sustained, '.1f')} | {'-' if at is None else format(at, 'g')} | "
            f"{counters.get('api_calls_per_business_event', 0.0):.2f} | "
            f"{100 * systems:.0f} / {100 * calls:.0f} / {100 * ledger:.0f} / {100 * engine_code:.0f} | "
            f"{report['machine']['load_average_1m_at_end']:.1f} | {wall_s:.0f} |")


def main() -> None:
    """Run each configuration and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--steps", type=int, default=5, help="saturation ramp steps")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--threads", default="1,4", help="embedded engine worker threads per run ('' for none)")
    parser.add_argument("--bus", default=None)
    parser.add_argument("--store", default=None)
    parser.add_argument("--workers", default="1,2,4", help="worker processes per run (with --bus/--store)")
    args = parser.parse_args()
    configs: list[tuple[str, int, str | None, str | None]] = [
        (f"embedded, {threads} thread(s)", int(threads), None, None) for threads in args.threads.split(",") if threads]
    if args.bus and args.store:
        configs += [(f"RabbitMQ + PostgreSQL, {count} worker(s)", int(count), args.bus, args.store)
                    for count in args.workers.split(",")]
    print(f"# bench_load: steady at {args.rate:g}/s for {args.duration:g} s, then {args.steps} ramp steps of "
          f"{args.step_seconds:g} s; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print("| engine | offered/s | achieved/s | lag p50 s | lag p99 s | lag p99.9 s | lag max s | max sustained/s | "
          "saturated at offered/s | engine API calls per business event | time % systems / engine calls / "
          "ledger / engine code | load avg | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    actor_calls = None
    for label, workers, bus, store in configs:
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            try:
                report = run_load(LoadOptions(profile="steady", duration_s=args.duration, rate=args.rate,
                                              workers=workers, out=Path(directory), bus=bus, store=store,
                                              ramp_steps=args.steps, step_s=args.step_seconds))
            except Exception as error:  # noqa: BLE001 - one failed configuration must not hide the others
                print(f"| {label} | failed: {type(error).__name__}: {error} |", flush=True)
                continue
            print(row(label, report, time.perf_counter() - started), flush=True)
            actor_calls = report["run"]["actor_calls_per_event"]
    if actor_calls is not None:
        print(f"# actor API calls per business event in the steady mix (approvals in bulk): {actor_calls:.2f}; "
              f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
