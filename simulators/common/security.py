"""Bearer tokens (static and issued by client credentials) and a token-bucket rate limit."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.common.errors import ApiProblem

ISSUED_TOKEN_TTL_S = 3600


@dataclass(frozen=True, slots=True)
class Grant:
    """A token the API accepts and when it was issued (None: a static token)."""

    token: str
    issued_at: datetime | None
    expires_at: datetime | None


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="firmsim"'}


class TokenRegistry:
    """The bearer tokens one system accepts."""

    def __init__(self, static_tokens: list[str], clients: dict[str, str]) -> None:
        self.static_tokens = list(static_tokens)
        self.clients = dict(clients)
        self._issued: dict[str, Grant] = {}
        self._count = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget issued tokens."""
        with self._lock:
            self._issued = {}

    def issue(self, client_id: str, client_secret: str, now: datetime) -> Grant:
        """Exchange client credentials for a token (OAuth 2.0 client-credentials grant)."""
        if self.clients.get(client_id) != client_secret:
            raise ApiProblem(401, "invalid-client", "Invalid client credentials",
                             "client_id or client_secret is wrong", field="client_secret")
        with self._lock:
            self._count += 1
            digest = hashlib.sha256(f"{client_id}:{self._count}:{now.isoformat()}".encode()).hexdigest()[:32]
            grant = Grant(f"fst_{digest}", now, now + timedelta(seconds=ISSUED_TOKEN_TTL_S))
            self._issued[grant.token] = grant
            return grant

    def check(self, authorization: str | None, now: datetime, expired_before: datetime | None) -> str:
        """Return the caller's token, or raise 401 (missing, unknown or expired)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiProblem(401, "unauthorized", "Unauthorized",
                             "Send 'Authorization: Bearer <token>'", field="Authorization", headers=dict(_CHALLENGE))
        token = authorization[len("Bearer "):].strip()
        if token in self.static_tokens:
            issued_at = None
            expires_at = None
        else:
            with self._lock:
                grant = self._issued.get(token)
            if grant is None:
                raise ApiProblem(401, "unauthorized", "Unauthorized", "Unknown bearer token",
                                 field="Authorization", headers=dict(_CHALLENGE))
            issued_at, expires_at = grant.issued_at, grant.expires_at
        expired = expires_at is not None and now >= expires_at
        if expired_before is not None and (issued_at is None or issued_at < expired_before):
            expired = True
        if expired:
            raise ApiProblem(401, "token-expired", "Token expired",
                             "The bearer token has expired; get a new one from POST /oauth/token",
                             field="Authorization", headers=dict(_CHALLENGE))
        return token


class RateLimiter:
    """A token bucket per caller: `rate` requests a second, bursts up to `burst`."""

    def __init__(self, rate: float | None, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._buckets = {}

    def take(self, caller: str, now: datetime) -> int | None:
        """Take one request from the caller's bucket; return seconds to wait when it is empty."""
        if not self.rate:
            return None
        with self._lock:
            tokens, last = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, (now - last).total_seconds()) * self.rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                return max(1, int((1.0 - tokens) / self.rate + 0.999))
            self._buckets[caller] = (tokens - 1.0, now)
            return None
