"""The open-loop driver: actor actions arrive on schedule (Poisson arrivals at the profile's rate of
business events, an action carrying one or, for a bulk approval, many), whether or not the systems
keep up; a pool of client threads acts them out.

Response time is measured from each event's scheduled arrival, so time spent waiting for a free
client counts (no coordinated omission); service time is measured from when a client took it.
"""

from __future__ import annotations

import functools
import math
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.load.firm import LoadFirm
from harness.load.measure import CommitLog, Percentiles
from harness.load.profiles import Profile


@dataclass(slots=True)
class Phase:
    """What one driven phase did: per-second offered and completed events, response and service times."""

    name: str
    offered_rate: float
    started_at: float
    duration_s: float
    offered: Counter[int] = field(default_factory=Counter)
    completed: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: dict[str, str] = field(default_factory=dict)
    response: Percentiles = field(default_factory=Percentiles)
    service: Percentiles = field(default_factory=Percentiles)
    actor_calls: int = 0
    finished_at: float = 0.0
    """When the last action completed (monotonic seconds): later than the phase's end when the driver
    and the systems fell behind the arrivals."""

    @property
    def acted_out_s(self) -> float:
        """Return the seconds from the first arrival to the last completion (the duration at least)."""
        return max(self.duration_s, self.finished_at - self.started_at)

    @property
    def offered_total(self) -> int:
        """Return how many events were scheduled."""
        return sum(self.offered.values())

    @property
    def completed_total(self) -> int:
        """Return how many events completed."""
        return sum(self.completed.values())


def schedule(profile: Profile, rate: float, duration_s: float, rng: random.Random,
             sizes: Mapping[str, int] | None = None) -> list[tuple[float, str]]:
    """Return (offset in seconds, kind) of every actor action of a phase offering `rate` business events
    per second; an action of a kind carries `sizes[kind]` events (1 when not given)."""
    arrivals: list[tuple[float, str]] = []
    offset = 0.0
    while True:
        fraction = min(offset / duration_s, 1.0)
        mix = profile.mix(fraction)
        actions_per_event = sum(share / _size(sizes, kind) for kind, share in mix.items())
        current = max(rate * profile.multiplier(fraction) * actions_per_event, 1e-6)
        offset += rng.expovariate(current)
        if offset >= duration_s:
            return arrivals
        mix = profile.mix(offset / duration_s)
        kinds = [kind for kind, share in mix.items() if share > 0]
        weights = [mix[kind] / _size(sizes, kind) for kind in kinds]
        arrivals.append((offset, rng.choices(kinds, weights=weights)[0]))


def _size(sizes: Mapping[str, int] | None, kind: str) -> int:
    return 1 if sizes is None else sizes.get(kind, 1)


def _expect_source(log: CommitLog, trace_id: str, record_id: str) -> None:
    log.expect_source(record_id, trace_id)


def drive(firm: LoadFirm, log: CommitLog, phase: Phase, arrivals: list[tuple[float, str]], clients: int) -> Phase:
    """Act out the arrivals from `phase.started_at` on (monotonic seconds), with `clients` threads; every
    count and time is per business event (an approval of 20 entries counts 20)."""
    pending: queue.Queue[tuple[float, str] | None] = queue.Queue()
    lock = threading.Lock()
    calls_before = firm.actors.calls

    def client() -> None:
        while True:
            item = pending.get()
            if item is None:
                return
            due, kind = item
            events = firm.sizes.get(kind, 1)
            taken = time.perf_counter()
            choice = firm.pick()
            trace_id = choice[3].split("-")[1]
            if events == 1:
                log.expect(trace_id, kind)
                on_record = functools.partial(_expect_source, log, trace_id)
            else:  # each entry of a bulk approval is its own event, followed by its id
                on_record = functools.partial(_expect_entry, log, kind)
            try:
                firm.act(kind, choice, on_record)
            except Exception as error:  # noqa: BLE001 - a refused event is counted and reported, not fatal
                with lock:
                    phase.errors[kind] += events
                    phase.first_errors.setdefault(kind, str(error)[:300])
                continue
            done = time.perf_counter()
            phase.service.record(done - taken, events)
            phase.response.record(done - due, events)
            with lock:
                phase.completed[int(done - phase.started_at)] += events
                phase.by_kind[kind] += events

    threads = [threading.Thread(target=client, name=f"load-client-{n}", daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for offset, kind in arrivals:
        due = phase.started_at + offset
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        phase.offered[math.floor(offset)] += firm.sizes.get(kind, 1)
        pending.put((due, kind))
    for _ in threads:
        pending.put(None)
    for thread in threads:
        thread.join()
    phase.finished_at = time.perf_counter()
    phase.actor_calls = firm.actors.calls - calls_before
    return phase


def _expect_entry(log: CommitLog, kind: str, record_id: str) -> None:
    log.expect(record_id, kind)
    log.expect_source(record_id, record_id)
