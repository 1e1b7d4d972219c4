"""Billing to revenue and cash: invoices, credit memos, payments and credit holds back to CRM and PSA."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from harness.runner.world import World
from simulators.common.app import context_of
from syncengine.flows import change_orders
from tests.unit.syncengine.flows.test_money_world import (
    WITH_DEAL_FLOW,
    Deal,
    assert_conformant,
    billing_run,
    call,
    correct_time,
    engine_of,
    log_time,
    money_world,
    open_deal,
    settle,
    staff,
)


@pytest.fixture
def deal(world: World) -> Deal:
    deal = open_deal(world)
    staff(world, deal)
    return deal


def crm_status(world: World, deal: Deal) -> dict[str, Any]:
    status = call(world, "crm", "GET", f"/opportunities/{deal.opportunity_id}")["billing_status"]
    return {name: status[name] for name in ("invoiced_amount", "credited_amount", "paid_amount", "currency")}


def psa_status(world: World, deal: Deal) -> dict[str, Any]:
    status = call(world, "psa", "GET", f"/projects/{deal.project_id}")["billing_status"]
    return {name: status[name] for name in ("invoiced", "credited", "paid", "currency", "credit_hold")}


def account(world: World, deal: Deal) -> dict[str, Any]:
    return dict(call(world, "crm", "GET", f"/accounts/{deal.account_id}"))


def invoice_and_settle(world: World, deal: Deal) -> dict[str, Any]:
    log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    run = billing_run(world, deal, "2026-03-31")
    settle(world)
    return run


def test_a_posted_invoice_shows_as_invoiced_on_the_deal_and_as_receivable_on_the_account(world: World,
                                                                                         deal: Deal) -> None:
    invoice_and_settle(world, deal)

    assert crm_status(world, deal) == {"invoiced_amount": "1200.00", "credited_amount": "0.00",
                                       "paid_amount": "0.00", "currency": "USD"}
    assert psa_status(world, deal) == {"invoiced": "1200.00", "credited": "0.00", "paid": "0.00", "currency": "USD",
                                       "credit_hold": False}
    ar_status = account(world, deal)["ar_status"]
    assert (ar_status["balance"], ar_status["overdue_amount"], ar_status["currency"]) == ("1200.00", "0.00", "USD")


def test_a_payment_updates_the_billing_status_on_crm_and_psa(world: World, deal: Deal) -> None:
    run = invoice_and_settle(world, deal)
    call(world, "erp", "POST", "/payments", {"customer_id": deal.customer_id, "amount": "1200.00",
                                             "currency": "USD", "received_on": "2026-04-20",
                                             "allocations": [{"invoice_id": run["invoice_ids"][0],
                                                              "amount": "1200.00"}]})
    settle(world)

    assert crm_status(world, deal)["paid_amount"] == "1200.00"
    assert psa_status(world, deal)["paid"] == "1200.00"
    assert account(world, deal)["ar_status"]["balance"] == "0.00"


def test_a_credit_memo_shows_as_credited(world: World, deal: Deal) -> None:
    invoice_and_settle(world, deal)
    entry_id = next(iter(call(world, "psa", "GET", "/time-entries")["items"]))["id"]
    correct_time(world, entry_id, "6.00")
    settle(world)
    billing_run(world, deal, "2026-04-30")
    settle(world)

    assert crm_status(world, deal) == {"invoiced_amount": "2100.00", "credited_amount": "1200.00",
                                       "paid_amount": "0.00", "currency": "USD"}
    assert account(world, deal)["ar_status"]["balance"] == "900.00"


def test_a_credit_hold_reaches_the_crm_account_and_the_psa_project_and_its_release_too(world: World,
                                                                                       deal: Deal) -> None:
    run = invoice_and_settle(world, deal)
    review = call(world, "erp", "POST", "/receivables/credit-review", {"as_of": "2026-07-15"})
    assert [change["credit_hold"] for change in review["changes"]] == [True]
    settle(world)
    assert account(world, deal)["credit_hold"] is True
    assert psa_status(world, deal)["credit_hold"] is True

    call(world, "erp", "POST", "/payments", {"customer_id": deal.customer_id, "amount": "1200.00",
                                             "currency": "USD", "received_on": "2026-07-16",
                                             "allocations": [{"invoice_id": run["invoice_ids"][0],
                                                              "amount": "1200.00"}]})
    settle(world)

    assert account(world, deal)["credit_hold"] is False
    assert psa_status(world, deal) == {"invoiced": "1200.00", "credited": "0.00", "paid": "1200.00",
                                       "currency": "USD", "credit_hold": False}


def test_an_older_invoice_event_arriving_late_writes_nothing(world: World, deal: Deal) -> None:
    invoice_and_settle(world, deal)
    posted = next(event for event in world.context("erp").feed.all() if event["type"] == "erp.invoice.posted")
    before = call(world, "crm", "GET", f"/opportunities/{deal.opportunity_id}")["version"]
    writes = world.context("crm").calls[("setOpportunityBillingStatus", 200)]

    engine_of(world).submit("erp", {**posted, "id": "erp-late-copy"})
    settle(world)

    assert world.context("crm").calls[("setOpportunityBillingStatus", 200)] == writes
    assert call(world, "crm", "GET", f"/opportunities/{deal.opportunity_id}")["version"] == before


def test_a_credit_hold_reaches_every_crm_account_billed_as_the_customer(world: World) -> None:
    parent = open_deal(world, name="Fabrikam Inc", account={"tax_id": "12-3456789"})
    child = open_deal(world, name="Fabrikam Services", account={"parent_account_id": parent.account_id})
    assert child.customer_id == parent.customer_id  # one ERP customer for the account hierarchy
    staff(world, parent)
    invoice_and_settle(world, parent)

    call(world, "erp", "POST", "/receivables/credit-review", {"as_of": "2026-07-15"})
    settle(world)

    assert [account(world, deal)["credit_hold"] for deal in (parent, child)] == [True, True]
    assert [psa_status(world, deal)["credit_hold"] for deal in (parent, child)] == [True, True]


def test_an_account_linked_to_a_customer_that_already_owes_shows_its_receivables_and_hold(world: World) -> None:
    parent = open_deal(world, name="Contoso Ltd", account={"tax_id": "98-7654321"})
    staff(world, parent)
    invoice_and_settle(world, parent)
    call(world, "erp", "POST", "/receivables/credit-review", {"as_of": "2026-07-15"})
    settle(world)

    # A division wins its first deal after the last invoice: no billing event follows its link.
    child = open_deal(world, name="Contoso Retail", account={"parent_account_id": parent.account_id})

    assert child.customer_id == parent.customer_id
    shown = account(world, child)
    assert (shown["erp_customer_number"], shown["ar_status"]["balance"], shown["ar_status"]["currency"],
            shown["credit_hold"]) == (parent.customer_id, "1200.00", "USD", True)


def test_a_new_project_of_a_customer_already_on_credit_hold_shows_the_hold(world: World) -> None:
    first = open_deal(world, name="Northwind Ltd", account={"tax_id": "55-1234567"})
    staff(world, first)
    invoice_and_settle(world, first)
    call(world, "erp", "POST", "/receivables/credit-review", {"as_of": "2026-07-15"})
    settle(world)

    # The customer wins another deal while on hold: no hold event follows the new project.
    second = open_deal(world, name="Northwind Ltd", account={"tax_id": "55-1234567"})

    assert second.customer_id == first.customer_id and second.project_id != first.project_id
    status = call(world, "psa", "GET", f"/projects/{second.project_id}")["billing_status"]
    assert status is not None and status["credit_hold"] is True


def test_a_separate_contract_booked_from_a_change_order_counts_in_its_deals_billing_status() -> None:
    world = money_world((*WITH_DEAL_FLOW, change_orders.FLOW))
    deal = open_deal(world, billing_model="RETAINER", amount="100000.00")  # March to December, 10,000 a month
    renewal = call(world, "crm", "POST", "/amendments", {
        "opportunity_id": deal.opportunity_id, "description": "Two more months", "amount_change": "20000.00",
        "distinct": True, "priced_at_standalone": True, "effective_date": "2026-06-01",
        "new_service_end": "2027-02-28"})
    for step in ("submit", "approve"):
        call(world, "crm", "POST", f"/amendments/{renewal['id']}/{step}")
    settle(world)
    billing_run(world, deal, "2027-01-31")
    settle(world)

    invoices = call(world, "erp", "GET", "/invoices", params={"customer_id": deal.customer_id})["items"]
    assert len({invoice["contract_id"] for invoice in invoices}) == 2  # the deal's own contract and the renewal
    total = f"{sum(Decimal(invoice['total']) for invoice in invoices):.2f}"
    assert crm_status(world, deal)["invoiced_amount"] == psa_status(world, deal)["invoiced"] == total
    assert account(world, deal)["ar_status"]["balance"] == total
    assert_conformant(world)


def _another_deal(world: World, first: Deal, entity: str) -> Deal:
    """Win a second deal on the first deal's account, delivered by another legal entity, and activate it."""
    currency = {"US01": "USD", "UK01": "GBP", "DE01": "EUR"}[entity]
    opportunity = call(world, "crm", "POST", "/opportunities", {
        "account_id": first.account_id, "name": f"{first.name} rollout", "stage": "PROPOSAL",
        "amount": "50000.00", "currency": currency, "close_date": "2026-03-02", "billing_model": "TIME_AND_MATERIALS",
        "legal_entity": entity, "practice": "TECHNOLOGY", "service_start": "2026-03-02", "service_end": "2026-12-31",
        "estimated_hours": "300", "rate_card": [{"role": "CONSULTANT", "hourly_rate": "150.00"}]})
    for action in ("submit-sow", "approve-sow", "close-won"):
        call(world, "crm", "POST", f"/opportunities/{opportunity['id']}/{action}", {})
    settle(world)
    assert world.engine is not None
    ledger = world.engine.ports.ledger
    key = f"deal:{opportunity['id']}"
    contract_id, project_id = ledger.external_id("contract", "erp", key), ledger.external_id("project", "psa", key)
    assert contract_id is not None and project_id is not None
    call(world, "psa", "POST", f"/projects/{project_id}/activate", {"effective_date": "2026-03-02"})
    contract = call(world, "erp", "GET", f"/contracts/{contract_id}")
    return Deal(str(opportunity["id"]), first.account_id, contract["customer_id"], contract_id, project_id, entity,
                currency, "TIME_AND_MATERIALS", first.name)


def test_an_account_billed_by_two_entities_shows_the_ar_of_the_erp_customer_it_is_linked_to(world: World) -> None:
    # invoice-reversals seed 202: a division of a German company billed by DE01 and by US01 showed the US01
    # customer's USD balance while linked to the DE01 customer (the ledger had linked it to the US01 one).
    parent = call(world, "crm", "POST", "/accounts", {"name": "Contoso Ltd", "country": "GB", "currency": "GBP",
                                                      "tax_id": "GB123456789"})
    home = open_deal(world, name="Contoso Retail", entity="UK01", account={"parent_account_id": parent["id"]})
    abroad = _another_deal(world, home, "US01")
    assert home.customer_id != abroad.customer_id  # the company's customer in each entity
    for deal, worker in ((home, "WRK-000001"), (abroad, "WRK-000002")):
        staff(world, deal, worker=worker)
    invoice_and_settle(world, home)
    log_time(world, abroad, date(2026, 3, 4), "5.00")
    settle(world)
    billing_run(world, abroad, "2026-03-31")
    settle(world)

    shown = account(world, home)
    home_invoices = call(world, "erp", "GET", "/invoices", params={"customer_id": home.customer_id})["items"]
    owed = f"{sum(Decimal(invoice['total']) for invoice in home_invoices):.2f}"
    assert (shown["erp_customer_number"], shown["ar_status"]["balance"], shown["ar_status"]["currency"]) == \
        (home.customer_id, owed, "GBP")
    assert_conformant(world)


def test_a_billing_runs_invoices_of_one_customer_are_refreshed_at_once(world: World) -> None:
    parent = open_deal(world, name="Fabrikam Inc", account={"tax_id": "12-3456789"})
    child = open_deal(world, name="Fabrikam Services", account={"parent_account_id": parent.account_id})
    assert child.customer_id == parent.customer_id
    for deal in (parent, child):
        staff(world, deal)
        log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    erp_calls = context_of(world.apps["erp"]).calls
    reads_before = erp_calls[("getCustomer", 200)]
    run = billing_run(world, parent, "2026-03-31")
    settle(world)

    assert len(run["invoice_ids"]) == 2
    assert erp_calls[("getCustomer", 200)] - reads_before == 1  # one refresh for the run's two invoice events
    assert [crm_status(world, deal)["invoiced_amount"] for deal in (parent, child)] == ["1200.00", "1200.00"]
    assert [psa_status(world, deal)["invoiced"] for deal in (parent, child)] == ["1200.00", "1200.00"]
    assert account(world, parent)["ar_status"]["balance"] == "2400.00"
