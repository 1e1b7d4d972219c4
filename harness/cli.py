"""The `firmsim` command line."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from harness.contracts_command import contracts, fuzz
from harness.engine_command import engine as engine_commands
from harness.live_options import live_options, live_settings, refuse_live_flags
from harness.load_command import load as load_command
from simulators.registry import SYSTEM_KINDS

EXIT_OK = 0
EXIT_INVARIANT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_COULD_NOT_RUN = 3

_WHOLE_PROCESS = False
"""True when this process is the `firmsim` command itself (`console`), not a caller of `main`."""


def console() -> None:
    """The `firmsim` console script: `main`, in a process of its own (see `_leave`)."""
    global _WHOLE_PROCESS  # noqa: PLW0603 - set once, before any command runs
    _WHOLE_PROCESS = True
    main()


def _leave(code: int) -> NoReturn:
    """End a run command with `code`; in a process of its own, without freeing the heap first.

    A simulated run leaves millions of live objects behind (the systems' stores, the engine's
    ledger, the truth record), and an interpreter that frees them one by one on the way out spent
    about 18 s of CPU on full-year, a tenth of the run, on nothing anyone reads. By now every file
    of the run is written and closed, so the process flushes its output and ends at once. Called
    from Python (tests, `CliRunner`), it exits as any command does.
    """
    if _WHOLE_PROCESS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _systems(value: str) -> list[str]:
    kinds = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in SYSTEM_KINDS]
    if unknown or not kinds:
        raise click.BadParameter(f"expected a comma-separated subset of {','.join(SYSTEM_KINDS)}, got {value!r}")
    return kinds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="firmsim")
def main() -> None:
    """firmsim: simulate a professional-services firm's CRM, PSA, HCM and ERP and prove the sync between them."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port-base", default=8100, show_default=True, type=click.IntRange(1, 65530),
              help="crm listens on base+1, psa +2, hcm +3, erp +4.")
@click.option("--systems", default=",".join(SYSTEM_KINDS), show_default=True, help="Which systems to run.")
@click.option("--token", default=None, help="Bearer token the business APIs accept (generated when absent).")
@click.option("--admin-token", default=None, help="Bearer token the /admin API wants (open when absent).")
@click.option("--rate-limit", default=None, type=click.FloatRange(min=0.1),
              help="Requests per second per caller before 429 (unlimited when absent).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the fault plane's random stream.")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
def serve(host: str, port_base: int, systems: str, token: str | None, admin_token: str | None,
          rate_limit: float | None, seed: int, quiet: bool) -> None:
    """Run the systems on real HTTP ports until Ctrl-C or SIGTERM."""
    from simulators.server import PortInUseError, serve_systems

    kinds = _systems(systems)
    token = token or f"fs_{secrets.token_urlsafe(18)}"
    config = {"API_TOKENS": [token], "ADMIN_TOKEN": admin_token, "RATE_LIMIT": rate_limit, "SEED": seed}
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)  # before serving: a client may stop us as soon as a port answers
    signal.signal(signal.SIGINT, _stop)
    try:
        servers = serve_systems(host, port_base, kinds, config, log_requests=not quiet)
    except PortInUseError as error:
        click.echo(f"firmsim serve: {error} (choose another --port-base)", err=True)
        sys.exit(EXIT_COULD_NOT_RUN)
    click.echo(f"firmsim serving {len(servers.systems)} systems (bearer token: {token})")
    for system in servers.systems:
        click.echo(f"  {system.kind:<4} {system.base_url}  spec {system.spec_url}  admin {system.base_url}/admin/state")
    click.echo("Ctrl-C to stop.", nl=True)
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    click.echo("stopping...")
    servers.stop()
    click.echo("stopped.")


@main.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: the scenario's own).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report directory (default runs/<scenario>-<seed>/).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write one JUnit file for all the scenarios here.")
@click.option("--engine", type=click.Choice(["builtin", "none", "external"]), default="builtin", show_default=True,
              help="The sync engine under test; none runs the firm with no sync at all; external (live) is yours.")
@click.option("--mode", type=click.Choice(["sim", "live"]), default="sim", show_default=True,
              help="sim: virtual time, systems in-process, bit-for-bit reproducible; live: real HTTP ports.")
@live_options
def run(scenarios: tuple[str, ...], seed: int | None, out: Path | None, junit: Path | None, engine: str,
        mode: str, **live: Any) -> None:
    """Run scenarios (library names or files) and check that the four systems still agree.

    Exit code 0: every invariant holds; 1: an invariant failed; 2: bad input; 3: the run could not complete.
    """
    from harness.run_command import run_many, unwritable_output

    if (problem := unwritable_output(out, junit)) is not None:
        click.echo(f"firmsim run: {problem}", err=True)
        sys.exit(2)
    if mode == "live":
        from harness.live_command import run_live_many

        sys.exit(run_live_many(scenarios, seed, out, junit, live_settings(engine, live)))
    refuse_live_flags(engine, live)
    _leave(run_many(scenarios, seed, out, junit, engine))


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def replay(directory: Path) -> None:
    """Rerun the run recorded in a report directory and confirm it gives the same digest."""
    from harness.run_command import replay as replay_run

    _leave(replay_run(directory))


@main.group()
def scenarios() -> None:
    """List, show and validate scenario files."""


@scenarios.command("list")
def scenarios_list() -> None:
    """List the library scenarios."""
    from scenarios.engine.config import ScenarioError, library_names, load

    for name in library_names():
        try:
            scenario = load(name)
        except ScenarioError as error:
            click.echo(f"{name:<20} INVALID: {error}")
            continue
        summary = scenario.description.split(". ")[0].rstrip(".")
        click.echo(f"{name:<20} {scenario.start} .. {scenario.end}  {summary}")


@scenarios.command("show")
@click.argument("name")
def scenarios_show(name: str) -> None:
    """Print a scenario with its defaults and `extends` merged in."""
    import yaml

    from scenarios.engine.config import ScenarioError, load

    try:
        scenario = load(name)
    except ScenarioError as error:
        click.echo(f"firmsim: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"# {scenario.source}")
    click.echo(yaml.safe_dump(scenario.params, sort_keys=False, width=110).rstrip())


@scenarios.command("validate")
@click.argument("files", nargs=-1, required=True)
def scenarios_validate(files: tuple[str, ...]) -> None:
    """Validate scenario files (exit 2 when any is invalid)."""
    from scenarios.engine.config import ScenarioError, load

    failed = False
    for name in files:
        try:
            scenario = load(name)
        except ScenarioError as error:
            failed = True
            click.echo(f"INVALID {error}")
            continue
        click.echo(f"ok      {scenario.source} ({scenario.name}, {scenario.start} .. {scenario.end})")
    if failed:
        sys.exit(EXIT_BAD_INPUT)


# -- contract verification and fuzzing: harness/contracts_command.py ------------------------------
main.add_command(contracts)
main.add_command(fuzz)

# -- the sync engine: workers and operator tools, harness/engine_command.py ------------------------
main.add_command(engine_commands)

# -- load tests: harness/load_command.py --------------------------------------------------------------
main.add_command(load_command)


if __name__ == "__main__":  # pragma: no cover
    main()
