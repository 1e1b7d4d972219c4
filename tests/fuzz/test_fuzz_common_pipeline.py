"""Fuzz the shared request pipeline through the toy system (no real system's rules involved)."""

from tests.fuzz.fuzzing import fuzz_tests
from tests.unit.common.toy import create_app

globals().update(fuzz_tests(create_app()))
