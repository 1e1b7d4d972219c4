"""The pieces every `firmsim engine` operator command shares: exit codes, one-line usage errors, the
common options (store, systems, token, bus, max wait, JSON output)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any, NoReturn

import click

EXIT_OK = 0
EXIT_STILL_FAILING = 1
EXIT_BAD_INPUT = 2
EXIT_COULD_NOT_RUN = 3
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def fail(command: str, message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one line naming what was wrong and exit with `code`."""
    click.echo(f"firmsim engine {command}: {message}", err=True)
    sys.exit(code)


class OneLineCommand(click.Command):
    """A command whose usage errors (a missing option, a bad value) are one line and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does; print a usage error as one line naming the option."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            fail(ctx.command_path.removeprefix(f"{ctx.find_root().info_name} engine "), error.format_message())


class OneLineGroup(click.Group):
    """A group whose usage errors are one line and exit 2, as its commands'."""

    command_class = OneLineCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does; print a usage error as one line naming the option."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            fail(ctx.command_path.removeprefix(f"{ctx.find_root().info_name} engine "), error.format_message())


def echo_json(rows: list[Any]) -> None:
    """Print records (dataclasses) as a JSON array."""
    click.echo(json.dumps([asdict(row) for row in rows], default=str, indent=2))


store_option = click.option("--store", required=True, envvar="FIRMSIM_STORE", show_envvar=True,
                            help="The engine's ledger: a SQLite file or postgresql://…[?schema=name].")
# `dead-letters --store S redrive ID` and `dead-letters redrive ID --store S` both work.
optional_store_option = click.option("--store", default=None, envvar="FIRMSIM_STORE", show_envvar=True,
                                     help="The engine's ledger: a SQLite file or postgresql://…[?schema=name].")
MISSING_STORE = "Missing option '--store' (env var: 'FIRMSIM_STORE')."
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
system_option = click.option("--system", "systems", multiple=True, metavar="NAME=URL",
                             help="A system the messages' handlers call (repeat: crm, psa, hcm, erp).")
token_option = click.option("--token", default="firmsim-dev-token", show_default=True, envvar="FIRMSIM_TOKEN",
                            help="Bearer token for the systems.")
bus_option = click.option("--bus", "bus_url", default=None, envvar="FIRMSIM_BUS", metavar="AMQP_URL",
                          help="The distributed workers' bus: publish the messages to them instead of running "
                               "them here (they keep each key's order).")
wait_option = click.option("--max-wait", "max_wait_s", default=60.0, show_default=True,
                           type=click.FloatRange(min=0), help="Seconds to keep retrying transient failures.")

