"""An engine over an operator's store (a SQLite ledger file or a PostgreSQL URL) that calls the systems
but never polls them, and the loop that runs its queued messages here until they go through, fail
again or the operator's `--max-wait` runs out (then they are parked, re-drivable, never lost)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from harness.engine_cli import POSTGRES_SCHEMES, fail
from syncengine.runtime.dispatch import AttemptOutcome
from syncengine.runtime.engine import Engine


def open_engine(command: str, store: str, systems: Iterable[str] = (), token: str = "firmsim-dev-token") -> Engine:
    """Build an engine over a store with every built-in flow; systems are called, never polled."""
    from harness.runner.flows import builtin_flows
    from syncengine.bootstrap import ConfigError, EngineConfig, SystemConfig, bootstrap
    from syncengine.ledger.postgres import split_store_url

    if store.startswith(POSTGRES_SCHEMES):
        url, schema = split_store_url(store)
        ledger: dict[str, Any] = {"ledger": "postgresql", "store_url": url, "ledger_schema": schema}
    elif Path(store).is_file():
        ledger = {"ledger": "sqlite", "ledger_path": store}
    else:
        fail(command, f"--store: expected a ledger file or a postgresql:// URL, no file {store!r}")
    configs = [SystemConfig(name, base_url=url, token=token, poll=False) for name, url in _system_urls(command,
                                                                                                        systems)]
    try:
        engine = bootstrap(EngineConfig(systems=tuple(configs), flows=tuple(builtin_flows()), **ledger))
    except ConfigError as error:
        fail(command, f"--store: {error}" if str(error).startswith(("store_url", "ledger")) else str(error))
    click.get_current_context().call_on_close(engine.ports.ledger.close)
    return engine


def _system_urls(command: str, values: Iterable[str]) -> list[tuple[str, str]]:
    urls: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep:
            continue  # a bare name picks a feed (replay); it is not a connection
        if not name or not url.startswith(("http://", "https://")):
            fail(command, f"--system: expected name=http://host:port, got {value!r}")
        urls[name] = url.rstrip("/")
    return sorted(urls.items())


def drain(engine: Engine, max_wait_s: float, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run queued messages until none is ready, honouring retry waits for at most `max_wait_s`.

    Return how many were still retrying when the time ran out; those are parked in the exception
    queue (reason `retries-exhausted`), to be re-driven later, so nothing is lost.
    """
    deadline = time.monotonic() + max_wait_s
    ready_at: dict[str, float] = {}
    while True:
        now = time.monotonic()
        keys = engine.runnable_keys()
        if not keys:
            return 0
        due = [key for key in keys if ready_at.get(key, 0.0) <= now]
        if not due:
            wake = min(ready_at[key] for key in keys)
            if wake > deadline:
                return _park_pending(engine, keys)
            sleep(max(0.0, wake - now))
            continue
        for key in due:
            result = engine.dispatch(key)
            if result is not None and result.outcome is AttemptOutcome.RETRY:
                ready_at[key] = time.monotonic() + result.delay_s
            else:
                ready_at.pop(key, None)


def _park_pending(engine: Engine, keys: list[str]) -> int:
    ledger, now, parked = engine.ports.ledger, engine.ports.clock.now(), 0
    for key in keys:
        while (delivery := engine.queues.head(key)) is not None:
            engine.queues.pop(key)
            ledger.record_exception(flow=delivery.route.flow, key=key, message_id=delivery.id,
                                    reason="retries-exhausted", detail=f"still failing when the operator's "
                                    f"--max-wait ran out (attempt {delivery.attempt})", payload=delivery.payload(),
                                    now=now)
            parked += 1
    return parked

