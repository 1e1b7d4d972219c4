"""The flags of `firmsim run` that only live mode takes, and their validation (bad ones exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from harness.runner.live import LiveOptions

BUS_SCHEMES = ("amqp://", "amqps://")
STORE_SCHEMES = ("postgresql://", "postgres://")
LIVE_FLAGS = ("speed", "bus", "store", "workers", "quiet_period", "quiescence_timeout", "port_base", "token",
              "backlog_limit", "metrics_port")


def live_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the live-mode flags to a click command."""
    options = [
        click.option("--speed", type=click.FloatRange(min=0.001), default=None,
                     help="Live: simulated seconds per real second (default 86400: one simulated day per second)."),
        click.option("--bus", default=None, metavar="URL",
                     help="Live: RabbitMQ URL (amqp://…) for the distributed engine; with --store."),
        click.option("--store", default=None, metavar="URL",
                     help="Live: PostgreSQL URL (postgresql://…) for the distributed engine's ledger; with --bus."),
        click.option("--workers", type=click.IntRange(1, 64), default=None,
                     help="Live, with --bus/--store: engine worker processes to start (default 2)."),
        click.option("--quiet-period", type=click.FloatRange(min=0.1), default=None,
                     help="Live: real seconds with no new event (and the engine idle) that count as quiescent "
                          "(default 3, external 10)."),
        click.option("--quiescence-timeout", type=click.FloatRange(min=1), default=None,
                     help="Live: real seconds to wait for quiescence after the period before checking "
                          "(default 120)."),
        click.option("--port-base", type=click.IntRange(1, 65530), default=None,
                     help="Live: serve crm on base+1, psa +2, hcm +3, erp +4 (default: free ports)."),
        click.option("--token", default=None, help="Live: a bearer token the systems also accept (for your engine)."),
        click.option("--backlog-limit", type=click.IntRange(min=0), default=None,
                     help="Live: at the end of a simulated day the firm waits (up to 60 s) while the built-in "
                          "engine has more than N messages to run (default 0: until it has caught up)."),
        click.option("--metrics-port", type=click.IntRange(1, 65000), default=None,
                     help="Live, built-in engine: serve its Prometheus /metrics on this port (with --bus/--store "
                          "worker N on PORT+N-1; default: free ports, printed at the start)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def refuse_live_flags(engine: str, values: dict[str, Any]) -> None:
    """Refuse live-only flags and `--engine external` in sim mode."""
    given = [f"--{name.replace('_', '-')}" for name in LIVE_FLAGS if values.get(name) is not None]
    if engine == "external":
        given.insert(0, "--engine external")
    if given:
        raise click.UsageError(f"{', '.join(given)} needs --mode live")


def live_settings(engine: str, values: dict[str, Any]) -> LiveOptions:
    """Return the LiveOptions of the flags, refusing combinations that cannot run."""
    from harness.runner.live import LiveOptions

    bus, store = values.get("bus"), values.get("store")
    if (bus is None) != (store is None):
        raise click.UsageError("--bus and --store go together (the distributed engine needs both)")
    if bus is not None and engine != "builtin":
        raise click.UsageError(f"--bus/--store run the built-in engine; they make no sense with --engine {engine}")
    if bus is not None and not bus.startswith(BUS_SCHEMES):
        raise click.BadParameter(f"expected amqp://user:pass@host:port/, got {bus!r}", param_hint="--bus")
    if store is not None and not store.startswith(STORE_SCHEMES):
        raise click.BadParameter(f"expected postgresql://user@host:port/db, got {store!r}", param_hint="--store")
    if values.get("metrics_port") is not None and engine != "builtin":
        raise click.UsageError(f"--metrics-port is the built-in engine's; --engine {engine} serves none")
    if values.get("workers") is not None and bus is None:
        raise click.UsageError("--workers needs --bus and --store (the embedded engine runs in-process)")
    defaults = LiveOptions()
    quiet = values.get("quiet_period")
    return LiveOptions(
        speed=values.get("speed") or defaults.speed, engine=engine, bus=bus, store=store,
        workers=values.get("workers") or defaults.workers,
        quiet_period_s=quiet if quiet is not None else (10.0 if engine == "external" else defaults.quiet_period_s),
        quiescence_timeout_s=values.get("quiescence_timeout") or defaults.quiescence_timeout_s,
        port_base=values.get("port_base"), token=values.get("token"), metrics_port=values.get("metrics_port"),
        backlog_limit=defaults.backlog_limit if values.get("backlog_limit") is None else values["backlog_limit"])
