"""Cancellations, end to end: a cancelled deal terminates its ERP contract and cancels its PSA project."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.syncengine.flows.deal_world import FIXED_FEE_TERMS, TIME_AND_MATERIALS_TERMS, Firm, running_firm


@pytest.fixture
def firm() -> Iterator[Firm]:
    yield from running_firm()


def test_cancelled_deal_terminates_the_contract_with_its_unbilled_rule_and_cancels_the_project(firm: Firm) -> None:
    opportunity = firm.won_deal(firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789"),
                                TIME_AND_MATERIALS_TERMS)
    firm.settle()
    firm.call("crm", "POST", f"/opportunities/{opportunity}/cancel",
              {"effective_date": "2026-05-31", "unbilled_rule": "WRITE_OFF", "reason": "Budget freeze"})
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    [project] = firm.records("psa", "projects")
    assert contract["status"] == "TERMINATED"
    assert (contract["termination"]["effective_date"], contract["termination"]["unbilled_rule"],
            contract["termination"]["reason"]) == ("2026-05-31", "WRITE_OFF", "Budget freeze")
    assert (project["status"], project["cancelled_on"], project["cancellation_reason"]) == \
        ("CANCELLED", "2026-05-31", "Budget freeze")
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []


def test_cancelling_a_fixed_fee_deal_that_bills_its_unbilled_work_cancels_only_planned_milestones(
        firm: Firm) -> None:
    opportunity = firm.won_deal(firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869"),
                                FIXED_FEE_TERMS)
    firm.settle()
    [project] = firm.records("psa", "projects")
    firm.call("psa", "POST", f"/projects/{project['id']}/activate", {"effective_date": "2026-06-15"})
    firm.call("crm", "POST", f"/opportunities/{opportunity}/cancel",
              {"effective_date": "2026-06-01", "unbilled_rule": "BILL"})
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    project = firm.record("psa", "projects", project["id"])
    assert (contract["status"], contract["termination"]["unbilled_rule"]) == ("TERMINATED", "BILL")
    assert {milestone["status"] for milestone in contract["billing_plan"]["milestones"]} == {"CANCELLED"}
    # The PSA cannot cancel before the project started: the cancellation takes effect on activation.
    assert (project["status"], project["cancelled_on"]) == ("CANCELLED", "2026-06-15")


def test_repeated_cancellation_events_change_nothing(firm: Firm) -> None:
    opportunity = firm.won_deal(firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789"),
                                TIME_AND_MATERIALS_TERMS)
    firm.settle()
    firm.call("crm", "POST", f"/opportunities/{opportunity}/cancel",
              {"effective_date": "2026-05-31", "unbilled_rule": "BILL"})
    cancelled = next(event for event in firm.unread_events("crm") if event["type"] == "crm.opportunity.cancelled")
    firm.settle()
    terminated_at = firm.records("erp", "contracts")[0]["termination"]["terminated_at"]

    firm.world.run_until(3600)
    firm.engine.submit("crm", {**cancelled, "id": "redelivered-1"})
    firm.engine.replay("crm", None)
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    assert contract["termination"]["terminated_at"] == terminated_at
    assert firm.records("psa", "projects")[0]["status"] == "CANCELLED"
    assert firm.ledger.dead_letters() == []


def test_cancelling_a_deal_terminates_the_separate_contract_of_its_change_order_too(firm: Firm) -> None:
    opportunity = firm.won_deal(firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789"),
                                TIME_AND_MATERIALS_TERMS)
    firm.settle()
    firm.approve_amendment(opportunity, "32000.00", effective_date="2026-05-04", hours_change="200", separate=True)
    firm.settle()
    firm.call("crm", "POST", f"/opportunities/{opportunity}/cancel",
              {"effective_date": "2026-05-31", "unbilled_rule": "BILL", "reason": "Budget freeze"})
    firm.settle()

    contracts = firm.records("erp", "contracts")
    assert len(contracts) == 2
    assert [(c["status"], c["termination"]["effective_date"], c["termination"]["unbilled_rule"]) for c in contracts] \
        == [("TERMINATED", "2026-05-31", "BILL")] * 2
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []
