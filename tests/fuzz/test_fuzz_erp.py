"""Fuzz the ERP mock against its spec with every schemathesis check, in-process."""

from simulators.registry import create_system_app
from tests.fuzz.fuzzing import fuzz_tests

globals().update(fuzz_tests(create_system_app("erp", {"VALIDATE_RESPONSES": True})))
