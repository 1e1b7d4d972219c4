"""Fixtures of the ERP tests: an app with response validation and a client that speaks its API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from simulators.common.clock import ManualClock
from simulators.erp.app import create_app
from tests.unit.conftest import spec_checked
from tests.unit.erp.support import ErpClient


@pytest.fixture
def app(clock: ManualClock) -> Iterator[Flask]:
    """The ERP app; every response it gave must conform to the spec."""
    yield from spec_checked(create_app, clock)


@pytest.fixture
def erp(app: Flask) -> ErpClient:
    """A client of the ERP API."""
    return ErpClient(app.test_client())
