"""Trace context across systems: the actor's traceparent on a CRM request reaches the calls the engine
makes to ERP and PSA while handling the event that request caused."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from scenarios.engine.ports import new_traceparent
from syncengine.adapters.tracing import parse_traceparent
from tests.unit.syncengine.flows.deal_world import FIXED_FEE_TERMS, Firm, running_firm


@pytest.fixture
def firm() -> Iterator[Firm]:
    yield from running_firm()


def trace_of(firm: Firm, system: str, event_type: str) -> tuple[str, str]:
    """Return (trace id, span id) of the one event of a type in a system's feed."""
    [event] = [event for event in firm.world.context(system).feed.all() if event["type"] == event_type]
    parsed = parse_traceparent(event.get("traceparent"))
    assert parsed is not None, f"{event_type} has no valid traceparent: {event.get('traceparent')!r}"
    return parsed.trace_id, parsed.parent_id


def test_deal_won_in_crm_carries_its_trace_id_to_the_psa_project_and_erp_contract_calls(firm: Firm) -> None:
    account = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    body = {"account_id": account, "name": "Northwind analytics", "stage": "PROPOSAL", "close_date": "2026-03-02",
            **FIXED_FEE_TERMS}
    opportunity = firm.call("crm", "POST", "/opportunities", body)["id"]
    for step in ("submit-sow", "approve-sow"):
        firm.call("crm", "POST", f"/opportunities/{opportunity}/{step}")
    won = new_traceparent(random.Random(11))
    closed = firm.world.ports["crm"].call("POST", f"/opportunities/{opportunity}/close-won", traceparent=won)
    assert closed.ok
    firm.settle()

    crm_trace = parse_traceparent(won)
    assert crm_trace is not None
    assert trace_of(firm, "crm", "crm.opportunity.closed_won") == (crm_trace.trace_id, crm_trace.parent_id)
    project_trace, project_span = trace_of(firm, "psa", "psa.project.created")
    contract_trace, contract_span = trace_of(firm, "erp", "erp.contract.created")
    assert project_trace == contract_trace == crm_trace.trace_id
    assert len({project_span, contract_span, crm_trace.parent_id}) == 3
    assert "traceparent" not in next(event for event in firm.world.context("crm").feed.all()
                                     if event["type"] == "crm.opportunity.sow_approved")
