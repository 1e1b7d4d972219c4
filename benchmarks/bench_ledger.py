"""Units of work per second through the ledger: what the engine's per-message bookkeeping costs.

Each unit of work is what the dispatcher does for one new message (read the tracking record, write
it, commit). Run: `.venv/bin/python benchmarks/bench_ledger.py [--url postgresql://…] [--messages N]`.
PostgreSQL is measured with the server's synchronous_commit on (each commit waits for its WAL
flush) and off (commits are acknowledged before the flush; a database crash can lose the last few
hundred milliseconds of commits, which the engine then runs again and the targets replay by
idempotency key, so nothing is applied twice).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from syncengine.ledger import AbstractLedger, SqliteLedger, Tracking
from syncengine.ledger.postgres import PostgresLedger

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def units_per_second(ledger: AbstractLedger, threads: int, messages: int) -> float:
    """Run `messages` units of work on each of `threads` threads; return units of work per second."""
    def work(thread: int) -> None:
        for number in range(messages):
            source_id = f"{uuid.uuid4().hex[:6]}-{thread}-{number}"
            with ledger.unit_of_work():
                if not ledger.already_processed("psa", source_id, 1, "billing.h"):
                    ledger.record_processed(Tracking("psa", source_id, 1, "billing.h", T0))

    workers = [threading.Thread(target=work, args=(thread,)) for thread in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * messages / (time.perf_counter() - started)


def median_of(runs: int, measure: Callable[..., float], *args: object) -> float:
    """Return the median of a few runs (the machine is shared and noisy)."""
    return statistics.median(measure(*args) for _ in range(runs))


def postgres(url: str, threads: int, messages: int, synchronous_commit: bool) -> float:
    """Measure one PostgreSQL configuration in a schema of its own, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    options = "" if synchronous_commit else ("&" if "?" in url else "?") + "options=-c%20synchronous_commit%3Doff"
    ledger = PostgresLedger(url + options, schema=schema)
    try:
        return units_per_second(ledger, threads, messages)
    finally:
        ledger.close()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite(threads: int, messages: int) -> float:
    """Measure the embedded SQLite ledger (one connection, threads take turns)."""
    with tempfile.TemporaryDirectory() as directory:
        ledger = SqliteLedger(Path(directory) / "ledger.db")
        try:
            return units_per_second(ledger, threads, messages)
        finally:
            ledger.close()


def main() -> None:
    """Print units of work per second for SQLite and PostgreSQL, 1 and 4 threads."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--messages", type=int, default=300, help="units of work per thread per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'ledger':<40} {'threads':>7} {'units of work/s':>16}")
    for threads in (1, 4):
        figure = median_of(args.runs, sqlite, threads, args.messages)
        print(f"{'sqlite (WAL, synchronous=NORMAL)':<40} {threads:>7} {figure:>16.0f}")
        for synchronous in (True, False):
            figure = median_of(args.runs, postgres, args.url, threads, args.messages, synchronous)
            label = f"postgresql (synchronous_commit={'on' if synchronous else 'off'})"
            print(f"{label:<40} {threads:>7} {figure:>16.0f}")


if __name__ == "__main__":
    main()
