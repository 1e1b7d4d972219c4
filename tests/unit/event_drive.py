"""Drive a mock through its public API and read back every event of its feed (for test_events_*)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from contracts.events import event_errors
from simulators.common.app import DEFAULT_TOKEN, context_of
from simulators.common.clock import ManualClock
from simulators.registry import create_system_app

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def checked_app(kind: str) -> Iterator[Flask]:
    """Yield a system on a manual clock; afterwards, none of its responses may have broken the spec."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = create_system_app(kind, {"VALIDATE_RESPONSES": True, "CLOCK": clock})
    yield app
    assert context_of(app).response_violations == []


class Driver:
    """Call a system like a user does; every call must succeed."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """Send one request with the token and return its JSON body; fail the test on any non-2xx."""
        response = self.client.open(path, method=method, json=body, headers=AUTH)
        assert 200 <= response.status_code < 300, f"{method} {path} -> {response.status_code} {response.get_data(True)}"
        result: dict[str, Any] = response.get_json(silent=True) or {}
        return result

    def advance(self, seconds: float) -> None:
        """Move the system's manual clock on."""
        clock = context_of(self.app).clock
        assert isinstance(clock, ManualClock)
        clock.advance(seconds)

    def events(self) -> list[dict[str, Any]]:
        """Return every event of the feed, read page by page through GET /events."""
        events: list[dict[str, Any]] = []
        cursor = "0"
        while True:
            page = self.call("GET", f"/events?after={cursor}&limit=1000")
            events.extend(page["items"])
            if page["next_cursor"] == cursor:
                return events
            cursor = page["next_cursor"]


def schema_violations(events: list[dict[str, Any]]) -> list[str]:
    """Return every way the events break their types' schemas in contracts/events."""
    return [error for event in events for error in event_errors(event)]
