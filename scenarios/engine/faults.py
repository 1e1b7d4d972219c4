"""The operations actor's fault schedule: scenario faults turned into windows on each system's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scenarios.engine.config import Scenario, parse_offset


def _month_starts(scenario: Scenario) -> list[datetime]:
    starts = []
    cursor = scenario.start_instant.replace(day=1)
    end = scenario.start_instant + timedelta(days=scenario.days)
    while cursor < end:
        starts.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return starts


def _instant(start: str, origin: datetime) -> datetime:
    if "T" in start:
        return datetime.fromisoformat(start.replace("Z", "+00:00"))
    return origin + parse_offset(start)


def fault_windows(scenario: Scenario) -> list[tuple[str, dict[str, Any]]]:
    """Return `(system, admin fault definition)` for every scheduled fault window, in order."""
    windows: list[tuple[str, dict[str, Any]]] = []
    for index, fault in enumerate(scenario.params["faults"]):
        origins = _month_starts(scenario) if fault.get("every_month") else [scenario.start_instant]
        duration = parse_offset(fault["duration"]).total_seconds()
        for repeat, origin in enumerate(origins):
            start = _instant(fault["start"], origin)
            windows.append((fault["system"], {
                "id": f"S{index + 1:02d}-{repeat + 1:02d}",
                "kind": fault["kind"],
                "start": start.isoformat().replace("+00:00", "Z"),
                "duration": duration,
                "params": fault.get("params") or {},
            }))
    return windows
