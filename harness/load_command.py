"""`firmsim load PROFILE`: drive a steady or month-end volume of business events through the served
systems and the engine, and report throughput, latency and sync-lag percentiles and the saturation point."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.load.profiles import PROFILES

EXIT_BAD_INPUT = 2
EXIT_COULD_NOT_RUN = 3


class OneLineErrors(click.Command):
    """A command whose usage errors are one line on stderr and exit 2 (no usage block)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the arguments; a bad flag or value ends the command with one line."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            click.echo(f"firmsim load: {error.format_message()}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


@click.command("load", cls=OneLineErrors)
@click.argument("profile")
@click.option("--duration", "duration_s", type=click.FloatRange(min=1.0), default=30.0, show_default=True,
              help="Seconds of the profile (the saturation ramp comes after).")
@click.option("--rate", type=click.FloatRange(min=0.1), default=50.0, show_default=True,
              help="Business events offered per second (the profile shapes it).")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="Engine workers: threads of the embedded runtime, or worker processes with --bus/--store.")
@click.option("--bus", default=None, help="amqp://… RabbitMQ URL: run `firmsim engine worker` processes.")
@click.option("--store", default=None, help="postgresql://… ledger URL (with --bus).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report directory (default runs/load-<profile>).")
@click.option("--saturation/--no-saturation", default=True, show_default=True,
              help="After the profile, double the rate step by step until the engine stops keeping up.")
@click.option("--ramp-steps", type=click.IntRange(min=1, max=12), default=5, show_default=True)
@click.option("--step", "step_s", type=click.FloatRange(min=2.0), default=10.0, show_default=True,
              help="Seconds of each ramp step.")
@click.option("--clients", type=click.IntRange(min=1, max=256), default=16, show_default=True,
              help="Driver threads acting out the events.")
@click.option("--deals", type=click.IntRange(min=1, max=500), default=8, show_default=True,
              help="Won deals (projects, customers) the events are booked against.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--sheet-entries", type=click.IntRange(min=1, max=100), default=20, show_default=True,
              help="Time entries per weekly timesheet, approved in one bulk approval.")
@click.option("--report-expenses", type=click.IntRange(min=1, max=100), default=5, show_default=True,
              help="Expenses per expense report, approved in one bulk approval.")
def load(profile: str, duration_s: float, rate: float, workers: int, bus: str | None, store: str | None,
         out: Path | None, saturation: bool, ramp_steps: int, step_s: float, clients: int, deals: int,
         seed: int, sheet_entries: int, report_expenses: int) -> None:
    """Drive PROFILE (steady, month-end) through the systems and the engine; write load.json and load.html."""
    from harness.load.engines import LoadEngineError
    from harness.load.firm import LoadSetupError
    from harness.load.run import LoadOptions, run_load

    if profile not in PROFILES:
        fail(f"unknown profile {profile!r} (expected one of: {', '.join(PROFILES)})", EXIT_BAD_INPUT)
    if (bus is None) != (store is None):
        fail("--bus and --store go together (RabbitMQ bus and PostgreSQL ledger of the worker processes)",
             EXIT_BAD_INPUT)
    if bus is not None and not bus.startswith(("amqp://", "amqps://")):
        fail(f"--bus: expected an amqp:// URL, got {bus!r}", EXIT_BAD_INPUT)
    if store is not None and not store.startswith(("postgresql://", "postgres://")):
        fail(f"--store: expected a postgresql:// URL, got {store!r}", EXIT_BAD_INPUT)
    try:
        (out or Path("runs")).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"--out: cannot create the directory {str(out)!r} ({error.strerror or error})", EXIT_BAD_INPUT)
    options = LoadOptions(profile=profile, duration_s=duration_s, rate=rate, workers=workers,
                          out=out or Path("runs") / f"load-{profile}", bus=bus, store=store, saturation=saturation,
                          ramp_steps=ramp_steps, step_s=step_s, deals=deals, clients=clients, seed=seed,
                          sheet_entries=sheet_entries, report_expenses=report_expenses)
    try:
        report = run_load(options)
    except (LoadSetupError, LoadEngineError, OSError, ImportError) as error:
        fail(f"the load run could not complete: {error}", EXIT_COULD_NOT_RUN)
    except Exception as error:  # noqa: BLE001 - a broker or ledger failure mid-run: one line, exit 3
        fail(f"the load run could not complete: {type(error).__name__}: {error}", EXIT_COULD_NOT_RUN)
    click.echo(summary(report, options.out))


def fail(message: str, code: int) -> None:
    """Print one line and exit."""
    click.echo(f"firmsim load: {message}", err=True)
    sys.exit(code)


def summary(report: dict[str, Any], out: Path) -> str:
    """Return the few lines printed at the end of a load run."""
    run = report["run"]
    lag = run["sync_lag_s"]["all"]
    lines = [
        f"firmsim load {report['profile']}: {run['completed']}/{run['offered']} events in "
        f"{run['acted_out_s']:.1f} s = {run['throughput_per_s']:.1f}/s ({report['engine']})",
        f"  sync lag  p50 {lag['p50']:.3f}  p95 {lag['p95']:.3f}  p99 {lag['p99']:.3f}  p99.9 {lag['p99_9']:.3f}  "
        f"max {lag['max']:.3f} s  ({lag['count']} target commits)",
        f"  response  p50 {run['response_time_s']['p50']:.3f}  p99 {run['response_time_s']['p99']:.3f} s",
    ]
    if run["fell_behind"]:
        lines.append(f"  behind: {run['duration_s']:g} s of arrivals took {run['acted_out_s']:.1f} s to act out: "
                     "the driver and the systems fell behind the offered rate")
    if run["errors"]:
        lines.append(f"  errors {run['errors']}")
    time = report.get("time") or {}
    if time.get("seconds"):
        lines.append("  seconds of work (summed over threads):")
        lines.extend(f"    {seconds:7.2f}  {name}" for name, seconds in time["seconds"].items())
        for name, wait in (time.get("latency_s") or {}).items():
            lines.append(f"  {name}: p50 {wait['p50']:.4f}  p95 {wait['p95']:.4f}  p99 {wait['p99']:.4f}  "
                         f"max {wait['max']:.4f} s  ({wait['count']} messages)")
        cpu = time.get("cpu")
        if cpu:
            lines.append("  CPU ms per business event: " + ", ".join(
                f"{name} {ms:.3f}" for name, ms in cpu["ms_per_business_event"].items()))
        lines.extend(f"    not measured: {part}" for part in time.get("not_measured", []))
    saturation = report.get("saturation")
    if saturation:
        at = saturation["saturated_at_offered_rate"]
        sustained = saturation["max_sustained_throughput_per_s"]
        lines.append(f"  saturation: {'at ' + format(at, 'g') + ' offered/s' if at else 'not reached'}; "
                     + (f"max sustained {sustained:.1f}/s" if sustained is not None
                        else "no step kept up (lower --rate)"))
        if saturation.get("limited_by"):
            lines.append(f"    limited by {saturation['limited_by']['says']}")
    lines.append(f"  report: {out / 'load.json'}, {out / 'load.html'}")
    return "\n".join(lines)
