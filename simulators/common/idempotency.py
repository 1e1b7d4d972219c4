"""Idempotency keys: the first response to a POST is stored and replayed for the same key.

Keys are scoped to the system instance (one tenant) and the request path, not to the bearer token:
a client that refreshes its token and retries a POST whose answer was lost must get the replay.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from simulators.common.errors import ApiProblem

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The response first given to a key, and the fingerprint of the request that got it."""

    fingerprint: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Return what makes two requests 'the same' for an idempotency key."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyStore:
    """Stored responses by (scope, key); the scope is the request path."""

    def __init__(self) -> None:
        self._responses: dict[tuple[str, str], StoredResponse] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every stored response."""
        with self._lock:
            self._responses = {}

    def lookup(self, scope: str, key: str, request_fingerprint: str) -> StoredResponse | None:
        """Return the stored response for a repeat, None for a new key; 422 if the body differs."""
        with self._lock:
            stored = self._responses.get((scope, key))
        if stored is None:
            return None
        if stored.fingerprint != request_fingerprint:
            raise ApiProblem(422, "idempotency-key-reused", "Idempotency-Key reused",
                             "This Idempotency-Key was used with a different request", field="Idempotency-Key")
        return stored

    def save(self, scope: str, key: str, response: StoredResponse) -> None:
        """Store the first response to a key."""
        with self._lock:
            self._responses.setdefault((scope, key), response)

    def __len__(self) -> int:
        return len(self._responses)
