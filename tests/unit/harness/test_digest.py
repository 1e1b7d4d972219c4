"""Canonical JSON and the run digest: orjson's speed, the standard library's bytes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.digest import canonical_json, run_digest
from scenarios.engine.canonical import canonical_bytes

SIXTY_FOUR_BITS = 2**63 - 1
text = st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\x1f\x7f\"\\/é€😀\u2028"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-SIXTY_FOUR_BITS, SIXTY_FOUR_BITS) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=30)


def standard(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@given(json_values)
def test_canonical_json_is_the_standard_librarys_text_for_json_values_without_floats(value: Any) -> None:
    assert canonical_json(value) == standard(value)
    assert canonical_bytes(value, default=str) == standard(value).encode("ascii")


def test_what_orjson_cannot_write_is_written_by_the_standard_library() -> None:
    awkward = {"big": 2**70, "lone surrogate": "\ud800", "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
               "day": date(2026, 1, 2), "amount": Decimal("12.50")}
    assert canonical_json(awkward) == standard(awkward)
    assert canonical_json({1: "a", 2: "b"}) == standard({1: "a", 2: "b"})


def test_run_digest_hashes_the_standard_librarys_canonical_json_of_each_system_then_truth() -> None:
    states = {"psa": {"records": {"time_entries": [{"id": "TE-1", "hours": "8.00", "note": "Müller"}],
                                  "expenses": []}},
              "crm": {"records": {"accounts": [{"name": "Zoë 😀", "id": "ACC-1"}]}},
              "odd": {"records": [{"b": 1, "a": None}]}}
    truth_json = '[{"at":"2026-01-01T00:00:00Z"}]'
    hasher = hashlib.sha256()
    for name in sorted(states):
        hasher.update(name.encode() + standard(states[name]["records"]).encode())
    hasher.update(truth_json.encode())
    assert run_digest(states, truth_json) == hasher.hexdigest()
