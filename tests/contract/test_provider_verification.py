"""Provider verification: each mock, started on a free port, honours every interaction of its pact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.local_systems import LocalSystems, start_local_systems
from harness.pact_verification import verify_provider
from simulators.registry import SYSTEM_KINDS

TOKEN = "firmsim-verify-token"


@pytest.fixture(scope="module")
def systems() -> Iterator[LocalSystems]:
    """The four mocks on free local ports."""
    with start_local_systems(SYSTEM_KINDS, TOKEN) as started:
        yield started


@pytest.mark.parametrize("provider", SYSTEM_KINDS)
def test_the_mock_honours_every_http_call_and_event_the_engine_relies_on(systems: LocalSystems,
                                                                          provider: str) -> None:
    report = verify_provider(provider, systems.url(provider), TOKEN)

    failures = [f"{result.interaction.description}\n{result.mismatch}" for result in report.results if not result.ok]
    assert not failures, "\n\n".join(failures)
    assert {result.interaction.kind for result in report.results} == {"HTTP", "message"}
