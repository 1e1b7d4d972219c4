"""The ledger.db a simulated run leaves: its in-memory engine ledger copied into a SQLite file, by a
child process beside the rest of the run's end where it can be."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from syncengine.ledger import AbstractLedger, SqliteLedger


class LedgerNotWrittenError(RuntimeError):
    """The ledger file could not be written (the run could not complete: exit code 3); the message says where."""


def can_fork() -> bool:
    """Tell whether a child process can copy the ledger: fork exists and no other thread runs (a fork
    copies threads stopped wherever they are, a lock they hold held for good)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def copy_ledger(ledger: AbstractLedger, path: Path) -> None:
    """Copy a run's ledger into a new SQLite ledger file at `path`."""
    try:
        kept = SqliteLedger(path)
        try:
            ledger.copy_to(kept)
        finally:
            kept.close()
    except (OSError, sqlite3.Error) as error:
        raise LedgerNotWrittenError(f"the engine ledger could not be written to {path} ({error})") from error


@contextmanager
def ledger_left(ledger: AbstractLedger | None, path: Path | None) -> Iterator[None]:
    """Leave `ledger` in a SQLite file at `path` while the block runs (nothing when either is None).

    The copy (5.6 s CPU for full-year's 156 MB) is made by a forked child process, so it runs beside
    the block on a second core; the block's end waits for it and raises LedgerNotWrittenError if it
    failed. The block must not change the ledger. The file is the same either way: when `can_fork`
    says no, the ledger is copied first, then the block runs.
    """
    if ledger is None or path is None:
        yield
        return
    if not can_fork():
        copy_ledger(ledger, path)
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:  # the child process: its exit code is read below
        code = 0
        try:
            copy_ledger(ledger, path)
        except BaseException as error:  # noqa: BLE001 - any failure of the child is told by its exit code
            os.write(2, f"firmsim run: {error}\n".encode())
            code = 1
        finally:
            os._exit(code)
    try:
        yield
    finally:
        _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise LedgerNotWrittenError(f"the engine ledger could not be written to {path}")
