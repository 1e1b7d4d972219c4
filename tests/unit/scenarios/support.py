"""Helpers of the firm tests: a tiny scenario, a stand-in for the engine, and the real flows.

The stand-in is test code only: through the public APIs it does the two things the firm cannot go
on without (a PSA resource with cost rates for each HCM worker, a PSA project with milestones for
each closed-won deal), so the actors can be tested before or without the real engine.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy

from harness.runner.world import World
from scenarios.engine.ports import SystemPort
from syncengine.runtime.registry import Flow

TINY = """\
name: tiny
description: A six-week firm of about thirty people.
extends: baseline
seed: {seed}
period: {{start: 2026-01-05, end: 2026-02-15}}
firm:
  legal_entities:
    US01: {{headcount: {{ANALYST: 2, CONSULTANT: 3, SENIOR_CONSULTANT: 2, MANAGER: 2, SENIOR_MANAGER: 1, PARTNER: 1}}}}
    UK01: {{headcount: {{ANALYST: 2, CONSULTANT: 2, SENIOR_CONSULTANT: 2, MANAGER: 1, SENIOR_MANAGER: 1, PARTNER: 1}}}}
    DE01: {{headcount: {{ANALYST: 1, CONSULTANT: 2, SENIOR_CONSULTANT: 1, MANAGER: 1, SENIOR_MANAGER: 0, PARTNER: 1}}}}
sales:
  opportunities_per_week: 2
  stage_days: {{Prospecting: 3, Qualification: 4, Proposal: 5, Negotiation: 4}}
  deal_size:  # mid-size deals only (the lognormal median kept, tails cut): a firm this small cannot staff big ones
    TIME_AND_MATERIALS: {{min: 60000, max: 450000}}
    FIXED_FEE: {{min: 50000, max: 400000}}
    RETAINER: {{min: 36000, max: 240000}}
    CAPPED_TM: {{min: 60000, max: 300000}}
delivery: {{return_rate: 0.1, reopen_rate: 0.05, project_months: {{min: 1, mode: 1.5, max: 3}}}}
workforce: {{retro_corrections: 2}}
change_orders: {{rate: 0.3}}
"""


def write_tiny(directory: Path, seed: int = 7, extra: str = "") -> Path:
    """Write the tiny scenario (with optional extra YAML lines) and return its path."""
    path = directory / f"tiny-{seed}.yaml"
    path.write_text(TINY.format(seed=seed) + extra, encoding="utf-8")
    return path


def real_flows() -> list[Flow]:
    """Return the FLOW of every module under syncengine/flows, in module order."""
    import syncengine.flows as package

    flows = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda module: module.name):
        module = importlib.import_module(f"syncengine.flows.{info.name}")
        flow = getattr(module, "FLOW", None)
        if isinstance(flow, Flow):
            flows.append(flow)
    return flows


def _events(port: SystemPort, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    params: dict[str, Any] = {"limit": 1000}
    if cursor:
        params["after"] = cursor
    result = port.call("GET", "/events", params=params)
    assert result.ok, result.body
    return result.body["items"], result.body["next_cursor"]


def _resource(port: SystemPort, hcm: SystemPort, worker: dict[str, Any]) -> None:
    body = {"name": f"{worker['first_name']} {worker['last_name']}", "role": worker["role"],
            "legal_entity": worker["legal_entity"], "practice": worker["practice"],
            "worker_type": worker["worker_type"], "active": worker["status"] == "ACTIVE",
            "source_version": worker["version"]}
    assert port.call("PUT", f"/resources/{worker['id']}", body=body).ok
    rates = hcm.call("GET", f"/workers/{worker['id']}/cost-rates", params={"include_superseded": "false"})
    rows = [{"effective_from": r["effective_from"], "hourly_cost": r["hourly_cost"], "currency": r["currency"],
             "source_version": r["version"]} for r in rates.body["items"] if r["status"] == "ACTIVE"]
    if rows:
        assert port.call("PUT", f"/resources/{worker['id']}/cost-rates", body={"cost_rates": rows}).ok


def _project(psa: SystemPort, opportunity: dict[str, Any]) -> None:
    body: dict[str, Any] = {
        "name": opportunity["name"][:200], "practice": opportunity["practice"], "customer_name": "Customer",
        "billing_model": opportunity["billing_model"], "currency": opportunity["currency"],
        "legal_entity": opportunity["legal_entity"], "start_date": opportunity["service_start"],
        "end_date": opportunity["service_end"], "crm_opportunity_id": opportunity["id"], "contract_version": 1,
        "budget_hours": opportunity["estimated_hours"], "budget_amount": opportunity["amount"]}
    if opportunity["rate_card"]:
        body["rates"] = [{"role": line["role"], "bill_rate": line["hourly_rate"],
                          "effective_from": opportunity["service_start"]} for line in opportunity["rate_card"]]
    created = psa.call("POST", "/projects", body=body, idempotency_key=f"stand-in-{opportunity['id']}")
    if not created.ok:
        return
    for index, milestone in enumerate(opportunity["billing_milestones"]):
        psa.call("POST", f"/projects/{created.body['id']}/milestones", idempotency_key=f"m-{opportunity['id']}-{index}",
                 body={**milestone, "currency": opportunity["currency"], "source_system": "crm",
                       "source_id": f"{opportunity['id']}-M{index + 1}", "source_version": 1})


def stand_in_engine(world: World, interval_s: float = 1800.0) -> Generator[simpy.Event, Any, None]:
    """Create PSA resources for HCM workers and PSA projects for closed-won deals, through the APIs."""
    cursors: dict[str, str | None] = {"hcm": None, "crm": None}
    ports = world.ports
    while True:
        hcm_events, cursors["hcm"] = _events(ports["hcm"], cursors["hcm"])
        for event in hcm_events:
            if event["type"].startswith(("hcm.worker.", "hcm.cost_rate.")):
                worker_id = event["data"].get("worker_id") or event["data"]["id"]
                worker = ports["hcm"].call("GET", f"/workers/{worker_id}").body
                _resource(ports["psa"], ports["hcm"], worker)
        crm_events, cursors["crm"] = _events(ports["crm"], cursors["crm"])
        for event in crm_events:
            if event["type"] == "crm.opportunity.closed_won":
                _project(ports["psa"], event["data"])
        yield world.env.timeout(interval_s)
