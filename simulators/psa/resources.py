"""Resources: HCM workers as the PSA staffs them, with their effective-dated cost rates."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.psa.rates import check_unique_dates
from simulators.psa.recost import recost_resource
from simulators.psa.values import check_practice, money

operations = Operations()
LIST_FILTERS = ("practice", "role", "legal_entity", "active")
WORKER_FIELDS = ("name", "role", "legal_entity", "worker_type", "active", "source_version")


@operations("listResources")
def list_resources(request: Request) -> Reply:
    """List resources, filtered."""
    filters = {name: request.query[name] for name in LIST_FILTERS if name in request.query}
    return request.page(request.store.where(
        "resources", lambda resource: all(resource[name] == value for name, value in filters.items())))


@operations("getResource")
def get_resource(request: Request) -> Reply:
    """Read one resource."""
    return ok(request.store.get("resources", request.path["resource_id"]))


@operations("upsertResource")
def upsert_resource(request: Request) -> Reply:
    """Create or replace a resource from its HCM worker; an identical body changes nothing."""
    worker_id = request.path["resource_id"]
    body = request.body
    if "practice" in body:
        check_practice(body["practice"])
    fields = {"worker_id": worker_id, **{name: body[name] for name in WORKER_FIELDS},
              "email": body.get("email"), "practice": body.get("practice"),
              "source_system": "hcm", "source_id": worker_id}
    current = request.store.find("resources", worker_id)
    if current is None:
        resource = request.store.insert("resources", {**fields, "cost_rates": []}, record_id=worker_id)
        request.emit("psa.resource.upserted", resource)
        return created(resource, f"/resources/{worker_id}")
    request.check_if_match(current)
    if all(current[name] == value for name, value in fields.items()):
        return ok(current)
    resource = request.store.update("resources", worker_id, fields)
    request.emit("psa.resource.upserted", resource)
    return ok(resource)


@operations("replaceResourceCostRates")
def replace_resource_cost_rates(request: Request) -> Reply:
    """Replace a resource's cost rates (HCM owns them, corrections included) and recost its approved time."""
    resource = request.store.get("resources", request.path["resource_id"])
    request.check_if_match(resource)
    rows = request.body["cost_rates"]
    check_unique_dates(rows, ("effective_from",), "duplicate-effective-date", "cost_rates")
    cost_rates = sorted(({"effective_from": row["effective_from"], "hourly_cost": money(row["hourly_cost"]),
                          "currency": row["currency"], "source_version": row["source_version"]} for row in rows),
                        key=lambda row: row["effective_from"])
    if cost_rates == resource["cost_rates"]:
        return ok(resource)
    resource = request.store.update("resources", resource["id"], {"cost_rates": cost_rates})
    request.emit("psa.resource.cost_rates_changed", resource)
    recost_resource(request, resource)
    return ok(resource)
