"""Fixtures for the HCM mock: an app on a manual clock that checks every response against the spec."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from simulators.common.app import DEFAULT_TOKEN
from simulators.common.clock import ManualClock
from simulators.hcm import create_app
from tests.unit.conftest import spec_checked

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


class Api:
    """A test client that sends the bearer token and reads the event feed."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        """GET with the token."""
        return self.client.get(path, headers={**AUTH, **(headers or {})})

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> TestResponse:
        """POST a JSON body with the token."""
        return self.client.post(path, json=body, headers={**AUTH, **(headers or {})})

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> TestResponse:
        """PATCH a JSON body with the token."""
        return self.client.patch(path, json=body, headers={**AUTH, **(headers or {})})

    def events(self, type_prefix: str = "hcm.") -> list[dict[str, Any]]:
        """Return every event in the feed whose type starts with the prefix."""
        page = self.get(f"/events?limit=1000&type={type_prefix}").get_json()
        return list(page["items"])

    def event_types(self, type_prefix: str = "hcm.") -> list[str]:
        """Return the types of the feed's events, in commit order."""
        return [event["type"] for event in self.events(type_prefix)]


@pytest.fixture
def hcm(clock: ManualClock) -> Iterator[Flask]:
    """Return an empty HCM whose responses must all conform to the spec."""
    yield from spec_checked(create_app, clock)


@pytest.fixture
def api(hcm: Flask) -> Api:
    """Return an authenticated client of the HCM."""
    return Api(hcm.test_client())


WORKER = {
    "worker_type": "EMPLOYEE",
    "first_name": "Oliver",
    "last_name": "Bennett",
    "email": "oliver.bennett@firmsim.example",
    "role": "SENIOR_CONSULTANT",
    "legal_entity": "UK01",
    "practice": "TECHNOLOGY",
    "hire_date": "2026-03-02",
}


@pytest.fixture
def hire(api: Api) -> Callable[..., dict[str, Any]]:
    """Return a function that hires a worker (Oliver Bennett, UK01, unless told otherwise)."""

    def hire_worker(**overrides: Any) -> dict[str, Any]:
        response = api.post("/workers", {**WORKER, **overrides})
        assert response.status_code == 201, response.get_json()
        worker: dict[str, Any] = response.get_json()
        return worker

    return hire_worker


@pytest.fixture
def worker(hire: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Return a freshly hired UK senior consultant."""
    return hire()
