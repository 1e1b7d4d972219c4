"""`--bus` for the operators' re-drives: hand the messages to the distributed workers through their
partition queues instead of running them in the command (the workers own each key's order).

An exception's message is published with its exception id and stays OPEN until the worker that owns
its key runs it (then RESOLVED) or it is refused again (OPEN, one attempt more); the command waits for
that up to `--max-wait`. A dead letter's message is published as the workers' intake would publish it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import click

from harness.engine_cli import EXIT_COULD_NOT_RUN, POSTGRES_SCHEMES, fail
from syncengine.domain.messages import SourceEvent
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Delivery

WAIT_POLL_S = 0.2


def bus_outlet(command: str, bus_url: str, store: str) -> tuple[Callable[[Delivery], None], Callable[[], None]]:
    """Return a function publishing a delivery to its partition (as the workers do) and a closer."""
    from syncengine.adapters.bus.port import BusError, partition_of
    from syncengine.runtime.coordination import CoordinationError, live_workers
    from syncengine.runtime.distributed import namespace, open_bus
    from syncengine.runtime.worker import encode

    if not store.startswith(POSTGRES_SCHEMES):
        fail(command, "--bus: give the workers' --store postgresql://… (their ledger), not a ledger file")
    try:
        workers = live_workers(store, namespace(bus_url))
        if not workers:
            fail(command, "--bus: no live worker on this bus and store; start `firmsim engine worker` first "
                          "(or re-drive here, without --bus)", EXIT_COULD_NOT_RUN)
        partitions = max(worker.partitions for worker in workers)
        bus = open_bus(bus_url, partitions)
        publisher = bus.publisher()
    except (BusError, CoordinationError) as error:
        fail(command, str(error), EXIT_COULD_NOT_RUN)

    def publish(delivery: Delivery) -> None:
        try:
            publisher.publish(partition_of(delivery.key, partitions), encode(delivery), delivery.id)
        except BusError as error:
            fail(command, f"{delivery.id}: {error}", EXIT_COULD_NOT_RUN)

    def close() -> None:
        publisher.close()
        bus.close()

    return publish, close


def check_order(items: Sequence[ExceptionItem], open_items: Sequence[ExceptionItem]) -> str | None:
    """Name an exception that would wait behind an older open one of its key left out of the re-drive."""
    chosen = {item.id for item in items}
    for item in items:
        older = next((other for other in open_items if other.key == item.key and other.id not in chosen
                      and other.id < item.id), None)
        if older is not None:
            return f"{item.id} waits behind {older.id} of key {item.key}: re-drive that one too (or --all)"
    return None


def redrive_on_bus(engine: Engine, items: Sequence[ExceptionItem], bus_url: str, store: str,
                   max_wait_s: float) -> int:
    """Publish OPEN exceptions' messages to the workers in order, wait for them; return how many still fail."""
    ledger = engine.ports.ledger
    problem = check_order(items, ledger.exceptions(ExceptionStatus.OPEN))
    if problem is not None:
        fail("redrive", problem)
    publish, close = bus_outlet("redrive", bus_url, store)
    try:
        for item in items:
            event = SourceEvent.from_cloudevent(str(item.payload["system"]), item.payload["event"])
            publish(Delivery(event, engine.registry.route(str(item.payload["handler"])), item.key,
                             exception_id=item.id))
    finally:
        close()
    deadline = time.monotonic() + max_wait_s
    pending = {item.id: item.attempts for item in items}
    while pending and time.monotonic() < deadline:
        time.sleep(WAIT_POLL_S)
        for exception_id, attempts in list(pending.items()):
            now = ledger.exception(exception_id)
            if now.status is ExceptionStatus.RESOLVED or now.attempts > attempts:
                del pending[exception_id]
    still = 0
    for item in items:
        now = ledger.exception(item.id)
        still += now.status is not ExceptionStatus.RESOLVED
        waiting = "  (no worker has run it yet)" if item.id in pending else ""
        click.echo(f"{now.id}  {now.status}" + ("" if now.status is ExceptionStatus.RESOLVED
                                                else f"  {now.reason}: {now.detail}{waiting}"))
    return still
