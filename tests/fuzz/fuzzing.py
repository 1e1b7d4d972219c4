"""Build schemathesis tests (every check, stateful phase following the specs' links) for one app."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from simulators.common.app import DEFAULT_TOKEN, context_of

FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "derandomize": True,  # a fixed seed: the same examples on every run
    "database": None,
}


def fuzz_tests(app: Flask, max_examples: int = 30, stateful_examples: int = 15) -> dict[str, Any]:
    """Return the test functions/classes to bind at module level of a test file."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)

    @schema.auth()
    class Bearer:
        def get(self, case: Any, context: Any) -> str:
            return DEFAULT_TOKEN

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"

    @schema.parametrize()
    @settings(max_examples=max_examples, **FUZZ_SETTINGS)
    def test_every_operation_survives_fuzzing_with_every_check(case: Any) -> None:
        case.call_and_validate()

    machine = schema.as_state_machine()

    class StatefulMachine(machine):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            context_of(app).reset()  # every stateful run starts from a freshly started system

    class TestStatefulFuzzingFollowsLinks(StatefulMachine.TestCase):  # type: ignore[misc,name-defined]
        settings = settings(max_examples=stateful_examples, stateful_step_count=8, **FUZZ_SETTINGS)

    def test_every_fuzzed_response_conforms_to_the_spec() -> None:
        violations = context_of(app).response_violations
        assert violations == [], "\n".join(violations[:20])

    tests = (
        test_every_operation_survives_fuzzing_with_every_check,
        TestStatefulFuzzingFollowsLinks,
        test_every_fuzzed_response_conforms_to_the_spec,
    )
    return {test.__name__: test for test in tests}
