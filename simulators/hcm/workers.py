"""Workers: hire, read, list with filters, and change personal and organisational details."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import business_error
from simulators.common.store import Record, Store
from simulators.hcm.reference import LEGAL_ENTITIES, conflict, find_worker, hours, parse_date

operations = Operations()

_FILTERS = ("legal_entity", "role", "status", "practice", "worker_type", "manager_id")


def _email_key(worker: Record) -> str | None:
    email = worker.get("email")
    return email.lower() if isinstance(email, str) else None


def check_unique_email(store: Store, email: str, worker_id: str | None = None) -> None:
    """Refuse an email another worker already has, in any case (409)."""
    holder = next((worker for worker in store.where_equal("workers", _email_key, email.lower())
                   if worker["id"] != worker_id), None)
    if holder is not None:
        raise conflict(f"{holder['id']} already has the email {email}; rehire that worker instead", "email")


def check_manager(store: Store, manager_id: str | None, worker_id: str | None = None) -> None:
    """Refuse a manager that is unknown, terminated, the worker itself or one of its reports (422)."""
    if manager_id is None:
        return
    manager = store.find("workers", manager_id)
    if manager is None:
        raise business_error("invalid-manager", "Invalid manager", f"No worker {manager_id!r} to report to",
                             field="manager_id")
    if manager["status"] != "ACTIVE":
        raise business_error("invalid-manager", "Invalid manager", f"Manager {manager_id} is {manager['status']}",
                             field="manager_id")
    seen: set[str] = set()
    current: Record | None = manager
    while current is not None and current["id"] not in seen:
        if current["id"] == worker_id:
            raise business_error("invalid-manager", "Invalid manager",
                                 f"{manager_id} reports to {worker_id}; a worker cannot manage their own manager",
                                 field="manager_id")
        seen.add(current["id"])
        current = store.find("workers", current["manager_id"]) if current["manager_id"] else None


def _matches(worker: Record, query: dict[str, Any], holders: set[str] | None) -> bool:
    if any(name in query and worker[name] != query[name] for name in _FILTERS):
        return False
    return holders is None or worker["id"] in holders


@operations("listWorkers")
def list_workers(request: Request) -> Reply:
    """Return a page of workers matching the filters."""
    holders: set[str] | None = None
    if "skill" in request.query:
        wanted = request.query["skill"].lower()
        holders = {skill["worker_id"] for skill in request.store.where("skills", lambda s: s["name"].lower() == wanted)}
    return request.page(request.store.where("workers", lambda worker: _matches(worker, request.query, holders)))


@operations("hireWorker")
def hire_worker(request: Request) -> Reply:
    """Hire a worker as ACTIVE."""
    body = request.body
    hire_date = parse_date(body["hire_date"], "hire_date")
    entity = LEGAL_ENTITIES[body["legal_entity"]]
    check_unique_email(request.store, body["email"])
    check_manager(request.store, body.get("manager_id"))
    capacity = Decimal(body.get("weekly_capacity_hours", entity.standard_week_hours))
    worker = request.store.insert("workers", {
        "worker_type": body["worker_type"],
        "first_name": body["first_name"],
        "last_name": body["last_name"],
        "email": body["email"],
        "role": body["role"],
        "role_effective_from": hire_date.isoformat(),
        "role_history": [{"role": body["role"], "effective_from": hire_date.isoformat(), "reason": "HIRE"}],
        "legal_entity": entity.code,
        "country": entity.country,
        "currency": entity.currency,
        "practice": body["practice"],
        "hire_date": hire_date.isoformat(),
        "original_hire_date": hire_date.isoformat(),
        "termination_date": None,
        "termination_reason": None,
        "status": "ACTIVE",
        "weekly_capacity_hours": hours(capacity),
        "manager_id": body.get("manager_id"),
    })
    request.emit("hcm.worker.hired", worker)
    return created(worker, f"/workers/{worker['id']}")


@operations("getWorker")
def get_worker(request: Request) -> Reply:
    """Return one worker."""
    return ok(find_worker(request.store, request.path["worker_id"]))


@operations("updateWorker")
def update_worker(request: Request) -> Reply:
    """Change a worker's names, email, practice, capacity or manager."""
    worker = find_worker(request.store, request.path["worker_id"])
    request.check_if_match(worker)
    if worker["status"] != "ACTIVE":
        raise conflict(f"Worker {worker['id']} is {worker['status']}; rehire before changing details")
    changes: dict[str, Any] = dict(request.body)
    if "email" in changes:
        check_unique_email(request.store, changes["email"], worker["id"])
    if "manager_id" in changes:
        check_manager(request.store, changes["manager_id"], worker["id"])
    if "weekly_capacity_hours" in changes:
        changes["weekly_capacity_hours"] = hours(Decimal(changes["weekly_capacity_hours"]))
    worker = request.store.update("workers", worker["id"], changes)
    request.emit("hcm.worker.updated", worker)
    return ok(worker)
