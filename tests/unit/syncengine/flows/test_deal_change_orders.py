"""Change orders, end to end: approved amendments reach the ERP contract and the PSA budget, version-aware."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from syncengine.domain.deals import contract_version_key, milestone_key
from tests.unit.syncengine.flows.deal_world import FIXED_FEE_TERMS, TIME_AND_MATERIALS_TERMS, Firm, running_firm

SECOND_SITE = [{"name": "Second site live", "amount": "40000.00", "due_date": "2026-08-31",
                "requires_acceptance": True}]
REPORTING = [{"name": "Reporting pack", "amount": "20000.00", "due_date": "2026-09-15",
              "requires_acceptance": False}]


@pytest.fixture
def firm() -> Iterator[Firm]:
    yield from running_firm()


def won_fixed_fee_deal(firm: Firm) -> str:
    account = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    opportunity = firm.won_deal(account, FIXED_FEE_TERMS)
    firm.settle()
    return opportunity


def two_change_orders(firm: Firm, opportunity: str) -> None:
    firm.approve_amendment(opportunity, "40000.00", effective_date="2026-05-01", milestones=SECOND_SITE,
                           hours_change="240")
    firm.approve_amendment(opportunity, "20000.00", effective_date="2026-06-01", milestones=REPORTING,
                           hours_change="100")


def contract_versions(firm: Firm) -> list[int]:
    return [version["source_version"] for version in firm.records("erp", "contract_versions")]


def budget_versions(firm: Firm) -> list[int]:
    [project] = firm.records("psa", "projects")
    return [budget["contract_version"] for budget in project["budget_history"]]


def test_change_orders_in_order_reach_the_erp_contract_and_psa_budget_version_by_version(firm: Firm) -> None:
    opportunity = won_fixed_fee_deal(firm)
    two_change_orders(firm, opportunity)
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    [project] = firm.records("psa", "projects")
    assert contract_versions(firm) == [1, 2, 3]
    assert (contract["source_version"], contract["total_price"]) == (3, "300000.00")
    assert [milestone["id"] for milestone in contract["billing_plan"]["milestones"]] == ["M1", "M2", "M3", "M4", "M5"]
    assert budget_versions(firm) == [1, 2, 3]
    assert (project["contract_version"], project["budget_amount"], project["budget_hours"]) == \
        (3, "300000.00", "1940.00")
    assert [milestone["source_id"] for milestone in firm.records("psa", "milestones")] == \
        [f"{opportunity}-M{number}" for number in range(1, 6)]
    links = {(entry.kind, entry.system): entry.external_id
             for entry in firm.ledger.links(milestone_key(opportunity, 4))}
    assert links[("milestone", "erp")] == f"{contract['id']}/M5"
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []


def test_change_order_v3_delivered_before_v2_leaves_erp_and_psa_at_v3(firm: Firm) -> None:
    opportunity = won_fixed_fee_deal(firm)
    two_change_orders(firm, opportunity)
    changes = [event for event in firm.unread_events("crm")
               if event["type"] in ("crm.amendment.approved", "crm.opportunity.updated")]
    newest_first: list[dict[str, Any]] = sorted(changes, key=lambda event: -event["data"]["contract_version"])
    for event in newest_first:
        firm.engine.submit("crm", event)
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    [project] = firm.records("psa", "projects")
    assert contract_versions(firm) == [1, 3]  # v2 came late and was skipped
    assert (contract["source_version"], contract["total_price"]) == (3, "300000.00")
    assert budget_versions(firm) == [1, 3]
    assert (project["contract_version"], project["budget_amount"]) == (3, "300000.00")
    assert len(firm.records("psa", "milestones")) == 5
    assert firm.ledger.applied_version(contract_version_key(opportunity)) == 3
    flow = firm.engine.snapshot().flows["change_orders"]
    assert flow.processed == 4 and flow.dead_letters == 0


def test_duplicate_change_order_events_change_nothing(firm: Firm) -> None:
    opportunity = won_fixed_fee_deal(firm)
    firm.approve_amendment(opportunity, "40000.00", effective_date="2026-05-01", milestones=SECOND_SITE)
    approved = next(event for event in firm.unread_events("crm") if event["type"] == "crm.amendment.approved")
    firm.settle()

    firm.engine.submit("crm", {**approved, "id": "redelivered-1"})
    firm.engine.replay("crm", None)
    firm.settle()

    assert contract_versions(firm) == [1, 2]
    assert budget_versions(firm) == [1, 2]
    assert len(firm.records("psa", "milestones")) == 4


def test_change_order_on_a_deal_parked_on_bad_master_data_is_applied_when_the_deal_flows(firm: Firm) -> None:
    account = firm.account("Tailspin Toys Ltd", "GB", "GBP")  # no VAT number: the deal is parked
    opportunity = firm.won_deal(account, FIXED_FEE_TERMS)
    firm.settle()
    firm.approve_amendment(opportunity, "40000.00", effective_date="2026-05-01", milestones=SECOND_SITE)
    firm.settle()
    assert firm.records("erp", "contracts") == [] and firm.ledger.dead_letters() == []

    firm.call("crm", "PATCH", f"/accounts/{account}", {"tax_id": "GB987654321"})
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    assert contract_versions(firm) == [1, 2]
    assert (contract["source_version"], contract["total_price"]) == (2, "280000.00")
    assert budget_versions(firm) == [1, 2]
    assert len(firm.records("psa", "milestones")) == 4
    assert len(firm.exceptions()) == 1 and firm.ledger.dead_letters() == []
    assert firm.engine.snapshot().queue_depth == 0


def test_change_order_arriving_before_its_deal_waits_for_it(firm: Firm) -> None:
    account = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    opportunity = firm.won_deal(account, FIXED_FEE_TERMS)
    firm.approve_amendment(opportunity, "40000.00", effective_date="2026-05-01", milestones=SECOND_SITE)
    for event in firm.unread_events("crm"):  # the change order's events overtake the closed-won one
        if event["type"] in ("crm.amendment.approved", "crm.opportunity.updated"):
            firm.engine.submit("crm", event)
    firm.settle()  # the feed then brings the closed-won event

    assert firm.engine.snapshot().flows["change_orders"].retries >= 1  # it found no contract, and waited

    assert contract_versions(firm) == [1, 2]
    assert budget_versions(firm) == [1, 2]
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []


def contracts_by_source(firm: Firm) -> dict[str, dict[str, Any]]:
    return {contract["source_id"]: contract for contract in firm.records("erp", "contracts")}


def test_change_order_at_standalone_price_is_booked_as_a_separate_contract_and_the_original_left_untouched(
        firm: Firm) -> None:
    opportunity = won_fixed_fee_deal(firm)
    separate = firm.approve_amendment(opportunity, "40000.00", effective_date="2026-05-01", milestones=SECOND_SITE,
                                      hours_change="240", separate=True)
    firm.approve_amendment(opportunity, "20000.00", effective_date="2026-06-01", milestones=REPORTING,
                           hours_change="100")
    firm.settle()

    contracts = contracts_by_source(firm)
    own, added = contracts[opportunity], contracts[separate]
    assert (own["source_version"], own["total_price"]) == (3, "260000.00")  # the ordinary change, net of v2
    assert [m["id"] for m in own["billing_plan"]["milestones"]] == ["M1", "M2", "M3", "M5"]
    assert (added["crm_opportunity_id"], added["customer_id"], added["source_version"]) == \
        (opportunity, own["customer_id"], 2)
    assert (added["total_price"], added["revenue_policy"], added["start_date"]) == \
        ("40000.00", "POINT_IN_TIME", "2026-05-01")
    assert [m["id"] for m in added["billing_plan"]["milestones"]] == ["M4"]
    assert [v["source_version"] for v in firm.records("erp", "contract_versions")
            if v["contract_id"] == own["id"]] == [1, 3]
    [project] = firm.records("psa", "projects")
    assert (project["contract_version"], project["budget_amount"]) == (3, "300000.00")  # it delivers both
    assert len(firm.records("psa", "milestones")) == 5
    links = {(entry.kind, entry.system): entry.external_id
             for entry in firm.ledger.links(milestone_key(opportunity, 3))}
    assert links[("milestone", "erp")] == f"{added['id']}/M4"
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []
    assert firm.engine.snapshot().queue_depth == 0


def test_separate_change_order_redelivered_books_one_contract(firm: Firm) -> None:
    opportunity = won_fixed_fee_deal(firm)
    firm.approve_amendment(opportunity, "40000.00", effective_date="2026-05-01", milestones=SECOND_SITE,
                           separate=True)
    approved = next(event for event in firm.unread_events("crm") if event["type"] == "crm.amendment.approved")
    firm.settle()
    firm.engine.submit("crm", {**approved, "id": "redelivered-1"})
    firm.engine.replay("crm", None)
    firm.settle()

    contracts = contracts_by_source(firm)
    assert len(firm.records("erp", "contracts")) == len(contracts) == 2
    assert contracts[opportunity]["source_version"] == 1
    assert contract_versions(firm) == [1, 2]  # the deal's contract at 1; the separate one made by version 2
    assert budget_versions(firm) == [1, 2]
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []


def test_separate_retainer_renewal_starts_after_the_original_term_and_separate_tm_keeps_the_deal_contract(
        firm: Firm) -> None:
    account = firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789")
    retainer_terms = {key: value for key, value in TIME_AND_MATERIALS_TERMS.items() if key != "rate_card"}
    retainer = firm.won_deal(account, {**retainer_terms, "billing_model": "RETAINER", "amount": "60000.00",
                                       "monthly_fee": "10000.00"})  # 2026-03-09 .. 2026-08-28: six months
    tm = firm.won_deal(account, TIME_AND_MATERIALS_TERMS, name="Data platform")
    firm.settle()
    body = {"opportunity_id": retainer, "description": "Two more months", "amount_change": "20000.00",
            "distinct": True, "priced_at_standalone": True, "effective_date": "2026-06-01",
            "new_service_end": "2026-10-31"}
    renewal = str(firm.call("crm", "POST", "/amendments", body)["id"])
    for step in ("submit", "approve"):
        firm.call("crm", "POST", f"/amendments/{renewal}/{step}")
    extension = firm.approve_amendment(tm, "32000.00", effective_date="2026-06-01", hours_change="200",
                                       separate=True)
    firm.settle()

    contracts = contracts_by_source(firm)
    added = contracts[renewal]["billing_plan"]["retainer"]
    assert (contracts[renewal]["start_date"], added["start_date"], added["term_months"], added["monthly_fee"]) == \
        ("2026-09-01", "2026-09-01", 2, "10000.00")
    assert contracts[retainer]["billing_plan"]["retainer"]["term_months"] == 6
    assert contracts[retainer]["source_version"] == contracts[tm]["source_version"] == 1
    assert (contracts[extension]["billing_model"], contracts[extension]["total_price"]) == \
        ("TIME_AND_MATERIALS", "32000.00")
    assert firm.ledger.dead_letters() == [] and firm.exceptions() == []
