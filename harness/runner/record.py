"""What a finished run produced, before reporting: the record both modes fill in (sim.py adds its
in-process world, live.py what it read over HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.oracle.model import InvariantResult
from scenarios.engine.config import Scenario


@dataclass(slots=True, kw_only=True)
class RunRecord:
    """The fields report.json reads of any run."""

    scenario: Scenario
    seed: int
    engine: str
    truth: Any
    states: dict[str, dict[str, Any]]
    engine_view: dict[str, Any] | None
    invariants: list[InvariantResult]
    business: dict[str, Any]
    faults: list[dict[str, Any]]
    series: dict[str, Any]
    drained: bool
    wall_s: float
