"""The engine's ledger: one port; in-memory, SQLite and PostgreSQL (`ledger.postgres`, imported on demand)."""

from syncengine.ledger.keys import idempotency_key
from syncengine.ledger.memory import InMemoryLedger
from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.records import (
    DeadLetter,
    DeadLetterStatus,
    DuplicateTracking,
    ExceptionItem,
    ExceptionStatus,
    LedgerError,
    Tracking,
    XrefConflict,
    XrefEntry,
)
from syncengine.ledger.sqlite import SqliteLedger

__all__ = [
    "AbstractLedger",
    "DeadLetter",
    "DeadLetterStatus",
    "DuplicateTracking",
    "ExceptionItem",
    "ExceptionStatus",
    "InMemoryLedger",
    "LedgerError",
    "SqliteLedger",
    "Tracking",
    "XrefConflict",
    "XrefEntry",
    "idempotency_key",
]
