"""`firmsim engine …`: the sync engine's own commands (workers; operators' tools join this group)."""

from __future__ import annotations

import click

from harness.engine_ops import add_operator_commands
from harness.engine_worker import worker


@click.group("engine")
def engine() -> None:
    """Run and operate the built-in sync engine."""


engine.add_command(worker)
add_operator_commands(engine)  # exceptions, redrive, dead-letters, replay
