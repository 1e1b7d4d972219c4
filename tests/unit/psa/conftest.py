"""Fixtures for the PSA tests: an app on a manual clock whose responses are checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from simulators.common.clock import ManualClock
from simulators.psa import create_app
from tests.unit.conftest import spec_checked
from tests.unit.psa.builders import Api, assign, create_project, upsert_resource


@pytest.fixture
def app(clock: ManualClock) -> Iterator[Flask]:
    yield from spec_checked(create_app, clock)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app)


@pytest.fixture
def staffing(api: Api) -> dict[str, Any]:
    """An ACTIVE GBP project with a resource assigned for March 2026."""
    project = create_project(api)
    resource = upsert_resource(api)
    assignment = assign(api, project["id"], resource["id"])
    return {"project": project, "resource": resource, "assignment": assignment}
