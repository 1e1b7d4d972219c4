"""Cursor pagination over records in id order: the cursor names the last id of the page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from simulators.common.errors import validation_error


def encode_cursor(last_id: str) -> str:
    """Return the opaque cursor for a page that ended at `last_id`."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Return the last id a cursor names, or raise a 400 naming the cursor."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise validation_error("cursor", "not a cursor this API returned") from error


def paginate(records: Sequence[dict[str, Any]], cursor: str | None, limit: int) -> dict[str, Any]:
    """Return one page `{items, next_cursor}` of records sorted by id."""
    start = 0
    if cursor:
        last_id = decode_cursor(cursor)
        start = next((i for i, record in enumerate(records) if record["id"] > last_id), len(records))
    items = list(records[start:start + limit])
    more = start + limit < len(records)
    return {"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if more and items else None}
