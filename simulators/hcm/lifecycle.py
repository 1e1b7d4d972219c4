"""The worker lifecycle: terminate (ACTIVE -> TERMINATED), rehire (back to ACTIVE), change role."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.errors import invalid_transition
from simulators.common.store import Record
from simulators.hcm.reference import LEGAL_ENTITIES, conflict, find_worker, hours, invalid_effective_date, parse_date

operations = Operations()


def _worker_in(request: Request, status: str, action: str) -> Record:
    worker = find_worker(request.store, request.path["worker_id"])
    request.check_if_match(worker)
    if worker["status"] != status:
        raise invalid_transition("worker", worker["id"], worker["status"], action)
    return worker


@operations("terminateWorker")
def terminate_worker(request: Request) -> Reply:
    """End a worker's employment on a termination date."""
    worker = _worker_in(request, "ACTIVE", "terminate")
    termination = parse_date(request.body["termination_date"], "termination_date")
    if termination.isoformat() < worker["hire_date"]:
        raise invalid_effective_date(
            f"termination_date {termination} is before the hire date {worker['hire_date']}", "termination_date")
    worker = request.store.update("workers", worker["id"], {
        "status": "TERMINATED",
        "termination_date": termination.isoformat(),
        "termination_reason": request.body.get("reason", "RESIGNATION"),
    })
    request.emit("hcm.worker.terminated", worker)
    return ok(worker)


@operations("rehireWorker")
def rehire_worker(request: Request) -> Reply:
    """Bring a former worker back, optionally in another role, entity, practice or capacity."""
    worker = _worker_in(request, "TERMINATED", "rehire")
    body = request.body
    rehire = parse_date(body["rehire_date"], "rehire_date").isoformat()
    if rehire <= worker["termination_date"]:
        raise invalid_effective_date(
            f"rehire_date {rehire} must be after the termination date {worker['termination_date']}", "rehire_date")
    entity = LEGAL_ENTITIES[body.get("legal_entity", worker["legal_entity"])]
    changes: dict[str, Any] = {
        "status": "ACTIVE",
        "hire_date": rehire,
        "termination_date": None,
        "termination_reason": None,
        "legal_entity": entity.code,
        "country": entity.country,
        "currency": entity.currency,
        "practice": body.get("practice", worker["practice"]),
    }
    if "weekly_capacity_hours" in body:
        changes["weekly_capacity_hours"] = hours(Decimal(body["weekly_capacity_hours"]))
    elif entity.code != worker["legal_entity"]:
        changes["weekly_capacity_hours"] = hours(entity.standard_week_hours)
    role = body.get("role", worker["role"])
    if role != worker["role"]:
        changes["role"] = role
        changes["role_effective_from"] = rehire
        changes["role_history"] = [*worker["role_history"],
                                   {"role": role, "effective_from": rehire, "reason": "REHIRE"}]
    worker = request.store.update("workers", worker["id"], changes)
    request.emit("hcm.worker.rehired", worker)
    return ok(worker)


@operations("changeWorkerRole")
def change_worker_role(request: Request) -> Reply:
    """Move an active worker to another role from an effective date."""
    worker = _worker_in(request, "ACTIVE", "change the role of")
    role = request.body["role"]
    effective = parse_date(request.body["effective_date"], "effective_date").isoformat()
    if role == worker["role"]:
        raise conflict(f"Worker {worker['id']} is already {role}", "role")
    if effective <= worker["role_effective_from"]:
        raise invalid_effective_date(
            f"effective_date {effective} must be after the current role's start {worker['role_effective_from']}",
            "effective_date")
    change = {"role": role, "effective_from": effective, "reason": request.body.get("reason", "PROMOTION")}
    worker = request.store.update("workers", worker["id"], {
        "role": role,
        "role_effective_from": effective,
        "role_history": [*worker["role_history"], change],
    })
    request.emit("hcm.worker.role_changed", worker)
    return ok(worker)
