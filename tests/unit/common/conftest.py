"""Fixtures for the shared mechanics: the toy system on a manual clock, and a recording webhook sender."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from simulators.common.app import DEFAULT_TOKEN, SystemContext, context_of
from simulators.common.clock import ManualClock
from tests.unit.common import toy

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class RecordingSender:
    """A webhook sender that records each delivery and answers with scripted statuses (then 200)."""

    statuses: list[int | Exception] = field(default_factory=list)
    deliveries: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.deliveries.append((url, headers, body))
        outcome = self.statuses.pop(0) if self.statuses else 200
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def event_ids(self) -> list[str]:
        """Return the event ids delivered, in delivery order."""
        return [headers["Firmsim-Event-Id"] for _, headers, _ in self.deliveries]


class ToyApi:
    """A test client of the toy system."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    @property
    def context(self) -> SystemContext:
        """Return the system context."""
        return context_of(self.app)

    def get(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        """GET with the static token unless headers say otherwise."""
        return self.client.get(path, headers={**AUTH, **(headers or {})})

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> TestResponse:
        """POST JSON with the static token unless headers say otherwise."""
        return self.client.post(path, json=body, headers={**AUTH, **(headers or {})})

    def create(self, name: str = "sprocket", headers: dict[str, str] | None = None) -> TestResponse:
        """Create a widget."""
        return self.post("/widgets", {"name": name}, headers)

    def widgets(self) -> list[dict[str, Any]]:
        """Return every widget (admin view)."""
        records: list[dict[str, Any]] = self.client.get("/admin/state").get_json()["records"]["widgets"]
        return records

    def add_fault(self, **definition: Any) -> TestResponse:
        """Schedule a fault through the admin API."""
        return self.client.post("/admin/faults", json=definition)


@pytest.fixture
def clock() -> ManualClock:
    """Return a clock standing on Monday 2 March 2026, 09:00 UTC."""
    return ManualClock(START)


@pytest.fixture
def sender() -> RecordingSender:
    """Return a webhook sender that accepts everything unless scripted."""
    return RecordingSender()


@pytest.fixture
def config(clock: ManualClock, sender: RecordingSender) -> dict[str, Any]:
    """Return the toy's configuration; tests may add to it before `api` is built."""
    return {"CLOCK": clock, "WEBHOOK_SENDER": sender, "VALIDATE_RESPONSES": True}


@pytest.fixture
def api(config: dict[str, Any]) -> Iterator[ToyApi]:
    """Return a client of a fresh toy system whose responses must all conform to its spec."""
    app = toy.create_app(config)
    yield ToyApi(app)
    assert context_of(app).response_violations == []
