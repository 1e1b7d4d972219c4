"""The actors' in-process port hands over the query a server would decode from the URL it would have sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from scenarios.engine.ports import _query_pairs


@pytest.mark.parametrize("params", [
    {"status": "SUBMITTED", "limit": 100},
    {"week": "2026-03-02", "approved": True, "rate": 0.5, "empty": ""},
    {"ids": ["TE-000001", "TE-000002"], "kinds": ("TIME", 3)},
    {"name": "M\u00fcller & S\u00f6hne", "q": "a+b c=d"},
    {"cursor": None, "nested": {"a": 1}},
])
def test_query_pairs_are_what_the_server_decodes_from_the_urlencoded_query(params: dict[str, Any]) -> None:
    assert _query_pairs(params) == parse_qsl(urlencode(params, doseq=True), keep_blank_values=True)
