"""Cost rates: effective-dated hourly costs per worker, with the history of retroactive corrections.

A rate applies from its `effective_from` until the next ACTIVE rate of the same worker starts. A
CORRECTION for a date that already has a rate supersedes it (the old one stays, marked
`superseded_by`); a rate that starts before an existing later rate is backdated. Both change costs
already incurred, so both emit `hcm.cost_rate.corrected`.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import business_error
from simulators.common.store import Record, Store
from simulators.hcm.reference import conflict, find_worker, invalid_effective_date, money, parse_date

operations = Operations()

WORKING_WEEKS_PER_YEAR = 46
DEFAULT_BURDEN = {"EMPLOYEE": Decimal("1.30"), "CONTRACTOR": Decimal("1.00")}


def loaded_hourly_cost(annual_salary: Decimal, burden_multiplier: Decimal, annual_capacity_hours: int) -> Decimal:
    """Return the loaded hourly cost: salary × burden ÷ capacity hours, half-up to the cent."""
    return (annual_salary * burden_multiplier / Decimal(annual_capacity_hours)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def default_capacity_hours(worker: Record) -> int:
    """Return a worker's default annual capacity: weekly hours × 46 working weeks, whole hours."""
    annual = Decimal(worker["weekly_capacity_hours"]) * WORKING_WEEKS_PER_YEAR
    return int(annual.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def active_rates(store: Store, worker_id: str) -> list[Record]:
    """Return a worker's ACTIVE rates ordered by effective date."""
    rates = [rate for rate in store.where_equal("cost_rates", "worker_id", worker_id) if rate["status"] == "ACTIVE"]
    return sorted(rates, key=lambda rate: rate["effective_from"])


def rate_on(store: Store, worker_id: str, day: date) -> Record | None:
    """Return the ACTIVE rate in effect on a day, if any."""
    effective = [rate for rate in active_rates(store, worker_id) if rate["effective_from"] <= day.isoformat()]
    return effective[-1] if effective else None


def _hourly_cost(worker: Record, body: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    if "hourly_cost" in body:
        return money(Decimal(body["hourly_cost"])), None
    salary = Decimal(body["annual_salary"])
    burden = Decimal(body.get("burden_multiplier", DEFAULT_BURDEN[worker["worker_type"]]))
    capacity = int(body.get("annual_capacity_hours", default_capacity_hours(worker)))
    basis = {"annual_salary": money(salary), "burden_multiplier": str(burden), "annual_capacity_hours": capacity}
    return money(loaded_hourly_cost(salary, burden, capacity)), basis


def _check_dates(worker: Record, effective_from: date) -> None:
    if effective_from.isoformat() < worker["original_hire_date"]:
        raise invalid_effective_date(
            f"effective_from {effective_from} is before the hire date {worker['original_hire_date']}",
            "effective_from")
    if worker["termination_date"] is not None and effective_from.isoformat() > worker["termination_date"]:
        raise invalid_effective_date(
            f"effective_from {effective_from} is after the termination date {worker['termination_date']}",
            "effective_from")


@operations("createWorkerCostRate")
def create_worker_cost_rate(request: Request) -> Reply:
    """Add a rate; supersede the same date's rate on a CORRECTION; flag retroactive changes."""
    worker = find_worker(request.store, request.path["worker_id"])
    body = request.body
    effective_from = parse_date(body["effective_from"], "effective_from")
    _check_dates(worker, effective_from)
    currency = body.get("currency", worker["currency"])
    if currency != worker["currency"]:
        raise business_error("currency-not-allowed", "Currency not allowed",
                             f"{worker['id']} is employed by {worker['legal_entity']}, whose currency is "
                             f"{worker['currency']}, not {currency}", field="currency")
    rates = active_rates(request.store, worker["id"])
    replaced = next((rate for rate in rates if rate["effective_from"] == effective_from.isoformat()), None)
    if replaced is not None and body["reason"] != "CORRECTION":
        raise conflict(f"{replaced['id']} already applies from {effective_from}; send reason CORRECTION to "
                       f"replace it", "effective_from")
    hourly_cost, basis = _hourly_cost(worker, body)
    backdated = any(rate["effective_from"] > effective_from.isoformat() for rate in rates)
    rate = request.store.insert("cost_rates", {
        "worker_id": worker["id"],
        "legal_entity": worker["legal_entity"],
        "currency": worker["currency"],
        "hourly_cost": hourly_cost,
        "effective_from": effective_from.isoformat(),
        "reason": body["reason"],
        "revision": replaced["revision"] + 1 if replaced else 1,
        "status": "ACTIVE",
        "supersedes": replaced["id"] if replaced else None,
        "superseded_by": None,
        "retroactive": replaced is not None or backdated,
        "basis": basis,
        "note": body.get("note"),
    })
    if replaced is not None:
        request.store.update("cost_rates", replaced["id"], {"status": "SUPERSEDED", "superseded_by": rate["id"]})
    request.emit("hcm.cost_rate.corrected" if rate["retroactive"] else "hcm.cost_rate.created", rate)
    return created(rate, f"/cost-rates/{rate['id']}")


@operations("listWorkerCostRates")
def list_worker_cost_rates(request: Request) -> Reply:
    """Return a worker's rate history, or the one rate in effect on `as_of`."""
    worker = find_worker(request.store, request.path["worker_id"])
    if "as_of" in request.query:
        current = rate_on(request.store, worker["id"], parse_date(request.query["as_of"], "as_of"))
        return request.page([current] if current else [])
    include_superseded = request.query.get("include_superseded", True)
    return request.page([rate for rate in request.store.where_equal("cost_rates", "worker_id", worker["id"])
                         if include_superseded or rate["status"] == "ACTIVE"])


@operations("getCostRate")
def get_cost_rate(request: Request) -> Reply:
    """Return one cost rate."""
    return ok(request.store.get("cost_rates", request.path["cost_rate_id"]))
