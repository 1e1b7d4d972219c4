"""A distributed worker on the in-process bus for unit tests, and a wait until it has nothing left to do."""

from __future__ import annotations

import time

from syncengine.adapters.bus.memory import InProcessBus
from syncengine.adapters.clock import SystemClock
from syncengine.bootstrap import EngineConfig, bootstrap
from syncengine.retry import RetryPolicy
from syncengine.runtime.coordination import SoloCoordinator
from syncengine.runtime.worker import DistributedWorker
from tests.unit.syncengine.test_engine import Steps


def worker_on(steps: Steps, bus: InProcessBus, retry: RetryPolicy | None = None) -> DistributedWorker:
    """Return a worker running the steps' flow from the bus, on a memory ledger, backoff scaled down."""
    engine = bootstrap(EngineConfig(clock=SystemClock(), flows=(steps.flow(),), retry=retry or RetryPolicy(),
                                    park_on_exception=False, virtual_latency=False))
    return DistributedWorker(engine, bus, SoloCoordinator(), workers=3, backoff_scale=0.02)


def settle(worker: DistributedWorker, bus: InProcessBus, timeout_s: float = 10.0) -> None:
    """Wait until the bus is empty, nothing is in flight and the worker owns every partition."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = worker.status()
        if bus.depth() == 0 and status.in_flight == 0 and status.owned == bus.partitions:
            return
        time.sleep(0.02)
    raise AssertionError(f"the worker did not settle: {worker.status()}")
