"""`firmsim run` and `firmsim replay`: run scenarios, print the summary, write the reports, set the exit code."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from harness.gc_pause import gc_paused
from harness.report.junit import write_junit
from harness.report.summary import summary_lines
from harness.runner.ledger_file import LedgerNotWrittenError, ledger_left
from harness.runner.sim import Progress, RunFailedError, simulate
from scenarios.engine.config import Scenario, ScenarioError, from_params, load

EXIT_OK, EXIT_INVARIANT_FAILED, EXIT_BAD_INPUT, EXIT_COULD_NOT_RUN = 0, 1, 2, 3
PLAIN_PROGRESS_EVERY_DAYS = 7


class _Display:
    """A progress bar on a terminal, plain lines otherwise."""

    def __init__(self, label: str, days: int) -> None:
        self.interactive = sys.stderr.isatty()
        self.label = label
        self.days = days
        self.started = time.perf_counter()
        self._bar: Any = None
        if self.interactive:
            self._bar = click.progressbar(length=days, label=label, file=sys.stderr, show_pos=True,
                                          item_show_func=lambda text: text)
            self._bar.__enter__()

    def __call__(self, progress: Progress) -> None:
        text = f"{progress.date}  events {progress.events}  exceptions {progress.exceptions}"
        if self._bar is not None:
            self._bar.update(1, text)
        elif progress.day % PLAIN_PROGRESS_EVERY_DAYS == 0 or progress.day == progress.days:
            elapsed = time.perf_counter() - self.started  # how long a long scenario has been going, to judge the rest
            click.echo(f"{self.label}: day {progress.day}/{progress.days} {text}  ({elapsed:.0f} s)", err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def execute(scenario: Scenario, seed: int, engine: str, out_dir: Path) -> dict[str, Any]:
    """Run one scenario, write its reports, print its summary; return its report."""
    from harness.report.build import build_report, write_reports

    out_dir.mkdir(parents=True, exist_ok=True)
    ledger_path = out_dir / "ledger.db"
    if ledger_path.exists():
        ledger_path.unlink()
    display = _Display(f"{scenario.name} seed={seed}", scenario.days)
    with gc_paused():  # the run's own, and checking and reporting, as one: see gc_paused
        try:
            run = simulate(scenario, seed=seed, engine=engine, ledger_path=None, on_progress=display)
        finally:
            display.close()
        ledger = run.world.engine.ports.ledger if run.world.engine is not None and engine == "builtin" else None
        with ledger_left(ledger, ledger_path):  # copied beside the digest and the reports
            report = build_report(run)
            write_reports(report, run, out_dir)
    for line in summary_lines(report, str(out_dir)):
        click.echo(line)
    return report


def unwritable_output(out: Path | None, junit: Path | None) -> str | None:
    """Create the --out directory and --junit's; return a one-line message naming the one that cannot be."""
    for flag, directory in (("--out", out), ("--junit", junit.parent if junit is not None else None)):
        if directory is None:
            continue
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return f"{flag}: cannot create the directory {str(directory)!r} ({error.strerror or error})"
    return None


def run_scenarios(names: tuple[str, ...], seed: int | None, out: Path | None, junit: Path | None,
                  execute_one: Callable[[Scenario, int, Path], dict[str, Any]], *, suffix: str = "") -> int:
    """Load every scenario first, run each with `execute_one`; return the exit code of the whole invocation."""
    try:
        scenarios = [load(name) for name in names]
    except ScenarioError as error:
        click.echo(f"firmsim run: {error}", err=True)
        return EXIT_BAD_INPUT
    reports = []
    for scenario in scenarios:
        run_seed = scenario.seed if seed is None else seed
        if out is None:
            out_dir = Path("runs") / f"{scenario.name}-{run_seed}{suffix}"
        else:
            out_dir = out / f"{scenario.name}-{run_seed}" if len(scenarios) > 1 else out
        try:
            reports.append(execute_one(scenario, run_seed, out_dir))
        except (RunFailedError, LedgerNotWrittenError) as error:
            click.echo(f"firmsim run: {scenario.name} could not complete: {error}", err=True)
            return EXIT_COULD_NOT_RUN
    if junit is not None:
        write_junit(reports, junit)
    return EXIT_OK if all(report["verdict"] == "pass" for report in reports) else EXIT_INVARIANT_FAILED


def run_many(names: tuple[str, ...], seed: int | None, out: Path | None, junit: Path | None, engine: str) -> int:
    """Run each scenario in simulated mode; return the exit code of the whole invocation."""
    return run_scenarios(names, seed, out, junit,
                         lambda scenario, run_seed, out_dir: execute(scenario, run_seed, engine, out_dir))


def replay(directory: Path) -> int:
    """Rerun the run recorded in a report directory and confirm the digest."""
    try:
        recorded = json.loads((directory / "report.json").read_text(encoding="utf-8"))
        params = json.loads((directory / "scenario.resolved.json").read_text(encoding="utf-8"))
        scenario = from_params(params, directory / "scenario.resolved.json")
    except (OSError, ValueError, KeyError) as error:
        click.echo(f"firmsim replay: {directory} is not a run directory ({error})", err=True)
        return EXIT_BAD_INPUT
    if recorded.get("mode") == "live":
        click.echo(f"firmsim replay: {directory} is a live run, and live runs do not repeat exactly; "
                   "rerun it with firmsim run --mode live (or replay a sim run)", err=True)
        return EXIT_BAD_INPUT
    report = execute(scenario, int(recorded["seed"]), recorded["engine"], directory / "replay")
    if report["digest"] != recorded["digest"]:
        click.echo(f"DIFFERENT digest: recorded {recorded['digest']}, replayed {report['digest']}")
        return EXIT_INVARIANT_FAILED
    click.echo(f"same digest {report['digest']}: the run reproduces exactly")
    return EXIT_OK if report["verdict"] == "pass" else EXIT_INVARIANT_FAILED
