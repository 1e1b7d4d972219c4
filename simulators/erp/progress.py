"""Cost actuals and estimates at completion: the inputs of cost-to-cost revenue."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, created
from simulators.common.errors import business_error
from simulators.common.store import Record
from simulators.erp.money import money, money_str, parse_date, period_end, period_of
from simulators.erp.records import source_ref, stale_version

operations = Operations()


def record_estimate(request: Request, contract: Record, eac: str, effective_date: str, body: dict[str, Any]) -> Record:
    """Keep an estimate at completion in the contract's EAC history."""
    return request.store.insert("estimates", {"contract_id": contract["id"], "eac": eac,
                                              "effective_date": effective_date, "currency": contract["currency"],
                                              **source_ref(body)})


def estimates_of(request: Request, contract_id: str) -> list[Record]:
    """Return a contract's EAC history in the order it was recorded."""
    return request.store.where("estimates", lambda estimate: estimate["contract_id"] == contract_id)


@operations("listCostActuals")
def list_cost_actuals(request: Request) -> Reply:
    """List a contract's cost actuals."""
    contract = request.store.get("contracts", request.path["contract_id"])
    return request.page(request.store.where_equal("cost_actuals", "contract_id", contract["id"]))


@operations("postCostActual")
def post_cost_actual(request: Request) -> Reply:
    """Post the cumulative cost to a day of a period; a newer source version replaces that day's figure."""
    body = request.body
    contract = request.store.get("contracts", request.path["contract_id"])
    as_of = _as_of(body)
    existing = next((actual for actual in request.store.where_equal("cost_actuals", "contract_id", contract["id"])
                     if actual["as_of"] == as_of), None)
    fields = {"cumulative_cost": money_str(body["cumulative_cost"]), **source_ref(body)}
    if existing is None:
        actual = request.store.insert("cost_actuals", {"contract_id": contract["id"], "period": body["period"],
                                                       "as_of": as_of, "currency": contract["currency"], **fields})
    else:
        if body["source_version"] <= existing["source_version"]:
            raise stale_version("cost actual", existing["id"], existing["source_version"], body["source_version"])
        actual = request.store.update("cost_actuals", existing["id"], fields)
    request.emit("erp.cost_actual.posted", actual)
    return created(actual, f"/contracts/{contract['id']}/cost-actuals")


def _as_of(body: dict[str, Any]) -> str:
    """Return the day a cost figure is measured to: `as_of` within the period, else the period's last day."""
    last_day = period_end(body["period"])
    if "as_of" not in body:
        return last_day.isoformat()
    as_of = parse_date(body["as_of"], "body/as_of")
    if period_of(as_of) != body["period"]:
        raise business_error("invalid-dates", "Invalid dates", f"as_of {as_of.isoformat()} is not in period "
                                                               f"{body['period']}", field="body/as_of")
    return as_of.isoformat()


@operations("postEstimateAtCompletion")
def post_estimate_at_completion(request: Request) -> Reply:
    """Revise a cost-to-cost contract's estimate at completion."""
    body = request.body
    contract = request.store.get("contracts", request.path["contract_id"])
    request.check_if_match(contract)
    parse_date(body["effective_date"], "body/effective_date")
    if contract["revenue_policy"] != "COST_TO_COST":
        raise business_error("invalid-revenue-policy", "Not a cost-to-cost contract",
                             f"Contract {contract['id']} recognizes revenue {contract['revenue_policy']}; "
                             f"an estimate at completion does not apply", field="body/eac")
    if money(body["eac"]) <= 0:
        raise business_error("invalid-billing-plan", "Invalid estimate", "The estimate at completion must be positive",
                             field="body/eac")
    eac = money_str(body["eac"])
    contract = request.store.update("contracts", contract["id"],
                                    {"billing_plan": {**contract["billing_plan"], "eac": eac}})
    record_estimate(request, contract, eac, body["effective_date"], body)
    request.emit("erp.contract.estimate_revised", contract)
    return created(contract, f"/contracts/{contract['id']}")
