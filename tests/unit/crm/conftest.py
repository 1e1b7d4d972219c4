"""Fixtures: a CRM app on a manual clock whose responses are all checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from simulators.common.clock import ManualClock
from simulators.crm import create_app
from tests.unit.conftest import spec_checked
from tests.unit.crm.builders import Api


@pytest.fixture
def crm(clock: ManualClock) -> Iterator[Flask]:
    """The CRM app; at teardown, no response it gave may have broken the spec."""
    yield from spec_checked(create_app, clock)


@pytest.fixture
def api(crm: Flask) -> Api:
    """A client of the CRM with a valid token."""
    return Api(crm.test_client())
