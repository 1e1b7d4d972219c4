"""The run digest: sha256 over the canonical end state of the systems and the truth record."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Return JSON with sorted keys and no whitespace (the same bytes for the same value)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def run_digest(states: dict[str, dict[str, Any]], truth_json: str) -> str:
    """Return the digest of a run: the systems' records (by system name) and truth; timing excluded."""
    hasher = hashlib.sha256()
    for name in sorted(states):
        hasher.update(name.encode())
        hasher.update(canonical_json(states[name]["records"]).encode())
    hasher.update(truth_json.encode())
    return hasher.hexdigest()
