"""The committed pact files are the ones the consumer tests write, and they cover what the engine consumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts import PACTS_DIR
from contracts.events import event_types
from harness.runner.flows import builtin_flows
from tests.contract.conftest import ConsumerRuns
from tests.contract.pact_builder import CONSUMER


def _texts(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.json"))}


def _interactions() -> list[dict[str, Any]]:
    return [interaction for text in _texts(PACTS_DIR).values() for interaction in json.loads(text)["interactions"]]


def consumed_event_types() -> set[str]:
    """Return every event type a built-in flow handles (wildcards expanded over the event catalog)."""
    consumed = set()
    for flow in builtin_flows():
        for pattern in flow.handlers:
            if pattern.endswith("*"):
                consumed |= {event_type for event_type in event_types() if event_type.startswith(pattern[:-1])}
            else:
                consumed.add(pattern)
    return consumed


def test_committed_pact_files_are_the_ones_the_consumer_tests_write(consumer_runs: ConsumerRuns,
                                                                     pact_dir: Path) -> None:
    if not consumer_runs.complete:
        pytest.skip("the consumer tests did not all run and pass in this session: nothing fresh to compare")
    fresh, committed = _texts(pact_dir), _texts(PACTS_DIR)
    assert sorted(fresh) == [f"{CONSUMER}-{system}.json" for system in ("crm", "erp", "hcm", "psa")]
    if fresh == committed:
        return
    for name in committed.keys() - fresh.keys():
        (PACTS_DIR / name).unlink()
    for name, text in fresh.items():
        (PACTS_DIR / name).write_text(text, encoding="utf-8")
    changed = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    pytest.fail(f"contracts/pacts/ was stale ({', '.join(changed)}); the consumer tests regenerated it: review "
                f"and commit the new pact files")


def test_every_event_type_the_engine_consumes_has_a_message_pact() -> None:
    messages = {interaction["contents"]["content"]["type"] for interaction in _interactions()
                if interaction["type"] == "Asynchronous/Messages"}
    assert messages == consumed_event_types()


def test_every_interaction_is_given_a_provider_state_sentence_with_its_seed() -> None:
    interactions = _interactions()
    assert interactions
    for interaction in interactions:
        [state] = interaction["providerStates"]
        assert state["name"][0].islower() and "seed" in state["params"], interaction["description"]
