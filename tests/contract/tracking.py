"""Which parts of a JSON value the engine actually read: the contract keeps only those.

A response body or an event's data is wrapped before the engine's real code sees it; afterwards
`used_part` returns the value cut down to what was read. A container read as a whole (handed on,
copied, serialised) without being looked into is kept whole, so nothing the engine relies on is cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def tracked(value: Any) -> Any:
    """Wrap a JSON value so that reads of its members are noted."""
    if isinstance(value, dict) and not isinstance(value, TrackedDict):
        return TrackedDict(value)
    if isinstance(value, list) and not isinstance(value, TrackedList):
        return TrackedList(value)
    return value


class TrackedDict(dict[str, Any]):
    """A JSON object that notes which keys were read."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__({key: tracked(item) for key, item in data.items()})
        self.read: set[str] = set()
        self.whole = False

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if super().__contains__(key):
            self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        if found and isinstance(key, str):
            self.read.add(key)
        return found

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return super().__iter__()

    def keys(self) -> Any:
        self.whole = True
        return super().keys()

    def items(self) -> Any:
        self.whole = True
        return super().items()

    def values(self) -> Any:
        self.whole = True
        return super().values()

    def copy(self) -> dict[str, Any]:
        self.whole = True
        return dict(super().items())


class TrackedList(list[Any]):
    """A JSON array that notes whether its items were read."""

    def __init__(self, data: list[Any]) -> None:
        super().__init__(tracked(item) for item in data)
        self.read = False

    def __getitem__(self, index: Any) -> Any:
        self.read = True
        return super().__getitem__(index)

    def __iter__(self) -> Iterator[Any]:
        self.read = True
        return super().__iter__()


def plain(value: Any) -> Any:
    """Return a tracked value as plain JSON, without noting any read."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in dict.items(value)}
    if isinstance(value, list):
        return [plain(item) for item in list.__iter__(value)]
    return value


def _looked_into(value: Any) -> bool:
    if isinstance(value, TrackedDict):
        return value.whole or bool(value.read)
    if isinstance(value, TrackedList):
        return value.read
    return False


def used_part(value: Any) -> Any:
    """Return the part of a tracked value that was read (a container never looked into stays whole)."""
    if isinstance(value, TrackedDict):
        names = [name for name in dict.keys(value) if value.whole or name in value.read]
        return {name: _child(dict.__getitem__(value, name)) for name in names}
    if isinstance(value, TrackedList):
        return [_child(item) for item in list.__iter__(value)]
    return value


def _child(value: Any) -> Any:
    return used_part(value) if _looked_into(value) else plain(value)
