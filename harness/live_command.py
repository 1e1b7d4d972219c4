"""`firmsim run --mode live`: run scenarios on real sockets, print progress and the summary, write the reports."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from harness.report.summary import summary_lines
from harness.run_command import run_scenarios
from harness.runner.live import Endpoints, LiveOptions, LiveProgress, run_live

PLAIN_PROGRESS_EVERY_DAYS = 7


class LiveDisplay:
    """Real and simulated progress: a bar on a terminal, a line a simulated week otherwise."""

    def __init__(self, label: str, speed: float) -> None:
        self.label = label
        self.speed = speed
        self.interactive = sys.stderr.isatty()

    def __call__(self, progress: LiveProgress) -> None:
        simulated_per_real = max(progress.day, 0) / max(progress.real_s, 1e-9)
        where = f"lead-in {progress.day}" if progress.day <= 0 else f"day {progress.day}/{progress.days}"
        text = (f"{self.label}: {where} {progress.date}  real {progress.real_s:6.1f} s  "
                f"firm late {progress.behind_s / 3600:5.1f} h  events {progress.events}  queue {progress.queue_depth}")
        if progress.day > 0:
            text += f"  ({simulated_per_real:.2f} simulated days/s, target {self.speed / 86400:.2f})"
        if self.interactive:
            click.echo(f"\r{text}\x1b[K", err=True, nl=progress.day == progress.days)
        elif progress.day % PLAIN_PROGRESS_EVERY_DAYS == 0 or progress.day == progress.days:
            click.echo(text, err=True)


def print_endpoints(endpoints: Endpoints, options: LiveOptions) -> None:
    """Tell where the systems are; for an external engine, how to subscribe and what is expected."""
    click.echo(f"systems (bearer token {endpoints.token}):")
    for kind, url in endpoints.urls.items():
        click.echo(f"  {kind:<4} {url}  spec {url}/openapi.json  feed {url}/events")
    for url in endpoints.metrics:
        click.echo(f"engine metrics (Prometheus): {url}")
    if options.engine == "external":
        click.echo("external engine: read GET /events?after=<cursor> on each system, or subscribe to webhooks with")
        click.echo("  POST <url>/admin/subscriptions {\"url\": ..., \"secret\": ..., \"types\": []} "
                   "(Firmsim-Signature: t=<unix>,v1=<HMAC-SHA256 of '<t>.<body>'>)")
        click.echo(f"  the harness checks once no new event has appeared for {options.quiet_period_s:g} s "
                   f"(at most {options.quiescence_timeout_s:g} s after the firm's period ends)")
    sys.stdout.flush()


def execute_live(scenario: Any, seed: int, options: LiveOptions, out_dir: Path) -> dict[str, Any]:
    """Run one scenario live, write its reports, print its summary; return its report."""
    from harness.report.build import build_report, write_reports

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    display = LiveDisplay(f"{scenario.name} seed={seed} live", options.speed)
    run = run_live(scenario, seed=seed, options=options, run_dir=out_dir, on_progress=display,
                   on_ready=lambda endpoints: print_endpoints(endpoints, options))
    if not run.drained:
        click.echo(f"firmsim run: {scenario.name} did not quiesce within {options.quiescence_timeout_s:g} s; "
                   "checking what the systems hold now", err=True)
    report = build_report(run)
    write_reports(report, run, out_dir)
    for line in summary_lines(report, str(out_dir)):
        click.echo(line)
    timing = report["timing"]
    click.echo(f"live: {timing['wall_s']:.1f} s real for {timing['simulated_days_with_lead_in']} simulated days "
               f"at speed {options.speed:g} (firm at most {timing['firm_behind_max_h']} h late, "
               f"quiescence {timing['quiescence_s']:.1f} s)")
    return report


def run_live_many(names: tuple[str, ...], seed: int | None, out: Path | None, junit: Path | None,
                  options: LiveOptions) -> int:
    """Run each scenario live; return the exit code of the whole invocation."""
    return run_scenarios(names, seed, out, junit,
                         lambda scenario, run_seed, out_dir: execute_live(scenario, run_seed, options, out_dir),
                         suffix="-live")
