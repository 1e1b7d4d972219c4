"""Fixtures shared by every test: service reachability for the integration tests."""

from __future__ import annotations

import os
import socket

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
