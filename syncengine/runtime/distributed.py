"""The distributed engine: RabbitMQ partition queues + the PostgreSQL ledger, shared by any number of
`firmsim engine worker` processes; and `inspect`, what the harness reads to wait for quiescence.

    --bus amqp://guest:guest@127.0.0.1:5672/[?prefix=firmsim.engine]
    --store postgresql://postgres@127.0.0.1:5432/test[?schema=firmsim]

`prefix` names the partition queues (and, with the schema, the workers' coordination namespace);
`schema` is the ledger's PostgreSQL schema. Both default so that a plain URL just works.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from syncengine.adapters.bus.port import BusError
from syncengine.adapters.bus.rabbitmq import RabbitBus
from syncengine.bootstrap import ConfigError, EngineConfig, SystemConfig, bootstrap
from syncengine.ledger.postgres import PostgresLedger
from syncengine.ledger.records import DeadLetter, ExceptionItem, ExceptionStatus, LedgerError
from syncengine.ports import Clock
from syncengine.runtime.coordination import CoordinationError, PgCoordinator, live_workers, store_location
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Flow
from syncengine.runtime.worker import DistributedWorker

DEFAULT_PREFIX = "firmsim.engine"
DEFAULT_PARTITIONS = 8
WORKER_POLL_LIMIT = 1000
"""Events per feed page a worker reads (the feed's maximum): against pages of 100, on a backlog of time
approvals (bench_engine, 1 worker, 4,000 events, 3 paired runs), 0.29 against 0.34 ms of engine CPU and
0.25 against 0.30 ms of the systems' per event, a third of the feed requests."""
WORKER_POLL_INTERVAL_S = 0.2
"""Seconds between a worker's reads of a feed it found empty (`firmsim engine worker --poll-interval`). An event
waits for the next read: against 0.5 s, bench_engine (1 worker, 4,000 events, 32 projects, two interleaved
pairs) gave sync lag p50 0.16/0.12 s against 0.25/0.35 s and p99 0.57/0.34 s against 0.97/0.83 s, for 5 empty
reads a second per feed instead of 2."""
MAX_INSPECTORS = 4
STARTUP_ATTEMPTS = 5
STARTUP_RETRY_S = 0.5
"""A worker whose coordination session is cut while it starts tries again, 0.5 s, 1 s, ... later."""


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """Where the distributed engine stands: queued, in flight, exceptions and dead letters."""

    idle: bool
    queue_depth: int
    in_flight: int
    exceptions: list[ExceptionItem] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    workers: int = 0
    backing_off: int = 0
    unread: int = 0
    drained_age_s: float | None = None
    """How long ago the oldest last empty read of any feed began, as the workers last reported (None: a feed
    has not been found empty since its owner took it over, or no feed is owned)."""
    heartbeat_age_s: float = 0.0
    """How old the oldest live worker's heartbeat is (what it holds may have changed since)."""


def caught_up(status: EngineStatus, within_s: float) -> bool:
    """Tell whether every live worker was heard from, and every feed found empty by a read that began, less
    than `within_s` seconds ago. `idle` alone is a snapshot of heartbeats up to half a second old and of
    feeds read at some point: it holds while a feed carries events its busy owner has not read yet, or just
    after a message was taken off the bus and before a heartbeat says so."""
    return status.drained_age_s is not None and status.drained_age_s < within_s and status.heartbeat_age_s < within_s


class Settling:
    """Wait for the distributed engine to settle after some work was done: idle in every status seen for
    `quiet_s`, then `caught_up` since that quiet began (so what the systems carried then has been read and
    published, and no heartbeat predates a queue depth read as 0)."""

    def __init__(self, quiet_s: float) -> None:
        self.quiet_s = quiet_s
        self._quiet_since: float | None = None
        self.last: EngineStatus | None = None

    def observe(self, status_of: Callable[[], EngineStatus]) -> bool:
        """Read the engine's status once; tell whether it has settled."""
        asked = time.monotonic()
        status = self.last = status_of()
        if not status.idle:
            self._quiet_since = None
            return False
        if self._quiet_since is None:
            self._quiet_since = time.monotonic()  # after this status's queue depth was read
            return False
        quiet_for = asked - self._quiet_since
        return quiet_for >= self.quiet_s and caught_up(status, quiet_for)


def bus_location(bus_url: str) -> tuple[str, str]:
    """Split `amqp://…[?prefix=name]` into the broker URL and the queue prefix."""
    parts = urlsplit(bus_url)
    if parts.scheme not in ("amqp", "amqps"):
        raise BusError(f"--bus {bus_url!r}: expected an amqp:// URL")
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), prefix


def namespace(bus_url: str) -> str:
    """Return the coordination namespace of a bus (its queue prefix)."""
    return bus_location(bus_url)[1]


def open_bus(bus_url: str, partitions: int = DEFAULT_PARTITIONS, *, prefetch: int = 200) -> RabbitBus:
    """Return the RabbitMQ bus a URL names, its partition queues declared; raise BusError."""
    url, prefix = bus_location(bus_url)
    bus = RabbitBus(url, partitions=partitions, prefix=prefix, prefetch=prefetch)
    bus.declare()
    return bus


def open_store(store_url: str) -> PostgresLedger:
    """Return the PostgreSQL ledger a URL names; raise LedgerError when it cannot be reached."""
    url, schema = store_location(store_url)
    return PostgresLedger(url, schema=schema)


class _Inspector:
    """The connections `inspect` keeps between calls (the harness asks several times a second)."""

    def __init__(self, bus_url: str, store_url: str) -> None:
        self.namespace = namespace(bus_url)
        self.store_url = store_url
        self.bus_url, self.prefix = bus_location(bus_url)
        self.bus: RabbitBus | None = None
        self.ledger = open_store(store_url)
        url, _ = store_location(store_url)
        try:
            self.connection = psycopg.connect(url, autocommit=True, connect_timeout=5)
        except psycopg.Error as error:
            self.ledger.close()
            raise CoordinationError(f"cannot reach PostgreSQL: {type(error).__name__}") from error

    def status(self) -> EngineStatus:
        workers = live_workers(self.store_url, self.namespace, self.connection)
        partitions = max((worker.partitions for worker in workers), default=DEFAULT_PARTITIONS)
        if self.bus is None or self.bus.partitions != partitions:
            if self.bus is not None:
                self.bus.close()
            self.bus = RabbitBus(self.bus_url, partitions=partitions, prefix=self.prefix)
        depth = self.bus.depth()
        exceptions = self.ledger.exceptions(ExceptionStatus.OPEN)
        dead_letters = self.ledger.dead_letters()
        in_flight = sum(worker.in_flight for worker in workers)
        backing_off = sum(worker.backing_off for worker in workers)
        unread = sum(worker.unread for worker in workers)
        systems = max((worker.systems for worker in workers), default=0)
        intake_owned = sum(worker.intake_owned for worker in workers)
        # Idle only once every feed has an owner that has read it since taking it over.
        idle = bool(workers) and depth == 0 and in_flight == 0 and unread == 0 and intake_owned >= systems
        feeding = [worker for worker in workers if worker.intake_owned]
        drained = None if not feeding or any(worker.drained_age_s is None for worker in feeding) else \
            max(worker.drained_age_s or 0.0 for worker in feeding)
        heartbeat_age = max((worker.heartbeat_age_s for worker in workers), default=0.0)
        return EngineStatus(idle, depth, in_flight, exceptions, dead_letters, len(workers), backing_off, unread,
                            drained, heartbeat_age)

    def close(self) -> None:
        if self.bus is not None:
            self.bus.close()
        self.ledger.close()
        self.connection.close()


_inspectors: dict[tuple[str, str], _Inspector] = {}
_inspectors_lock = threading.Lock()


def close_inspectors() -> None:
    """Close the connections `inspect` keeps (at exit, or when a caller is done with its runs)."""
    with _inspectors_lock:
        while _inspectors:
            with contextlib.suppress(Exception):
                _inspectors.pop(next(iter(_inspectors))).close()


def inspect(bus_url: str, store_url: str) -> EngineStatus:
    """Read the distributed engine's state: queue depth, what the live workers hold, the ledger's
    open exceptions and dead letters; raise BusError / LedgerError / CoordinationError."""
    with _inspectors_lock:
        inspector = _inspectors.get((bus_url, store_url))
        if inspector is None:
            while len(_inspectors) >= MAX_INSPECTORS:  # runs come and go: keep the latest few
                with contextlib.suppress(Exception):
                    _inspectors.pop(next(iter(_inspectors))).close()
            if not _inspectors:
                atexit.unregister(close_inspectors)
                atexit.register(close_inspectors)
            inspector = _inspectors[(bus_url, store_url)] = _Inspector(bus_url, store_url)
        try:
            return inspector.status()
        except Exception:
            # Start afresh next time: a connection may be what failed.
            del _inspectors[(bus_url, store_url)]
            with contextlib.suppress(Exception):
                inspector.close()
            raise


def build_worker(bus_url: str, store_url: str, systems: Mapping[str, str], *, token: str, clock: Clock,
                 partitions: int = DEFAULT_PARTITIONS, threads: int = 8,
                 poll_interval_s: float = WORKER_POLL_INTERVAL_S,
                 poll_limit: int = WORKER_POLL_LIMIT, seed: int = 0, flows: tuple[Flow, ...],
                 worker_id: str | None = None) -> DistributedWorker:
    """Build one distributed worker: engine with `flows`, bus, ledger, coordination (raise BusError,
    LedgerError or CoordinationError naming what cannot be reached)."""
    bus = open_bus(bus_url, partitions)
    worker_id = worker_id or uuid.uuid4().hex[:12]
    url, schema = store_location(store_url)
    config = EngineConfig(
        systems=tuple(SystemConfig(name, base_url=system_url, token=token) for name, system_url in systems.items()),
        ledger="postgresql", store_url=url, ledger_schema=schema, clock=clock, seed=seed, flows=flows,
        park_on_exception=False, virtual_latency=False, poll_limit=poll_limit)
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        coordinator: PgCoordinator | None = None
        engine: Engine | None = None
        try:
            coordinator = PgCoordinator(store_url, namespace(bus_url), worker_id)
            with coordinator.exclusive("create-ledger"):  # workers starting together would race on its DDL
                engine = bootstrap(config)
            return DistributedWorker(engine, bus, coordinator, workers=threads, poll_interval_s=poll_interval_s,
                                     worker_id=worker_id)
        except ConfigError as error:
            if coordinator is not None:
                coordinator.close()
            raise LedgerError(str(error)) from error
        except CoordinationError:
            # A session cut while starting (a failover, an operator's pg_terminate_backend): start again.
            if coordinator is not None:
                coordinator.close()
            if engine is not None:
                engine.ports.ledger.close()
            if attempt == STARTUP_ATTEMPTS:
                raise
            time.sleep(STARTUP_RETRY_S * attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


__all__ = ["CoordinationError", "EngineStatus", "LedgerError", "bus_location", "inspect", "namespace", "open_bus",
           "open_store"]
