"""Pausing Python's cyclic garbage collector while a finished run is checked and reported."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
