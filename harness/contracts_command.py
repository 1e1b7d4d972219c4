"""`firmsim contracts verify` and `firmsim fuzz`: check any implementation of the four systems.

Exit codes: 0 everything verified (or nothing found by fuzzing), 1 a mismatch or failure, 2 bad input,
3 a system could not be reached.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simulators.registry import SYSTEM_KINDS

if TYPE_CHECKING:
    from harness.pact_verification import ProviderReport

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_COULD_NOT_RUN = 3
CHOICES = click.Choice([*SYSTEM_KINDS, "all"])
PHASES = ("examples", "coverage", "fuzzing", "stateful")


def _kinds(choice: str, url: str | None, option: str) -> list[str]:
    if url is not None and choice == "all":
        click.echo(f"firmsim: --url is the base URL of one system: name it with {option} "
                   f"{'|'.join(SYSTEM_KINDS)}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    return list(SYSTEM_KINDS) if choice == "all" else [choice]


def _require(module: str, distribution: str, command: str) -> None:
    if importlib.util.find_spec(module) is None:
        click.echo(f"firmsim {command}: needs {distribution}, which is not installed "
                   f"(pip install '{distribution}', or install firmsim with its dev extra)", err=True)
        sys.exit(EXIT_COULD_NOT_RUN)


def _token(url: str | None, token: str | None) -> str:
    if url is not None and not token:
        click.echo("firmsim: --url needs --token, the bearer token the system accepts", err=True)
        sys.exit(EXIT_BAD_INPUT)
    return token or f"fs_{secrets.token_urlsafe(18)}"


@click.group("contracts")
def contracts() -> None:
    """Verify the sync engine's pact files (contracts/pacts/) against the systems."""


@contracts.command("verify")
@click.option("--provider", type=CHOICES, default="all", show_default=True, help="Which system's pact to verify.")
@click.option("--url", default=None, help="Base URL of the system (default: start the mocks on free local ports).")
@click.option("--token", default=None, help="Bearer token the system accepts (needed with --url).")
@click.option("--admin-token", default=None, help="Bearer token of the system's admin API, if it wants one.")
@click.option("--pacts", "pacts_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of the pact files (default: the ones firmsim ships).")
def verify(provider: str, url: str | None, token: str | None, admin_token: str | None,
           pacts_dir: Path | None) -> None:
    """Replay every interaction the sync engine relies on and print a table; 0 verified, 1 mismatch."""
    from contracts import PACTS_DIR
    from harness.local_systems import start_local_systems
    from harness.pact_verification import BadInput, Unreachable, verify_provider

    kinds = _kinds(provider, url, "--provider")
    token = _token(url, token)
    _require("pact", "pact-python>=4.2", "contracts verify")
    reports: list[ProviderReport] = []
    try:
        if url is not None:
            reports.append(verify_provider(kinds[0], url, token, admin_token=admin_token,
                                           pacts_dir=pacts_dir or PACTS_DIR))
        else:
            with start_local_systems(kinds, token) as systems:
                for kind in kinds:
                    reports.append(verify_provider(kind, systems.url(kind), token, pacts_dir=pacts_dir or PACTS_DIR))
    except BadInput as error:
        click.echo(f"firmsim contracts verify: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Unreachable as error:
        click.echo(f"firmsim contracts verify: {error}", err=True)
        sys.exit(EXIT_COULD_NOT_RUN)
    _print_verification(reports)
    sys.exit(EXIT_OK if all(report.ok for report in reports) else EXIT_FAILED)


def _print_verification(reports: list[ProviderReport]) -> None:
    click.echo(f"{'provider':<8}  {'kind':<7}  {'result':<8}  interaction")
    for report in reports:
        for result in report.results:
            click.echo(f"{report.provider:<8}  {result.interaction.kind:<7}  "
                       f"{'ok' if result.ok else 'MISMATCH':<8}  {result.interaction.description}")
    failed = [(report, result) for report in reports for result in report.results if not result.ok]
    if failed:
        click.echo("\nMismatches:")
        for report, result in failed:
            click.echo(f"\n{report.provider}: {result.interaction.description}")
            click.echo(f"  given {result.interaction.state}")
            for line in result.mismatch.splitlines():
                click.echo(f"    {line}")
    click.echo("")
    for report in reports:
        verified = sum(result.ok for result in report.results)
        click.echo(f"{report.provider}: {verified} of {len(report.results)} interactions verified "
                   f"against {report.base_url}")


@click.command("fuzz")
@click.option("--system", type=CHOICES, default="all", show_default=True, help="Which system to fuzz.")
@click.option("--url", default=None, help="Base URL of the system (default: start a fresh mock on a free port).")
@click.option("--token", default=None, help="Bearer token the system accepts (needed with --url).")
@click.option("--max-examples", type=click.IntRange(min=1), default=20, show_default=True,
              help="Test cases per operation and phase.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated data.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/fuzz"),
              show_default=True, help="Directory of the logs, the reports and junit.xml.")
@click.option("--phases", default=",".join(PHASES), show_default=True,
              help="Schemathesis phases to run (a quicker pass may leave some out).")
def fuzz(system: str, url: str | None, token: str | None, max_examples: int, seed: int, out: Path,
         phases: str) -> None:
    """Fuzz the systems' APIs with schemathesis (every check, stateful phase); 1 on any failure."""
    from harness.fuzz_runner import FuzzResult, fuzz_system, write_junit
    from harness.local_systems import start_local_systems
    from harness.pact_verification import BadInput, Unreachable, check_base_url, check_reachable

    kinds = _kinds(system, url, "--system")
    chosen = tuple(phase.strip() for phase in phases.split(",") if phase.strip())
    if not chosen or any(phase not in PHASES for phase in chosen):
        click.echo(f"firmsim fuzz: --phases: expected a comma-separated subset of {','.join(PHASES)}, "
                   f"got {phases!r}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    token = _token(url, token)
    _require("schemathesis", "schemathesis>=4.3", "fuzz")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        click.echo(f"firmsim fuzz: --out: cannot create the directory {str(out)!r} ({error.strerror or error})",
                   err=True)
        sys.exit(EXIT_BAD_INPUT)
    results: list[FuzzResult] = []
    try:
        if url is not None:
            base_url = check_base_url(url)
            check_reachable(base_url)
            results.append(fuzz_system(kinds[0], base_url, token, max_examples=max_examples, seed=seed, out_dir=out,
                                       phases=chosen))
        else:
            for kind in kinds:
                # A fresh system for each run: a seeded run repeats exactly only against a fresh server.
                with start_local_systems([kind], token) as systems:
                    click.echo(f"fuzzing {kind} at {systems.url(kind)} ...")
                    results.append(fuzz_system(kind, systems.url(kind), token, max_examples=max_examples,
                                               seed=seed, out_dir=out, phases=chosen))
    except BadInput as error:
        click.echo(f"firmsim fuzz: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Unreachable as error:
        click.echo(f"firmsim fuzz: {error}", err=True)
        sys.exit(EXIT_COULD_NOT_RUN)
    junit = out / "junit.xml"
    write_junit(results, junit)
    click.echo(f"\n{'system':<6}  {'result':<6}  {'operations':>10}  {'cases':>6}  {'failures':>8}  {'errors':>6}  "
               f"{'warnings':>8}  {'time':>6}")
    for result in results:
        figures = result.summary()
        click.echo(f"{result.system:<6}  {'ok' if result.ok else 'FAILED':<6}  {figures['tested']:>10}  "
                   f"{figures['cases']:>6}  {figures['failures']:>8}  {figures['errors']:>6}  "
                   f"{figures['warnings']:>8}  {result.seconds:>5.0f}s")
    for result in results:
        if not result.ok:
            click.echo(f"\n{result.system} ({result.base_url}), full output in {result.log}:")
            click.echo(result.failure_text())
    click.echo(f"\nJUnit: {junit}  (seed {seed}, {max_examples} examples per operation)")
    sys.exit(EXIT_OK if all(result.ok for result in results) else EXIT_FAILED)
