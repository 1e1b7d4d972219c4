"""Operations: the scenario's fault schedule, set on each system's fault plane through its admin API.

Faults are windows against the systems' own (virtual) clock, so the schedule is posted once at the
start and the systems open and close each window themselves. A window already on a system's plane
(same id, e.g. scheduled by the harness) is not posted twice.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.faults import fault_windows

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]


def operations(env: simpy.Environment, firm: Firm) -> Process:
    """Schedule every fault window of the scenario."""
    scheduled: dict[str, list[str]] = {}
    for system, fault in fault_windows(firm.scenario):
        port = firm.admin_ports.get(system)
        if port is None:
            continue
        if system not in scheduled:
            listed = port.call("GET", "/admin/faults")
            scheduled[system] = [str(item["id"]) for item in listed.body["items"]] if listed.ok else []
        if fault["id"] in scheduled[system]:
            continue
        result = port.call("POST", "/admin/faults", body=fault)
        if result.ok:
            firm.note("operations", f"{fault['kind']} on {system} from {fault['start']} for "
                                    f"{fault['duration'] / 3600:g} h {fault['params'] or ''}".rstrip())
        else:
            firm.failures[(system, "/admin/faults", result.status, result.problem_type)] += 1
    yield env.timeout(0)
