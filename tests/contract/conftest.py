"""Fixtures of the contract tests: where the consumer tests write pacts, and whether they all ran."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

CONSUMER_PREFIX = "tests/contract/test_consumer_"


@dataclass
class ConsumerRuns:
    """What this session saw of the consumer tests, which write the pact files."""

    collected: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)
    deselected: bool = False

    @property
    def complete(self) -> bool:
        """Tell whether every consumer test ran in this session and passed."""
        modules = {path.name for path in Path(__file__).parent.glob("test_consumer_*.py")}
        ran = {node.split("::")[0].rsplit("/", 1)[-1] for node in self.collected}
        return bool(self.collected) and ran == modules and not self.deselected and self.passed == self.collected


RUNS = ConsumerRuns()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    RUNS.collected = {item.nodeid for item in items if item.nodeid.startswith(CONSUMER_PREFIX)}


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(item.nodeid.startswith(CONSUMER_PREFIX) for item in items):
        RUNS.deselected = True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith(CONSUMER_PREFIX) and report.when == "call" and report.passed:
        RUNS.passed.add(report.nodeid)


@pytest.fixture(scope="session")
def pact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory the consumer tests of this session write their pact files to."""
    return tmp_path_factory.mktemp("pacts")


@pytest.fixture(scope="session")
def consumer_runs() -> ConsumerRuns:
    """What this session saw of the consumer tests."""
    return RUNS
