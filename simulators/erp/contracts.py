"""Contracts: creation from a closed-won deal, versions from change orders, termination."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.clock import isoformat
from simulators.common.errors import business_error, invalid_transition
from simulators.common.store import Record
from simulators.erp import transactions
from simulators.erp.money import money, money_str, parse_date
from simulators.erp.plans import PlanError, build_plan, revenue_policy
from simulators.erp.progress import record_estimate
from simulators.erp.records import customer_of, stale_version, tax_treatment

operations = Operations()


def _total_price(body: dict[str, Any]) -> str:
    """Return the contract's price: given, else the cap (capped T&M), fee × term (retainer) or 0 (T&M)."""
    if "total_price" in body:
        return money_str(body["total_price"])
    plan = body.get("billing_plan") or {}
    model = body["billing_model"]
    if model == "CAPPED_TM" and "cap_amount" in plan:
        return money_str(plan["cap_amount"])
    if model == "RETAINER" and "retainer" in plan:
        return money_str(money(plan["retainer"]["monthly_fee"]) * plan["retainer"]["term_months"])
    if model == "TIME_AND_MATERIALS":
        return "0.00"
    raise business_error("invalid-billing-plan", "Invalid billing plan",
                         f"A {model} contract needs its total_price", field="body/total_price")


def _plan(billing_model: str, policy: str, body: dict[str, Any], total_price: str, start: str,
          previous: dict[str, Any] | None) -> dict[str, Any]:
    requested = dict(body.get("billing_plan") or {})
    if "start_date" in requested.get("retainer", {}):
        parse_date(requested["retainer"]["start_date"], "body/billing_plan/retainer/start_date")
    if billing_model == "CAPPED_TM" and "cap_amount" not in requested:
        requested["cap_amount"] = total_price
    try:
        return build_plan(billing_model, policy, money(total_price), requested,
                          parse_date(start, "body/start_date"), previous)
    except PlanError as error:
        raise business_error("invalid-billing-plan", "Invalid billing plan", str(error),
                             field="body/billing_plan") from error


def _check_dates(start: str, end: str | None) -> None:
    if end is not None and parse_date(end, "body/end_date") < parse_date(start, "body/start_date"):
        raise business_error("invalid-dates", "Invalid dates", f"end_date {end} is before start_date {start}",
                             field="body/end_date")


def _version(request: Request, contract: Record, body: dict[str, Any], effective_date: str) -> Record:
    return request.store.insert("contract_versions", {
        "contract_id": contract["id"],
        "source_system": body["source_system"],
        "source_id": body["source_id"],
        "source_version": body["source_version"],
        "effective_date": effective_date,
        "total_price": contract["total_price"],
        "billing_plan": contract["billing_plan"],
        "distinct": bool(body.get("distinct", False)),
        "priced_at_standalone": bool(body.get("priced_at_standalone", False)),
        "description": body.get("description"),
    })


@operations("listContracts")
def list_contracts(request: Request) -> Reply:
    """List contracts by customer, entity, CRM opportunity or status."""
    filters = {name: request.query[name] for name in ("customer_id", "legal_entity", "crm_opportunity_id", "status")
               if name in request.query}
    store = request.store
    # The engine looks a deal's contract up by opportunity once per won deal: an index, not a scan.
    indexed = next((name for name in ("crm_opportunity_id", "customer_id") if name in filters), None)
    contracts = store.all("contracts") if indexed is None else store.where_equal("contracts", indexed,
                                                                                 filters[indexed])
    return request.page([contract for contract in contracts
                         if all(contract[name] == value for name, value in filters.items())])


@operations("createContract")
def create_contract(request: Request) -> Reply:
    """Create a contract at version 1 with its billing plan."""
    body = request.body
    store = request.store
    customer = customer_of(store, body["customer_id"])
    entity = store.get("legal_entities", body["legal_entity"])
    if body["currency"] != entity["currency"]:
        raise business_error("currency-not-allowed", "Currency not allowed",
                             f"{entity['id']} contracts are in {entity['currency']}, not {body['currency']}",
                             field="body/currency", allowed_currency=entity["currency"])
    tax_treatment(store, entity["id"], customer)
    _check_dates(body["start_date"], body.get("end_date"))
    try:
        policy = revenue_policy(body["billing_model"], body.get("revenue_policy"))
    except PlanError as error:
        raise business_error("invalid-revenue-policy", "Invalid revenue policy", str(error),
                             field="body/revenue_policy") from error
    total_price = _total_price(body)
    plan = _plan(body["billing_model"], policy, body, total_price, body["start_date"], None)
    contract = store.insert("contracts", {
        "name": body.get("name") or f"{customer['name']} ({body['billing_model']})",
        "customer_id": customer["id"],
        "legal_entity": entity["id"],
        "currency": body["currency"],
        "billing_model": body["billing_model"],
        "revenue_policy": policy,
        "status": "ACTIVE",
        "crm_opportunity_id": body.get("crm_opportunity_id"),
        "psa_project_id": body.get("psa_project_id"),
        "practice": body.get("practice"),
        "source_system": body["source_system"],
        "source_id": body["source_id"],
        "source_version": body["source_version"],
        "version_count": 1,
        "start_date": body["start_date"],
        "end_date": body.get("end_date"),
        "effective_date": body["start_date"],
        "total_price": total_price,
        "billing_plan": plan,
        "termination": None,
    })
    _version(request, contract, body, body["start_date"])
    if plan["eac"] is not None:
        record_estimate(request, contract, plan["eac"], body["start_date"], body)
    request.emit("erp.contract.created", contract)
    return created(contract, f"/contracts/{contract['id']}")


@operations("getContract")
def get_contract(request: Request) -> Reply:
    """Read a contract."""
    return ok(request.store.get("contracts", request.path["contract_id"]))


@operations("listContractVersions")
def list_contract_versions(request: Request) -> Reply:
    """List a contract's versions, oldest first."""
    contract = request.store.get("contracts", request.path["contract_id"])
    return request.page(request.store.where("contract_versions", lambda v: v["contract_id"] == contract["id"]))


@operations("addContractVersion")
def add_contract_version(request: Request) -> Reply:
    """Apply a change order as a new version, unless it is not newer than the current one."""
    body = request.body
    contract = request.store.get("contracts", request.path["contract_id"])
    request.check_if_match(contract)
    if contract["status"] != "ACTIVE":
        raise invalid_transition("contract", contract["id"], contract["status"], "add a version to")
    if body["source_version"] <= contract["source_version"]:
        raise stale_version("contract", contract["id"], contract["source_version"], body["source_version"])
    parse_date(body["effective_date"], "body/effective_date")
    _check_dates(contract["start_date"], body.get("end_date", contract["end_date"]))
    if body.get("distinct", False) and body.get("priced_at_standalone", False):
        raise business_error("separate-contract-required", "Separate contract required",
                             "A change adding distinct services at their standalone selling price is a separate "
                             "contract (ASC 606-10-25-12): post it with createContract", field="body/distinct")
    plan = _plan(contract["billing_model"], contract["revenue_policy"], body, money_str(body["total_price"]),
                 contract["start_date"], contract["billing_plan"])
    known = {milestone["id"] for milestone in contract["billing_plan"]["milestones"]}
    if (contract["revenue_policy"] == "POINT_IN_TIME" and not body.get("distinct", False)
            and any(milestone["id"] not in known for milestone in plan["milestones"])):
        raise business_error("invalid-billing-plan", "Invalid billing plan",
                             "A new milestone on a point-in-time contract is a distinct deliverable: flag the "
                             "change order distinct", field="body/billing_plan")
    previous_eac = contract["billing_plan"]["eac"]
    contract = request.store.update("contracts", contract["id"], {
        "source_version": body["source_version"],
        "version_count": contract["version_count"] + 1,
        "effective_date": body["effective_date"],
        "end_date": body.get("end_date", contract["end_date"]),
        "total_price": money_str(body["total_price"]),
        "billing_plan": plan,
    })
    _version(request, contract, body, body["effective_date"])
    if plan["eac"] is not None and plan["eac"] != previous_eac:
        record_estimate(request, contract, plan["eac"], body["effective_date"], body)
    request.emit("erp.contract.version_added", contract)
    return created(contract, f"/contracts/{contract['id']}")


@operations("terminateContract")
def terminate_contract(request: Request) -> Reply:
    """Terminate a contract, billing or writing off what is unbilled up to the date."""
    body = request.body
    contract = request.store.get("contracts", request.path["contract_id"])
    request.check_if_match(contract)
    if contract["status"] != "ACTIVE":
        raise invalid_transition("contract", contract["id"], contract["status"], "terminate")
    parse_date(body["effective_date"], "body/effective_date")
    rule = body["unbilled_rule"]
    cancelled = ("PLANNED",) if rule == "BILL" else ("PLANNED", "COMPLETED", "ACCEPTED")
    milestones = [{**milestone, "status": "CANCELLED"} if milestone["status"] in cancelled else milestone
                  for milestone in contract["billing_plan"]["milestones"]]
    contract = request.store.update("contracts", contract["id"], {
        "status": "TERMINATED",
        "billing_plan": {**contract["billing_plan"], "milestones": milestones},
        "termination": {"effective_date": body["effective_date"], "unbilled_rule": rule,
                        "reason": body.get("reason"), "terminated_at": isoformat(request.now)},
    })
    if rule == "WRITE_OFF":
        for transaction in request.store.where("billable_transactions", lambda t: t["contract_id"] == contract["id"]
                                               and t["status"] in ("UNBILLED", "HELD")):
            transactions.write_off(request, transaction, "Contract terminated; unbilled work written off")
    request.emit("erp.contract.terminated", contract)
    return ok(contract)
