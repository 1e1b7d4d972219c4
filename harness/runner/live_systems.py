"""The four systems of a live run: served in-process (simulators/server.py) on the scenario's scaled clock.

The same apps and delivery thread as `firmsim serve` (simulators/server.py), on free ports unless a
port base is given, with the harness's tokens; reached afterwards only over HTTP, like any client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from simulators.common.clock import Clock
from simulators.registry import SYSTEM_KINDS
from simulators.server import PortInUseError, SystemServers, serve_systems

ADMIN_TIMEOUT_S = 30.0


class LiveSystemsError(RuntimeError):
    """The systems could not be started or reached; the message names the port or URL."""


def start_systems(clock: Clock, tokens: Sequence[str], *, seed: int, host: str = "127.0.0.1",
                  port_base: int | None = None) -> SystemServers:
    """Start the four systems (free ports, or `port_base + offset`) with webhook delivery over HTTP."""
    config: dict[str, Any] = {"CLOCK": clock, "API_TOKENS": list(tokens)}
    try:
        return serve_systems(host, port_base, list(SYSTEM_KINDS), config,
                             configs={kind: {"SEED": seed * 10 + index} for index, kind in enumerate(SYSTEM_KINDS)})
    except PortInUseError as error:
        raise LiveSystemsError(str(error)) from None


class AdminClient:
    """Reach the systems' admin API over HTTP (faults, subscriptions, stats, state export)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = dict(urls)
        self._http = httpx.Client(timeout=ADMIN_TIMEOUT_S)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(self, method: str, system: str, path: str, **options: Any) -> Any:
        url = f"{self.urls[system]}{path}"
        try:
            response = self._http.request(method, url, **options)
        except httpx.HTTPError as error:
            raise LiveSystemsError(f"{system} at {url} is unreachable: {error}") from None
        if response.status_code >= 300:
            raise LiveSystemsError(f"{method} {url} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def add_fault(self, system: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Schedule one fault window on a system."""
        fault: dict[str, Any] = self._request("POST", system, "/admin/faults", json=definition)
        return fault

    def subscribe(self, system: str, url: str, secret: str) -> dict[str, Any]:
        """Subscribe a webhook endpoint to every event of a system."""
        subscription: dict[str, Any] = self._request("POST", system, "/admin/subscriptions",
                                                     json={"url": url, "secret": secret, "types": []})
        return subscription

    def stats(self, system: str) -> dict[str, Any]:
        """Return a system's call, fault, feed and webhook counters."""
        stats: dict[str, Any] = self._request("GET", system, "/admin/stats")
        return stats

    def state(self, system: str) -> dict[str, Any]:
        """Return a system's whole state export."""
        state: dict[str, Any] = self._request("GET", system, "/admin/state")
        return state

    def events_total(self) -> int:
        """Return the number of events across the systems' feeds."""
        return sum(int(self.stats(system)["events"]) for system in self.urls)

    def event_types(self, system: str, token: str) -> dict[str, int]:
        """Count a system's feed events per type, reading the feed from the start."""
        counts: dict[str, int] = {}
        after = "0"
        while True:
            page = self._request("GET", system, "/events", params={"after": after, "limit": 1000},
                                 headers={"Authorization": f"Bearer {token}"})
            for event in page["items"]:
                counts[event["type"]] = counts.get(event["type"], 0) + 1
            if not page["items"] or page["next_cursor"] == after:
                return counts
            after = page["next_cursor"]
