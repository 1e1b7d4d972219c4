"""`firmsim engine exceptions|redrive|dead-letters|replay`: operators' tools over an engine's ledger.

A store is a SQLite ledger file or a `postgresql://…[?schema=name]` URL. Listing needs only the
store; re-driving and replaying run the messages here, against the live systems (`--system
name=URL`, `--token`), with the engine's retry policy, until they go through, fail again or
`--max-wait` runs out (then they are parked in the exception queue, re-drivable, never lost).
Feeds are not polled and stored cursors are not moved back: the workers keep doing that.
Shared options and errors are in engine_cli.py, opening an engine and draining it in engine_store.py.
"""

from __future__ import annotations

import sys

import click

from harness.engine_cli import (
    EXIT_COULD_NOT_RUN,
    EXIT_OK,
    EXIT_STILL_FAILING,
    MISSING_STORE,
    OneLineCommand,
    OneLineGroup,
    bus_option,
    echo_json,
    fail,
    json_option,
    optional_store_option,
    store_option,
    system_option,
    token_option,
    wait_option,
)
from harness.engine_store import drain, open_engine
from syncengine.runtime.engine import Engine


@click.command("exceptions", cls=OneLineCommand)
@store_option
@click.option("--status", type=click.Choice(["OPEN", "REDRIVEN", "RESOLVED"]), default=None,
              help="Only exceptions in this state.")
@click.option("--flow", default=None, help="Only exceptions of this flow.")
@json_option
def exceptions(store: str, status: str | None, flow: str | None, as_json: bool) -> None:
    """List the exception queue: messages a business rule refused, waiting for a fix and a re-drive."""
    from syncengine.ledger.records import ExceptionStatus

    items = open_engine("exceptions", store).ports.ledger.exceptions(
        ExceptionStatus(status) if status else None, flow)
    if as_json:
        echo_json(items)
        return
    for item in items:
        click.echo(f"{item.id}  {item.status:<8}  {item.flow:<22}  {item.reason:<26}  x{item.attempts:<3} "
                   f"{item.last_seen:%Y-%m-%d %H:%M}  {item.key}  {item.detail}")
    click.echo(f"{len(items)} exception(s)", err=True)


@click.command("redrive", cls=OneLineCommand)
@click.argument("exception_ids", nargs=-1, metavar="[ID]...")
@click.option("--all", "redrive_all", is_flag=True, help="Re-drive every OPEN exception.")
@click.option("--reason", default=None, help="With --all: only the OPEN exceptions with this reason.")
@store_option
@system_option
@token_option
@wait_option
@bus_option
def redrive(exception_ids: tuple[str, ...], redrive_all: bool, reason: str | None, store: str,
            systems: tuple[str, ...], token: str, max_wait_s: float, bus_url: str | None) -> None:
    """Run refused messages again once their master data is fixed; exit 1 if any still fails."""
    from syncengine.ledger.records import ExceptionStatus, LedgerError

    if bool(exception_ids) == redrive_all:
        fail("redrive", "give exception ids or --all, not both and not neither")
    if reason is not None and not redrive_all:
        fail("redrive", "--reason filters --all; leave it out when naming ids")
    engine = open_engine("redrive", store, systems, token)
    ledger = engine.ports.ledger
    if redrive_all:
        exception_ids = tuple(item.id for item in ledger.exceptions(ExceptionStatus.OPEN)
                              if reason is None or item.reason == reason)
    for exception_id in exception_ids:  # check them all before marking any as re-driven
        try:
            item = ledger.exception(exception_id)
            engine.registry.route(str(item.payload.get("handler")))
        except (LedgerError, LookupError) as error:
            fail("redrive", str(error))
        if item.status is not ExceptionStatus.OPEN:
            fail("redrive", f"exception {exception_id} is {item.status}, only an OPEN one can be re-driven")
    if bus_url is not None:
        from harness.engine_bus_redrive import redrive_on_bus

        still = redrive_on_bus(engine, [ledger.exception(exception_id) for exception_id in exception_ids], bus_url,
                               store, max_wait_s)
    else:
        still = _redrive_here(engine, exception_ids, max_wait_s)
    click.echo(f"{len(exception_ids) - still} of {len(exception_ids)} re-driven exception(s) went through",
               err=True)
    sys.exit(EXIT_STILL_FAILING if still else EXIT_OK)


@click.group("dead-letters", cls=OneLineGroup, invoke_without_command=True)
@optional_store_option
@click.option("--status", type=click.Choice(["OPEN", "REDRIVEN"]), default=None, help="Only letters in this state.")
@json_option
@click.pass_context
def dead_letters(context: click.Context, store: str | None, status: str | None, as_json: bool) -> None:
    """List dead letters (poison messages, permanent errors); `redrive ID` hands one back."""
    context.obj = {"store": store}
    if context.invoked_subcommand is not None:
        return
    if store is None:
        fail("dead-letters", MISSING_STORE)
    from syncengine.ledger.records import DeadLetterStatus

    letters = open_engine("dead-letters", store).ports.ledger.dead_letters(
        DeadLetterStatus(status) if status else None)
    if as_json:
        echo_json(letters)
        return
    for letter in letters:
        click.echo(f"{letter.id}  {letter.status:<8}  {letter.flow:<22}  {letter.reason:<26}  "
                   f"{letter.time:%Y-%m-%d %H:%M}  {letter.message_id}  {letter.detail}")
    click.echo(f"{len(letters)} dead letter(s)", err=True)


def _redrive_here(engine: Engine, exception_ids: tuple[str, ...], max_wait_s: float) -> int:
    """Run OPEN exceptions' messages in this process; print each one's state; return how many still fail."""
    from syncengine.ledger.records import ExceptionStatus

    # Each goes to the front of its key: the last first, so one key's messages keep their order.
    for exception_id in reversed(exception_ids):
        engine.redrive(exception_id)
    drain(engine, max_wait_s)
    still = 0
    for exception_id in exception_ids:
        item = engine.ports.ledger.exception(exception_id)
        still += item.status is not ExceptionStatus.RESOLVED
        click.echo(f"{item.id}  {item.status}" + ("" if item.status is ExceptionStatus.RESOLVED
                                                 else f"  {item.reason}: {item.detail}"))
    return still


@dead_letters.command("redrive")
@click.argument("letter_ids", nargs=-1, required=True, metavar="ID...")
@optional_store_option
@system_option
@token_option
@wait_option
@bus_option
@click.pass_obj
def redrive_dead_letters(obj: dict[str, str | None], letter_ids: tuple[str, ...], store: str | None,
                         systems: tuple[str, ...], token: str, max_wait_s: float, bus_url: str | None) -> None:
    """Hand dead letters back to the engine after fixing their cause; exit 1 if any fails again."""
    from syncengine.domain.errors import EngineError
    from syncengine.ledger.records import DeadLetterStatus, LedgerError

    store = store or obj["store"]
    if store is None:
        fail("dead-letters redrive", MISSING_STORE)
    engine = open_engine("dead-letters redrive", store, systems, token)
    ledger = engine.ports.ledger
    before = {letter.id for letter in ledger.dead_letters()}
    exceptions_before = {item.id for item in ledger.exceptions()}
    for letter_id in letter_ids:  # check them all before marking any as re-driven
        try:
            letter = ledger.dead_letter_by_id(letter_id)
            if "handler" in letter.payload:
                engine.registry.route(str(letter.payload["handler"]))
        except (LedgerError, LookupError) as error:
            fail("dead-letters redrive", str(error))
        if letter.status is not DeadLetterStatus.OPEN:
            fail("dead-letters redrive", f"dead letter {letter_id} is {letter.status}, only an OPEN one can be "
                                         "re-driven")
    close = None
    if bus_url is not None:
        from harness.engine_bus_redrive import bus_outlet

        engine.outlet, close = bus_outlet("dead-letters redrive", bus_url, store)
    unredrivable = 0
    for letter_id in letter_ids:
        try:
            engine.redrive_dead_letter(letter_id)
        except EngineError as error:  # kept nothing to re-drive: it stays OPEN, the others go on
            click.echo(f"cannot re-drive {letter_id}: {error}")
            unredrivable += 1
    if close is not None:
        close()
        click.echo(f"{len(letter_ids) - unredrivable} of {len(letter_ids)} dead letter(s) handed to the workers "
                   "on the bus (`firmsim engine dead-letters` and `exceptions` show what fails again)", err=True)
        sys.exit(EXIT_STILL_FAILING if unredrivable else EXIT_OK)
    drain(engine, max_wait_s)
    new_letters = [letter for letter in ledger.dead_letters() if letter.id not in before]
    new_exceptions = [item for item in ledger.exceptions() if item.id not in exceptions_before]
    for letter in new_letters:
        click.echo(f"failed again: {letter.id}  {letter.reason}: {letter.detail}")
    for item in new_exceptions:
        click.echo(f"failed again: {item.id}  {item.reason}: {item.detail}")
    failed = len(new_letters) + len(new_exceptions) + unredrivable
    click.echo(f"{len(letter_ids)} dead letter(s) re-driven, {failed} failed again", err=True)
    sys.exit(EXIT_STILL_FAILING if failed else EXIT_OK)


@click.command("replay", cls=OneLineCommand)
@click.option("--from", "after", required=True, metavar="CURSOR",
              help="Re-read the feed after this cursor ('0' or 'start': from the beginning).")
@click.option("--feed", default=None, help="The system whose feed to re-read (or give it as a bare --system S).")
@store_option
@system_option
@token_option
@wait_option
def replay(after: str, feed: str | None, store: str, systems: tuple[str, ...], token: str, max_wait_s: float) -> None:
    """Re-read a system's feed from a cursor; what was already applied is skipped by tracking."""
    bare = [value for value in systems if "=" not in value]
    if feed is None and len(bare) == 1:
        feed = bare[0]
    if feed is None or len(bare) > 1 or (bare and bare[0] != feed):
        fail("replay", "name the one feed to re-read: --system S (or --feed S) beside the --system S=URL ones")
    engine = open_engine("replay", store, systems, token)
    if feed not in engine.ports.clients:
        fail("replay", f"--system: give {feed}=URL, the feed's own system")
    from syncengine.domain.errors import EngineError

    engine.add_poller(feed)
    try:
        result = engine.replay(feed, None if after in ("0", "start") else after)
    except EngineError as error:
        fail("replay", f"{feed} feed: {error}", EXIT_COULD_NOT_RUN)
    parked = drain(engine, max_wait_s)
    counts = engine.metrics.flows.values()  # a fresh engine: everything counted is this replay's
    click.echo(f"{feed}: {result.events} event(s) re-read to cursor {result.cursor}; "
               f"{sum(c.processed for c in counts)} applied, {sum(c.duplicates for c in counts)} already applied "
               f"(skipped), {sum(c.exceptions for c in counts)} exception(s), "
               f"{sum(c.dead_letters for c in counts)} dead letter(s), {parked} parked after --max-wait")
    held = engine.queues.depth()
    if held:
        click.echo(f"{held} message(s) held behind an open exception: fix it and replay again", err=True)
    sys.exit(EXIT_STILL_FAILING if held or parked else EXIT_OK)


OPERATOR_COMMANDS = (exceptions, redrive, dead_letters, replay)


def add_operator_commands(group: click.Group) -> None:
    """Add the operators' commands to the `firmsim engine` group."""
    for command in OPERATOR_COMMANDS:
        group.add_command(command)
