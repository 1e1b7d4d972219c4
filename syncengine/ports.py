"""What a handler is given (`Ports`) and the small collaborators it reaches through them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from syncengine.domain.messages import SourceEvent
from syncengine.ledger.keys import idempotency_key

if TYPE_CHECKING:
    from syncengine.adapters.http import SystemClient
    from syncengine.ledger.port import AbstractLedger


class Clock(Protocol):
    """Tell the current instant (aware, UTC): virtual in simulated mode, real in live mode."""

    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything a handler may touch: the ledger, the systems' clients (by name), the clock."""

    ledger: AbstractLedger
    clients: Mapping[str, SystemClient]
    clock: Clock

    def client(self, system: str) -> SystemClient:
        """Return the client of a system instance by name (`erp`, `erp-legacy`)."""
        try:
            return self.clients[system]
        except KeyError:
            known = ", ".join(sorted(self.clients)) or "none"
            raise LookupError(f"no client for system {system!r} (configured: {known})") from None

    def now(self) -> datetime:
        """Return the injected clock's instant (never the wall clock)."""
        return self.clock.now()

    def idempotency_key(self, message: SourceEvent, purpose: str) -> str:
        """Return the Idempotency-Key for doing `purpose` for this version of the message's record."""
        return idempotency_key(message.system, message.source_id, message.source_version, purpose)
