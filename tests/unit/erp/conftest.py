"""Fixtures of the ERP tests: an app with response validation and a client that speaks its API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from simulators.erp.app import create_app
from tests.unit.erp.support import ErpClient


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at the start of March 2026."""
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def app(clock: ManualClock) -> Iterator[Flask]:
    """The ERP app; every response it gave must conform to the spec."""
    app = create_app({"VALIDATE_RESPONSES": True, "CLOCK": clock})
    yield app
    assert context_of(app).response_violations == []


@pytest.fixture
def erp(app: Flask) -> ErpClient:
    """A client of the ERP API."""
    return ErpClient(app.test_client())
