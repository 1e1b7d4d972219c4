"""Keyset pagination over records in id order.

The cursor is the last id of the previous page: a page holds the records whose ids sort after it,
so a cursor stays valid while records are added, and any string is a valid (if unusual) cursor.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any


def encode_cursor(last_id: str) -> str:
    """Return the cursor for a page that ended at `last_id`."""
    return last_id


def decode_cursor(cursor: str) -> str:
    """Return the last id a cursor names."""
    return cursor


def paginate(records: Sequence[dict[str, Any]], cursor: str | None, limit: int) -> dict[str, Any]:
    """Return one page `{items, next_cursor}` of records sorted by id."""
    start = 0
    if cursor:
        last_id = decode_cursor(cursor)
        start = bisect.bisect_right([record["id"] for record in records], last_id)
    items = list(records[start:start + limit])
    more = start + limit < len(records)
    return {"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if more and items else None}
