"""What the ledger holds: tracking records, cross-references, exceptions and dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from syncengine.domain.errors import TransientFailure
from syncengine.domain.records import quick_init


class LedgerError(Exception):
    """A ledger operation that cannot be applied; the message says why."""


class LedgerUnavailable(TransientFailure, LedgerError):
    """The ledger's store could not be reached; the engine retries the message like any transient failure.

    `rolled_back` says the unit of work surely left nothing behind (safe to run again as it was);
    False means its outcome is unknown.
    """

    def __init__(self, detail: str, *, rolled_back: bool) -> None:
        super().__init__("ledger-unavailable", detail)
        self.rolled_back = rolled_back


class DuplicateTracking(LedgerError):
    """The message was already processed by this handler (caught by the dispatcher: a duplicate)."""


class XrefConflict(LedgerError):
    """An id is already linked to another canonical key, or a key to another id."""


@quick_init
@dataclass(frozen=True, slots=True)
class Tracking:
    """That one handler processed one version of one source record."""

    system: str
    source_id: str
    source_version: int
    handler: str
    processed_at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class XrefEntry:
    """One system's id of a thing (`kind`), linked to the canonical key shared across systems."""

    kind: str
    system: str
    external_id: str
    canonical_key: str


class ExceptionStatus(StrEnum):
    """Where an exception stands: waiting for a fix, re-driven, or done with."""

    OPEN = "OPEN"
    REDRIVEN = "REDRIVEN"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True, slots=True)
class ExceptionItem:
    """A message a business rule refused, kept until it is re-driven and succeeds."""

    id: str
    flow: str
    key: str
    message_id: str
    reason: str
    detail: str
    payload: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    attempts: int
    status: ExceptionStatus


class DeadLetterStatus(StrEnum):
    """Where a dead letter stands: kept, or handed back to the engine once its cause was fixed."""

    OPEN = "OPEN"
    REDRIVEN = "REDRIVEN"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that could not be handled (poison, permanent error), kept until someone re-drives it."""

    id: str
    flow: str
    key: str
    message_id: str
    reason: str
    detail: str
    payload: dict[str, Any]
    time: datetime
    status: DeadLetterStatus = DeadLetterStatus.OPEN


@dataclass(frozen=True, slots=True)
class ReceivedId:
    """An inbound event id, as intake recorded it."""

    system: str
    event_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerContents:
    """Everything a ledger holds, record by record: what `AbstractLedger.copy_to` carries to another ledger."""

    tracking: tuple[Tracking, ...]
    received: tuple[ReceivedId, ...]
    xrefs: tuple[XrefEntry, ...]
    counters: dict[str, int]
    exceptions: tuple[ExceptionItem, ...]
    dead_letters: tuple[DeadLetter, ...]
    cursors: dict[str, str]
    applied_versions: dict[str, int]

    def is_empty(self) -> bool:
        """Tell whether there is no record at all."""
        return not any((self.tracking, self.received, self.xrefs, self.counters, self.exceptions,
                        self.dead_letters, self.cursors, self.applied_versions))
