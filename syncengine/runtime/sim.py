"""The simulated runtime: the engine as SimPy processes in the scenario's Environment.

Time unit: one SimPy time unit is one second. A poller process per system reads its feed on an
interval; a worker process per key with work runs what is queued of that key as one batch
(`Engine.dispatch_batch`, as the live and distributed workers do: one unit of work, and a run of a
handler with a batch form handed to it at once), waiting out each batch's simulated latency and
each retry's backoff in virtual time (handlers never sleep); messages that arrive meanwhile make the
next batch. `drain()` returns a process that ends once the feeds are read dry and nothing is in flight.

A system whose feed rings a doorbell on every append (`doorbell(system)`, subscribed by the simulated
world, as a webhook would nudge a real engine) is not read while nothing was appended since its last
read that reached the end of the feed (an empty one, or one whose last page was not full): the
poller keeps its schedule and backoff, only the HTTP read that would return nothing is skipped.

While a system is down (a retry waits for it: it answered 503 or could not be reached), one key
probes it on its own backoff and the other keys whose attempts found it down wait for that key's
next attempt instead of each retrying on its own: an ERP outage of six hours costs a probe every
few minutes, not one attempt per waiting key every few minutes. When the probe's attempt ends any
other way (the system answered, or the message went to the exception queue), the waiting keys run
again at once, each as the next attempt of its message (its retry budget still counts from its
first failure).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy

from syncengine.domain.errors import EngineError, TransientFailure
from syncengine.runtime.dispatch import AttemptOutcome
from syncengine.runtime.engine import Engine

SimGenerator = Generator[simpy.Event, Any, None]
BATCH_MAX = 100
"""The most first attempts of a key one batch takes (the live and distributed workers' figure)."""


class EnvironmentClock:
    """A clock reading a SimPy Environment's virtual time (seconds after `epoch`)."""

    def __init__(self, env: simpy.Environment, epoch: datetime) -> None:
        if epoch.tzinfo is None:
            raise ValueError("EnvironmentClock needs an aware epoch")
        self.env = env
        self.epoch = epoch.astimezone(UTC)

    def now(self) -> datetime:
        """Return the epoch plus the environment's virtual seconds."""
        return self.epoch + timedelta(seconds=float(self.env.now))


class SimRuntime:
    """Run an engine's pollers and per-key workers as SimPy processes."""

    def __init__(self, env: simpy.Environment, engine: Engine, *, poll_interval_s: float = 60.0,
                 max_poll_interval_s: float | None = None) -> None:
        if poll_interval_s <= 0:
            raise ValueError("poll_interval_s must be > 0")
        self.env = env
        self.engine = engine
        self.poll_interval_s = poll_interval_s
        self.max_poll_interval_s = max(poll_interval_s, max_poll_interval_s or poll_interval_s)
        self.poll_failures: dict[str, int] = {}
        self._workers: dict[str, simpy.Process] = {}
        self._idle_waiters: list[simpy.Event] = []
        self._doorbells: set[str] = set()
        self._quiet: dict[str, str | None] = {}
        self._started = False
        self.skipped_polls = 0
        self._probers: dict[str, str] = {}
        """Per system found down: the key whose retries find out when it is back."""
        self._down_waiters: dict[str, list[simpy.Event]] = {}
        self.deferred_retries = 0
        """Retries that waited for another key's probe of a system that was down."""
        engine.listen(self._wake)

    def doorbell(self, system: str) -> Callable[[Any], None]:
        """Return a listener to call on every append to `system`'s feed; polls then skip reads known to be empty."""
        self._doorbells.add(system)

        def ring(_event: Any) -> None:
            self._quiet.pop(system, None)

        return ring

    def start(self, systems: Iterable[str] | None = None) -> None:
        """Start a poller process for each system with a feed poller (or the ones named)."""
        if self._started:
            raise RuntimeError("the runtime is already started")
        self._started = True
        for system in systems if systems is not None else list(self.engine.pollers):
            self.env.process(self._poller(system))

    @property
    def idle(self) -> bool:
        """Tell whether nothing is in flight: no worker running, no message ready."""
        return not self._workers and self.engine.idle

    def drain(self) -> simpy.Process:
        """Return a process that ends when every feed is read dry and nothing is in flight."""
        return self.env.process(self._draining())

    def _draining(self) -> SimGenerator:
        while True:
            events, latency_s, unreachable = self._poll_all()
            if latency_s:
                yield self.env.timeout(latency_s)
            if unreachable:
                # A feed that could not be read is not dry: read it again after an interval.
                yield self.env.timeout(self.poll_interval_s)
                continue
            if events == 0 and self.idle:
                return
            if not self.idle:
                waiter = self.env.event()
                self._idle_waiters.append(waiter)
                yield waiter

    def _poll_all(self) -> tuple[int, float, bool]:
        events = 0
        latency_s = 0.0
        unreachable = False
        for system in list(self.engine.pollers):
            read, latency, failure, _, _ = self._poll(system)
            events += read
            latency_s += latency
            unreachable = unreachable or isinstance(failure, TransientFailure)
        return events, latency_s, unreachable

    def _poll(self, system: str) -> tuple[int, float, EngineError | None, bool, str | None]:
        """Read a feed once: events read, latency, the failure if it failed, whether it read to the feed's end,
        and the cursor it stored."""
        try:
            result = self.engine.poll(system)
        except EngineError as error:
            # Nothing of the failed page was handed over; the next round reads it again.
            self.poll_failures[system] = self.poll_failures.get(system, 0) + 1
            latency_ms = getattr(getattr(error, "call", None), "latency_ms", 0)
            return 0, latency_ms / 1000, error, False, None
        # a page less than full is the feed's last (an empty read is one such page)
        at_end = result.events < self.engine.pollers[system].limit * result.pages
        return result.events, result.latency_ms / 1000, None, at_end, result.cursor

    def _poller(self, system: str) -> SimGenerator:
        # Back off while a feed is quiet (doubling up to max_poll_interval_s) and return to the
        # short interval as soon as a read finds events: nights and weekends cost few reads.
        interval = self.poll_interval_s
        while True:
            if self._known_empty(system):
                read, latency_s = 0, 0.0
                self.skipped_polls += 1
            else:
                read, latency_s, _, at_end, cursor = self._poll(system)
                if at_end and system in self._doorbells:
                    self._quiet[system] = cursor  # what the poll stored: no ledger read to ask it back
            interval = self.poll_interval_s if read else min(interval * 2, self.max_poll_interval_s)
            yield self.env.timeout(latency_s + interval)

    def _known_empty(self, system: str) -> bool:
        # quiet since the last read to the feed's end, and nobody moved the cursor (a replay, a redrive) since
        return system in self._quiet and self._quiet[system] == self.engine.ports.ledger.cursor(system)

    def _probed(self, key: str, down: str | None) -> None:
        """Release the keys waiting on a system this key probes, unless its attempt found that system down again."""
        for system in [system for system, prober in self._probers.items() if prober == key and system != down]:
            del self._probers[system]
            for waiter in self._down_waiters.pop(system, []):
                waiter.succeed()

    def _wake(self, key: str) -> None:
        if key not in self._workers:
            self._workers[key] = self.env.process(self._worker(key))

    def _worker(self, key: str) -> SimGenerator:
        while (result := self.engine.dispatch_batch(key, BATCH_MAX)) is not None:
            if result.latency_s:
                yield self.env.timeout(result.latency_s)
            self._probed(key, result.unavailable if result.outcome is AttemptOutcome.RETRY else None)
            if result.outcome is not AttemptOutcome.RETRY:
                continue
            down = result.unavailable
            if down is not None and self._probers.setdefault(down, key) != key:
                waiter = self.env.event()
                self._down_waiters.setdefault(down, []).append(waiter)
                self.deferred_retries += 1
                yield waiter
            else:
                yield self.env.timeout(result.delay_s)
        self._probed(key, None)
        del self._workers[key]
        if self.idle:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.succeed()
