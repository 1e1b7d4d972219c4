"""The run digest: sha256 over the canonical end state of the systems and the truth record."""

from __future__ import annotations

import hashlib
from typing import Any

from scenarios.engine import canonical


def canonical_json(value: Any) -> str:
    """Return JSON with sorted keys and no whitespace (the same bytes for the same value; other types as str)."""
    return canonical.canonical_json(value, default=str)


def run_digest(states: dict[str, dict[str, Any]], truth_json: str) -> str:
    """Return the digest of a run: the systems' records (by system name) and truth; timing excluded."""
    hasher = hashlib.sha256()
    for name in sorted(states):
        hasher.update(name.encode())
        _update(hasher, states[name]["records"])
    hasher.update(truth_json.encode())
    return hasher.hexdigest()


def _update(hasher: Any, records: Any) -> None:
    """Hash the canonical JSON of {collection: records} one collection at a time (the same bytes, less memory)."""
    if not isinstance(records, dict) or not all(isinstance(key, str) for key in records):
        hasher.update(canonical.canonical_bytes(records, default=str))
        return
    hasher.update(b"{")
    for index, collection in enumerate(sorted(records)):
        if index:
            hasher.update(b",")
        hasher.update(canonical.canonical_bytes(collection) + b":")
        hasher.update(canonical.canonical_bytes(records[collection], default=str))
    hasher.update(b"}")
