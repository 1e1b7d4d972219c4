"""Per-key ordered queues: one key's messages go one at a time, other keys never wait for it."""

from __future__ import annotations

import itertools
from collections import deque

from syncengine.runtime.registry import Delivery


class KeyedQueues:
    """A FIFO queue per ordering key; a key may be parked behind an open exception."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Delivery]] = {}
        self._parked: dict[str, str] = {}
        self._depth = 0
        self.max_depth = 0

    def push(self, delivery: Delivery, *, front: bool = False) -> None:
        """Queue a delivery at the back of its key (the front for a re-drive)."""
        queue = self._queues.get(delivery.key)
        if queue is None:  # not setdefault: that builds a deque on every push
            queue = self._queues[delivery.key] = deque()
        if front:
            queue.appendleft(delivery)
        else:
            queue.append(delivery)
        self._depth += 1
        self.max_depth = max(self.max_depth, self._depth)

    def head(self, key: str) -> Delivery | None:
        """Return the next delivery of a key, None when it is empty or parked."""
        queue = self._queues.get(key)
        if not queue or key in self._parked:
            return None
        return queue[0]

    def prefix(self, key: str, limit: int) -> list[Delivery]:
        """Return up to `limit` deliveries from the head of a key, none when it is empty or parked."""
        queue = self._queues.get(key)
        if not queue or key in self._parked:
            return []
        return list(itertools.islice(queue, limit))

    def pop(self, key: str) -> Delivery:
        """Remove and return the head of a key."""
        queue = self._queues[key]
        delivery = queue.popleft()
        self._depth -= 1
        if not queue:
            del self._queues[key]
        return delivery

    def replace_head(self, delivery: Delivery) -> None:
        """Put the next attempt of a delivery in place of its head."""
        self._queues[delivery.key][0] = delivery

    def park(self, key: str, exception_id: str) -> None:
        """Hold a key's later messages behind an exception until it is re-driven or resolved."""
        self._parked[key] = exception_id

    def unpark(self, key: str, exception_id: str) -> bool:
        """Release a key parked behind this exception; tell whether it was."""
        if self._parked.get(key) != exception_id:
            return False
        del self._parked[key]
        return True

    def runnable_keys(self) -> list[str]:
        """Return the keys with a message ready to go, in the order they first got one."""
        return [key for key in self._queues if key not in self._parked]

    def any_runnable(self) -> bool:
        """Tell whether some key has a message ready to go."""
        return len(self._queues) > len(self._parked) or any(key not in self._parked for key in self._queues)

    def parked(self) -> dict[str, str]:
        """Return the parked keys and the exception each waits on."""
        return dict(self._parked)

    def depth(self) -> int:
        """Return the number of queued deliveries, parked ones included."""
        return self._depth

    def runnable_depth(self) -> int:
        """Return the number of queued deliveries on keys that are not parked."""
        return sum(len(queue) for key, queue in self._queues.items() if key not in self._parked)
