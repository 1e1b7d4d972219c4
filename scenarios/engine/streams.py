"""Seeded random streams, one per actor family, so adding one actor never reshuffles the others."""

from __future__ import annotations

import hashlib
import random


class Streams:
    """Hand out an independent `random.Random` per name, derived from the scenario seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __call__(self, name: str) -> random.Random:
        """Return the stream of `name` (the same object for the same name)."""
        stream = self._streams.get(name)
        if stream is None:
            digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
            stream = random.Random(int.from_bytes(digest[:8], "big"))
            self._streams[name] = stream
        return stream
