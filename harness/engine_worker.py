"""`firmsim engine worker`: one process of the distributed engine (RabbitMQ bus, PostgreSQL ledger)."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from harness.gc_pause import GC_THRESHOLDS

if TYPE_CHECKING:
    from syncengine.adapters.bus.port import Publisher
    from syncengine.adapters.bus.timings import BusTimings
    from syncengine.ports import Clock
    from syncengine.runtime.metrics import MetricsSnapshot
    from syncengine.runtime.worker import DistributedWorker

EXIT_BAD_INPUT = 2
EXIT_COULD_NOT_RUN = 3
BROKER_PUBLISH = "broker_publish"
METRICS_FILE_EVERY_S = 1.0


def _systems(values: tuple[str, ...]) -> dict[str, str]:
    systems: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"expected name=http://host:port, got {value!r}", param_hint="--system")
        systems[name] = url.rstrip("/")
    if not systems:
        raise click.BadParameter("give at least one --system name=URL", param_hint="--system")
    return systems


class _TimedPublisher:
    """A publisher that adds the wall seconds of each publish (confirmed by the broker) to the engine's
    `broker_publish` component, so `firmsim_engine_seconds_total` and `firmsim load` show the broker's share."""

    def __init__(self, publisher: Publisher, spend: Callable[[str, float], None]) -> None:
        self._publisher = publisher
        self._spend = spend

    def publish(self, partition: int, body: bytes, message_id: str) -> None:
        """Publish one message, timed."""
        started = time.perf_counter()
        try:
            self._publisher.publish(partition, body, message_id)
        finally:
            self._spend(BROKER_PUBLISH, time.perf_counter() - started)

    def publish_batch(self, messages: Sequence[tuple[int, bytes, str]]) -> None:
        """Publish a batch, timed."""
        started = time.perf_counter()
        try:
            self._publisher.publish_batch(messages)
        finally:
            self._spend(BROKER_PUBLISH, time.perf_counter() - started)

    def close(self) -> None:
        """Close the publisher."""
        self._publisher.close()


def _time_publishing(running: DistributedWorker) -> None:
    """Make every publisher the worker opens a timed one (the worker asks its bus for one per thread)."""
    bus = running.bus
    open_publisher = bus.publisher
    spend = running.engine.metrics.spend
    bus.publisher = lambda: _TimedPublisher(open_publisher(), spend)  # type: ignore[method-assign]


def _clock(epoch_text: str | None, origin: float | None, speed: float, path: Path | None) -> Clock:
    """Return the worker's clock: the wall, the wall scaled from an epoch, or a live run's clock file."""
    from harness.runner.live_clock import FollowedClock
    from syncengine.adapters.clock import ScaledClock, SystemClock

    if epoch_text is None and origin is None and speed == 1.0 and path is None:
        return SystemClock()
    try:
        epoch = datetime.fromisoformat(epoch_text) if epoch_text else None
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 instant, got {epoch_text!r}",
                                 param_hint="--clock-epoch") from None
    if epoch is None or epoch.tzinfo is None:
        raise click.BadParameter("give an aware ISO 8601 instant (with its offset)", param_hint="--clock-epoch")
    return FollowedClock(epoch, path) if path is not None else ScaledClock(epoch, speed, origin)


def _settle_heap() -> None:
    """Freeze what start-up built (modules, clients, connections: never garbage) out of the collector's scans,
    and collect less often (GC_THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _fail(code: int, message: str) -> None:
    click.echo(f"firmsim engine worker: {message}", err=True)
    sys.exit(code)


@click.command("worker")
@click.option("--bus", "bus_url", required=True, help="amqp://user:pass@host:port/[?prefix=name] (RabbitMQ).")
@click.option("--store", "store_url", required=True, help="postgresql://…[?schema=name] (the ledger).")
@click.option("--system", "systems", multiple=True, help="name=URL of a system to sync (repeat: crm, psa, hcm, erp).")
@click.option("--token", default="firmsim-dev-token", show_default=True, help="Bearer token for the systems.")
@click.option("--clock-epoch", default=None, help="Simulated instant (ISO 8601, aware) at --clock-origin.")
@click.option("--clock-origin", default=None, type=float, help="Unix time when the clock read --clock-epoch.")
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Simulated seconds per wall second.")
@click.option("--partitions", default=8, show_default=True, type=click.IntRange(1, 999),
              help="Partition queues (every worker of one bus must agree).")
@click.option("--workers", "threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads running keys in this process.")
@click.option("--poll-interval", default=0.2, show_default=True, type=click.FloatRange(min=0.01),
              help="Seconds between reads of a quiet feed.")  # distributed.WORKER_POLL_INTERVAL_S (loaded lazily)
@click.option("--poll-limit", default=1000, show_default=True, type=click.IntRange(1, 1000),
              help="Events per feed page read (the feed's maximum is 1000); larger pages cost fewer requests "
                   "and ledger units of work per event.")
@click.option("--metrics-port", default=None, type=click.IntRange(0, 65535), help="Serve /metrics on this port.")
@click.option("--clock-file", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Follow the clock a live run publishes here (with --clock-epoch) instead of scaling the wall.")
@click.option("--metrics-file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write this worker's metrics (sync lag samples, counters) here as JSON every second and on "
                   "stopping.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the retry jitter stream.")
def worker(bus_url: str, store_url: str, systems: tuple[str, ...], token: str, clock_epoch: str | None,
           clock_origin: float | None, speed: float, partitions: int, threads: int, poll_interval: float,
           poll_limit: int, clock_file: Path | None, metrics_port: int | None, metrics_file: Path | None,
           seed: int) -> None:
    """Run one worker of the distributed engine until SIGTERM or Ctrl-C; any number share the work."""
    from harness.runner.flows import builtin_flows
    from syncengine.adapters.bus.port import BusError
    from syncengine.ledger.records import LedgerError
    from syncengine.runtime.coordination import CoordinationError
    from syncengine.runtime.distributed import build_worker

    urls = _systems(systems)
    clock = _clock(clock_epoch, clock_origin, speed, clock_file)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.CRITICAL)  # its connection failures are reported once, below
    try:
        running = build_worker(bus_url, store_url, urls, token=token, clock=clock, partitions=partitions,
                               threads=threads, poll_interval_s=poll_interval, seed=seed,
                               flows=tuple(builtin_flows()), poll_limit=poll_limit)
    except (BusError, LedgerError, CoordinationError) as error:
        bad_url = "expected" in str(error)
        _fail(EXIT_BAD_INPUT if bad_url else EXIT_COULD_NOT_RUN, str(error))
        return
    _time_publishing(running)
    _settle_heap()
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    metrics = None
    if metrics_port is not None:
        from syncengine.runtime.prometheus import EngineCollector, start_metrics_server

        collector = EngineCollector(running.engine.snapshot, extra_gauges=running.gauges,
                                    bus_timings=running.bus.timings)
        try:
            metrics = start_metrics_server(metrics_port, collector)
        except OSError as error:
            running.stop(5.0)
            _fail(EXIT_BAD_INPUT, f"--metrics-port {metrics_port}: {error.strerror or error}")
    running.start()
    click.echo(f"firmsim engine worker {running.worker_id}: {len(urls)} systems, {partitions} partitions"
               + (f", metrics on {metrics.url}" if metrics else ""), err=True)
    written = _MetricsFile(metrics_file, running.bus.timings) if metrics_file is not None else None
    while not stop.wait(METRICS_FILE_EVERY_S):
        if written is not None:
            written.write(running.engine.snapshot(), final=False)
    running.stop(10.0)
    if metrics is not None:
        metrics.stop()
    if written is not None:
        written.write(running.engine.snapshot(), final=True)


class _MetricsFile:
    """This worker's metrics as JSON, `{"final": bool, "metrics": snapshot, "bus": timings}`, replaced whole
    each time (a reader never sees half of it); `final` once the worker has stopped. `bus` holds the
    delivery-delay and ack histograms encoded (BusTimings.to_dict)."""

    def __init__(self, path: Path, bus_timings: BusTimings) -> None:
        self.path = path
        self.bus_timings = bus_timings
        self._failed = False

    def write(self, snapshot: MetricsSnapshot, *, final: bool) -> None:
        """Write the snapshot; say once if the file cannot be written."""
        partial = self.path.with_name(f"{self.path.name}.partial")
        try:
            partial.write_text(json.dumps({"final": final, "metrics": dataclasses.asdict(snapshot),
                                           "bus": self.bus_timings.to_dict()}), encoding="utf-8")
            partial.replace(self.path)
        except OSError as error:
            if not self._failed:
                click.echo(f"firmsim engine worker: --metrics-file {self.path}: {error.strerror or error}", err=True)
            self._failed = True
