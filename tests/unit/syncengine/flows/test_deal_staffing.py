"""Staffing, end to end: HCM workers become PSA resources with their effective-dated cost rates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.syncengine.flows.deal_world import Firm, running_firm


@pytest.fixture
def firm() -> Iterator[Firm]:
    yield from running_firm()


def hire(firm: Firm, hourly_cost: str = "62.50") -> str:
    worker = firm.call("hcm", "POST", "/workers", {
        "worker_type": "EMPLOYEE", "first_name": "Amara", "last_name": "Osei", "email": "amara.osei@firm.example",
        "role": "CONSULTANT", "legal_entity": "UK01", "practice": "OPERATIONS", "hire_date": "2026-01-05"})
    add_rate(firm, worker["id"], "2026-01-05", hourly_cost, "HIRE")
    return str(worker["id"])


def add_rate(firm: Firm, worker_id: str, effective_from: str, hourly_cost: str, reason: str) -> None:
    firm.call("hcm", "POST", f"/workers/{worker_id}/cost-rates",
              {"effective_from": effective_from, "reason": reason, "hourly_cost": hourly_cost, "currency": "GBP"})


def cost_rates(firm: Firm, worker_id: str) -> list[tuple[str, str]]:
    resource = firm.record("psa", "resources", worker_id)
    return [(rate["effective_from"], rate["hourly_cost"]) for rate in resource["cost_rates"]]


def test_hired_worker_becomes_a_resource_with_its_cost_rate(firm: Firm) -> None:
    worker = hire(firm)
    firm.settle()

    resource = firm.record("psa", "resources", worker)
    assert (resource["name"], resource["role"], resource["legal_entity"], resource["practice"], resource["active"],
            resource["source_system"], resource["source_id"]) == \
        ("Amara Osei", "CONSULTANT", "UK01", "OPERATIONS", True, "hcm", worker)
    assert cost_rates(firm, worker) == [("2026-01-05", "62.50")]


def test_retroactive_cost_rate_corrections_replace_the_resource_history(firm: Firm) -> None:
    worker = hire(firm)
    add_rate(firm, worker, "2026-06-01", "66.00", "ANNUAL_RAISE")
    firm.settle()
    assert cost_rates(firm, worker) == [("2026-01-05", "62.50"), ("2026-06-01", "66.00")]

    add_rate(firm, worker, "2026-01-05", "64.00", "CORRECTION")  # the hire rate was wrong all along
    add_rate(firm, worker, "2026-04-01", "65.00", "PROMOTION")  # backdated before the raise
    firm.settle()

    assert cost_rates(firm, worker) == [("2026-01-05", "64.00"), ("2026-04-01", "65.00"), ("2026-06-01", "66.00")]
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []


def test_terminated_worker_becomes_an_inactive_resource(firm: Firm) -> None:
    worker = hire(firm)
    firm.settle()
    firm.call("hcm", "POST", f"/workers/{worker}/terminate", {"termination_date": "2026-06-30",
                                                              "reason": "RESIGNATION"})
    firm.settle()

    assert firm.record("psa", "resources", worker)["active"] is False


def test_worker_events_out_of_order_never_regress_the_resource(firm: Firm) -> None:
    worker = hire(firm)
    firm.call("hcm", "POST", f"/workers/{worker}/change-role", {"role": "SENIOR_CONSULTANT",
                                                                "effective_date": "2026-03-01"})
    events: list[dict[str, Any]] = firm.unread_events("hcm")
    for event in reversed(events):  # the promotion first, the hire last
        firm.engine.submit("hcm", event)
    firm.settle()

    assert firm.record("psa", "resources", worker)["role"] == "SENIOR_CONSULTANT"
    assert cost_rates(firm, worker) == [("2026-01-05", "62.50")]
