"""Fixtures: a CRM app on a manual clock whose responses are all checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from simulators.crm import create_app
from tests.unit.crm.builders import Api


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing at Monday 2 March 2026, 09:00 UTC."""
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def crm(clock: ManualClock) -> Iterator[Flask]:
    """The CRM app; at teardown, no response it gave may have broken the spec."""
    app = create_app({"VALIDATE_RESPONSES": True, "CLOCK": clock})
    yield app
    assert context_of(app).response_violations == []


@pytest.fixture
def api(crm: Flask) -> Api:
    """A client of the CRM with a valid token."""
    return Api(crm.test_client())
