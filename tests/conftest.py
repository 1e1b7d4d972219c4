"""Fixtures shared by every test: service reachability for the integration tests; how pytest-xdist groups tests."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

POSTGRES_URL = os.environ.get("FIRMSIM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
RABBITMQ_URL = os.environ.get("FIRMSIM_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _require(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("FIRMSIM_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and FIRMSIM_REQUIRE_SERVICES=1 says it must be")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> str:
    """Return the URL of the test PostgreSQL database (skip, or fail in CI, when it is down)."""
    _require("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture
def rabbitmq_url() -> str:
    """Return the URL of the test RabbitMQ broker (skip, or fail in CI, when it is down)."""
    _require("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Distribute tests by tests/xdist_groups.group_of under --dist loadscope (see that module)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from tests.xdist_groups import GroupScheduling

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker, refuse to run a broker test outside RABBITMQ_MODULES (it would run beside the others)."""
    if not hasattr(config, "workerinput"):
        return
    from tests.xdist_groups import RABBITMQ_MODULES

    strays = sorted({item.nodeid.split("::", 1)[0] for item in items
                     if "rabbitmq_url" in getattr(item, "fixturenames", ())} - RABBITMQ_MODULES)
    if strays:
        raise pytest.UsageError(f"tests/xdist_groups.py: add {', '.join(strays)} to RABBITMQ_MODULES: its tests use "
                                "the RabbitMQ broker, and under xdist they must run in the one group that does")
