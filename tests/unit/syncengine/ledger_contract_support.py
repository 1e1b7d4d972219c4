"""What the ledger contract tests share: an instant, a tracking record, an exception, a failure to raise."""

from __future__ import annotations

from datetime import UTC, datetime

from syncengine.ledger import AbstractLedger, Tracking

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def tracking(source_id: str = "TE-000001", version: int = 1, handler: str = "billing.handle_approved") -> Tracking:
    return Tracking("psa", source_id, version, handler, T0)


class Boom(Exception):
    pass


def record_exception(ledger: AbstractLedger, message_id: str = "psa:psa-000001/billing.h",
                     reason: str = "missing-tax-registration", now: datetime = T0) -> str:
    item = ledger.record_exception(flow="billing", key="project:PRJ-000001", message_id=message_id, reason=reason,
                                   detail="ACME has no VAT number", payload={"event": {"id": "psa-000001"}}, now=now)
    return item.id
