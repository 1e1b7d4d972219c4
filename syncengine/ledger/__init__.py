"""The engine's ledger: one port, an in-memory and a SQLite adapter."""

from syncengine.ledger.keys import idempotency_key
from syncengine.ledger.memory import InMemoryLedger
from syncengine.ledger.port import AbstractLedger
from syncengine.ledger.records import (
    DeadLetter,
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
