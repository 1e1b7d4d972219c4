"""Outbound idempotency keys: derived from what is being done, so a retry sends the same key."""

from __future__ import annotations

import hashlib

KEY_PREFIX = "fse-"


def idempotency_key(source_system: str, source_id: str, source_version: int, purpose: str) -> str:
    """Return the stable Idempotency-Key for doing `purpose` for one version of one source record.

    The same inputs give the same key in every run and process (sha256, no salt), so a POST whose
    response was lost is replayed by the target rather than applied twice.
    """
    if not purpose:
        raise ValueError("an idempotency key needs a purpose (e.g. 'billable-transaction')")
    material = "\x1f".join((source_system, source_id, str(source_version), purpose))
    return KEY_PREFIX + hashlib.sha256(material.encode()).hexdigest()
