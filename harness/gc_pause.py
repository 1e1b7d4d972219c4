"""Python's cyclic garbage collector on long runs: less often while one runs, paused while it is checked."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_THRESHOLDS = (50_000, 20, 100)
"""Collect after 50,000 net allocations, not 700. A simulation or a worker builds tens of thousands of objects at
a time that live on (a feed page, a bus message of a thousand deliveries, a day's records in the systems' stores),
and each young collection that finds them half built promotes them to be scanned again. Measured: a distributed
worker's collector thread CPU 290 -> 114 ms per 4,000 approvals (with its start-up heap frozen); the first 40 days
of full-year 26.5-26.7 -> 22.9-23.3 s CPU, baseline within noise (9.8-10.3 -> 9.2-9.6 s)."""


@contextmanager
def gc_relaxed() -> Iterator[None]:
    """Run a block with the collector's thresholds at GC_THRESHOLDS (and the previous ones back after)."""
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a block with the cyclic garbage collector off (and on again after, if it was on).

    After a simulation the heap holds millions of live objects (the systems' stores, the engine's
    ledger, truth), and checking and reporting allocate millions more (typed facts, indexes, lines):
    each collection the allocations set off walks the whole heap again and finds next to nothing:
    what the oracle and the reports build is freed by reference counting (a cycle, if any, waits
    for the next collection after the block). On a quarter of full-year the collections were a
    third of the CPU of checking and reporting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
