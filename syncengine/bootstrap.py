"""Wire the engine from configuration: ledger, one client per system, clock, seed, flows.

    engine = bootstrap(EngineConfig(
        systems=(SystemConfig("erp", app=erp_app), SystemConfig("psa", app=psa_app)),
        ledger="sqlite", ledger_path="runs/ledger.db", clock=clock, seed=7, flows=(time_billing.FLOW,)))

A PostgreSQL ledger shared by many workers: `ledger="postgresql", store_url="postgresql://…"`
(or the URL as `ledger_path`), in schema `ledger_schema`.

Nothing is built at import time; everything is built here.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncengine.adapters.clock import SystemClock
from syncengine.adapters.http import Credentials, SystemClient, WsgiApp
from syncengine.intake.webhooks import TOLERANCE_S, SignatureVerifier, WebhookReceiver
from syncengine.ledger.memory import InMemoryLedger
from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.sqlite import SqliteLedger
from syncengine.ports import Clock, Ports
from syncengine.retry import RetryPolicy
from syncengine.runtime.engine import Engine
from syncengine.runtime.metrics import Metrics
from syncengine.runtime.registry import Flow, HandlerRegistry

LEDGERS = ("memory", "sqlite", "postgresql")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_POLL_LIMIT = 100
"""Events per read of a feed page."""


class ConfigError(ValueError):
    """A configuration the engine cannot run with; the message names the field."""


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """How to reach one system instance: a WSGI app (simulated) or a base URL (live), and its auth."""

    name: str
    base_url: str | None = None
    app: WsgiApp | None = field(default=None, compare=False)
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    webhook_secret: str | None = None
    poll: bool = True
    timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything `bootstrap` needs."""

    systems: Sequence[SystemConfig] = ()
    ledger: str = "memory"
    ledger_path: str | Path | None = None
    store_url: str | None = None
    ledger_schema: str = "firmsim"
    clock: Clock | None = None
    seed: int = 0
    flows: Sequence[Flow] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_limit: int = DEFAULT_POLL_LIMIT
    park_on_exception: bool = True
    virtual_latency: bool = True
    webhook_tolerance_s: int = TOLERANCE_S


def _ledger(config: EngineConfig) -> AbstractLedger:
    if config.ledger == "memory":
        return InMemoryLedger()
    if config.ledger == "sqlite":
        if config.ledger_path is None:
            raise ConfigError("ledger_path: a sqlite ledger needs a file path (or ':memory:')")
        return SqliteLedger(config.ledger_path)
    if config.ledger == "postgresql":
        return _postgres_ledger(config)
    raise ConfigError(f"ledger: expected one of {', '.join(LEDGERS)}, got {config.ledger!r}")


def _postgres_ledger(config: EngineConfig) -> AbstractLedger:
    from syncengine.ledger.postgres import SCHEMA_NAME, PostgresLedger
    from syncengine.ledger.records import LedgerUnavailable

    field_name, url = ("store_url", config.store_url) if config.store_url else ("ledger_path", config.ledger_path)
    if not isinstance(url, str) or not url.startswith(POSTGRES_SCHEMES):
        raise ConfigError(f"{field_name}: a postgresql ledger needs a postgresql://user@host:port/db URL, got {url!r}")
    if not SCHEMA_NAME.match(config.ledger_schema):
        raise ConfigError(f"ledger_schema: expected a lower-case SQL name, got {config.ledger_schema!r}")
    try:
        return PostgresLedger(url, schema=config.ledger_schema)
    except (ValueError, LedgerUnavailable) as error:
        raise ConfigError(f"{field_name}: {getattr(error, 'detail', error)}") from error


def _client(system: SystemConfig, clock: Clock, metrics: Metrics) -> SystemClient:
    if system.app is None and not system.base_url:
        raise ConfigError(f"systems.{system.name}: give a base_url (live) or a WSGI app (simulated)")
    credentials = None
    if system.client_id or system.client_secret:
        if not (system.client_id and system.client_secret):
            raise ConfigError(f"systems.{system.name}: client_id and client_secret go together")
        credentials = Credentials(system.client_id, system.client_secret)
    if system.token is None and credentials is None:
        raise ConfigError(f"systems.{system.name}: give a token or client_id/client_secret")
    return SystemClient(system.name, system.base_url or f"http://{system.name}", clock, token=system.token,
                        credentials=credentials, app=system.app, timeout_s=system.timeout_s,
                        observer=metrics.observe_call)


def bootstrap(config: EngineConfig | Mapping[str, Any]) -> Engine:
    """Build an engine: ledger, clients, registry, intake; raise ConfigError naming a bad field."""
    if not isinstance(config, EngineConfig):
        config = config_from_mapping(config)
    names = [system.name for system in config.systems]
    if len(set(names)) != len(names):
        raise ConfigError(f"systems: names must be unique, got {names}")
    clock = config.clock or SystemClock()
    metrics = Metrics()
    clients = {system.name: _client(system, clock, metrics) for system in config.systems}
    ports = Ports(ledger=_ledger(config), clients=clients, clock=clock)
    engine = Engine(ports, HandlerRegistry(config.flows), policy=config.retry, rng=random.Random(config.seed),
                    metrics=metrics, park_on_exception=config.park_on_exception,
                    virtual_latency=config.virtual_latency)
    for system in config.systems:
        if system.poll:
            engine.add_poller(system.name, limit=config.poll_limit)
    secrets = {system.name: system.webhook_secret for system in config.systems if system.webhook_secret}
    verifier = SignatureVerifier(secrets, clock, config.webhook_tolerance_s)
    engine.webhooks = WebhookReceiver(verifier, engine, on_rejected=lambda _reason: _count_rejected(metrics))
    return engine


def _count_rejected(metrics: Metrics) -> None:
    metrics.rejected_signatures += 1


def config_from_mapping(values: Mapping[str, Any]) -> EngineConfig:
    """Read an EngineConfig from plain values (a CLI or YAML file), naming any unknown field."""
    known = set(EngineConfig.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown engine settings {unknown}; expected some of {sorted(known)}")
    settings = dict(values)
    systems = []
    for index, system in enumerate(settings.pop("systems", ())):
        if isinstance(system, SystemConfig):
            systems.append(system)
            continue
        if not isinstance(system, Mapping) or not isinstance(system.get("name"), str):
            raise ConfigError(f"systems[{index}]: expected {{name, base_url | app, token | client_id ...}}")
        bad = sorted(set(system) - set(SystemConfig.__dataclass_fields__))
        if bad:
            raise ConfigError(f"systems[{index}]: unknown settings {bad}")
        systems.append(SystemConfig(**system))
    try:
        return EngineConfig(systems=tuple(systems), **settings)
    except TypeError as error:
        raise ConfigError(str(error)) from error
