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

    fingerprint: bytes
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> bytes:
    """Return what makes two requests 'the same' for an idempotency key (a SHA-256 digest)."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).digest()


class IdempotencyStore:
    """Stored responses by (scope, key); the scope is the request path.

    Every response is kept to the end of a run, and most carry the same few headers (Content-Type,
    an ETag of "1") and share their scope with many others: a scope, and a header pair other than a
    Location (one per record), is kept once for all the responses that carry it.
    """

    def __init__(self) -> None:
        self._responses: dict[tuple[str, str], StoredResponse] = {}
        self._headers: dict[tuple[str, str], tuple[str, str]] = {}
        self._scopes: dict[str, str] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every stored response."""
        with self._lock:
            self._responses = {}
            self._headers = {}
            self._scopes = {}

    def lookup(self, scope: str, key: str, request_fingerprint: bytes) -> StoredResponse | None:
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
            if (scope, key) in self._responses:
                return
            shared = self._headers
            headers = tuple(pair if pair[0] == "Location" else shared.setdefault(pair, pair)
                            for pair in response.headers)
            scope = self._scopes.setdefault(scope, scope)
            self._responses[scope, key] = StoredResponse(response.fingerprint, response.status, headers, response.body)

    def __len__(self) -> int:
        return len(self._responses)
