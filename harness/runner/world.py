"""The simulated world: one SimPy environment, the four systems in-process on its clock, the engine.

Used by `firmsim run --mode sim` and by the end-to-end tests of the engine's flows. Everything is
reached through public APIs: the actors through `WsgiPort`s, the engine through its own clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import simpy
from flask import Flask

from scenarios.engine.clock import SimClock
from scenarios.engine.ports import WsgiPort
from simulators.common.app import DEFAULT_TOKEN, SystemContext, context_of
from simulators.registry import SYSTEM_KINDS, create_system_app
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Flow
from syncengine.runtime.sim import SimRuntime

ENGINE_TOKEN = "firmsim-engine-token"
ACTOR_TOKEN = DEFAULT_TOKEN


@dataclass
class World:
    """Everything one simulated run holds."""

    env: simpy.Environment
    clock: SimClock
    apps: dict[str, Flask]
    ports: dict[str, WsgiPort]
    engine: Engine | None = None
    runtime: SimRuntime | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def context(self, system: str) -> SystemContext:
        """Return the in-process context of a system (for exports and stats only)."""
        return context_of(self.apps[system])

    def run_until(self, seconds: float) -> None:
        """Advance virtual time to `seconds` after the start."""
        if seconds > self.env.now:
            self.env.run(until=seconds)

    def drain(self, limit_s: float) -> bool:
        """Let the engine finish what is in flight, within `limit_s` of virtual time; tell if it went idle."""
        if self.runtime is None:
            return True
        deadline = self.env.now + limit_s
        done = self.runtime.drain()
        self.env.run(until=simpy.AnyOf(self.env, [done, self.env.timeout(limit_s)]))
        return bool(done.triggered) and self.env.now <= deadline


def build_world(start: datetime, *, flows: Sequence[Flow] | None = None, seed: int = 0,
                ledger: str = "memory", ledger_path: str | Path | None = None,
                poll_interval_s: float = 60.0, max_poll_interval_s: float | None = None,
                system_config: dict[str, Any] | None = None) -> World:
    """Build the systems on a virtual clock and, when `flows` is given, the engine running them."""
    env = simpy.Environment()
    clock = SimClock(env, start)
    apps = {}
    for index, kind in enumerate(SYSTEM_KINDS):
        config = {"CLOCK": clock, "SEED": seed * 10 + index, "API_TOKENS": [ACTOR_TOKEN, ENGINE_TOKEN],
                  **(system_config or {})}
        apps[kind] = create_system_app(kind, config)
    ports = {kind: WsgiPort(kind, app, ACTOR_TOKEN) for kind, app in apps.items()}
    world = World(env, clock, apps, ports)
    if flows is not None:
        engine = bootstrap(EngineConfig(
            systems=tuple(SystemConfig(kind, app=app, token=ENGINE_TOKEN, client_id="firmsim",
                                       client_secret="firmsim-secret") for kind, app in apps.items()),
            ledger=ledger, ledger_path=ledger_path, clock=clock, seed=seed, flows=tuple(flows)))
        runtime = SimRuntime(env, engine, poll_interval_s=poll_interval_s,
                             max_poll_interval_s=max_poll_interval_s)
        for kind, app in apps.items():
            context_of(app).feed.subscribe(runtime.doorbell(kind))
        runtime.start()
        world.engine, world.runtime = engine, runtime
    return world
