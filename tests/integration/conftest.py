"""Fixtures of the integration tests: the four systems served on real ports, a firm that calls them, and a
distributed engine (RabbitMQ + PostgreSQL worker processes) syncing them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from simulators.server import SystemServers
from tests.integration.distributed_engine import Deployment, deployment
from tests.integration.live_firm import Firm, served_systems


@pytest.fixture(scope="module")
def systems() -> Iterator[SystemServers]:
    """The four systems on real ports, shared by a test module."""
    with served_systems() as servers:
        yield servers


@pytest.fixture
def firm(systems: SystemServers) -> Iterator[Firm]:
    """A client acting for the firm on the served systems."""
    acting = Firm({system.kind: system.base_url for system in systems.systems})
    yield acting
    acting.close()


@pytest.fixture
def engine(firm: Firm, rabbitmq_url: str, postgres_url: str, tmp_path: Path) -> Iterator[Deployment]:
    """Distributed engine workers syncing the served systems, stopped and cleaned up after the test."""
    with deployment(firm.urls, rabbitmq_url, postgres_url, tmp_path) as deployed:
        yield deployed


@pytest.fixture
def schema(postgres_url: str) -> Iterator[str]:
    """Return a PostgreSQL schema name (usable as a queue prefix too) of this test's own, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
