"""Opportunity to project, end to end: a closed-won deal becomes one ERP customer and contract and one
PSA project, whatever the faults, duplicates and bad master data on the way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncengine.domain.deals import deal_key, milestone_key
from syncengine.flows import deal_customers
from syncengine.ledger.records import ExceptionStatus
from syncengine.mapping.tables import default_tables
from tests.unit.syncengine.flows.deal_world import FIXED_FEE_TERMS, TIME_AND_MATERIALS_TERMS, Firm, running_firm


@pytest.fixture
def firm() -> Iterator[Firm]:
    yield from running_firm()


def test_closed_won_deal_yields_one_customer_contract_and_project_with_dimensions_and_write_backs(
        firm: Firm) -> None:
    account = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    opportunity = firm.won_deal(account, FIXED_FEE_TERMS, name="Northwind analytics")
    firm.settle()

    [customer] = firm.records("erp", "customers")
    [contract] = firm.records("erp", "contracts")
    [project] = firm.records("psa", "projects")
    assert (customer["name"], customer["tax_registration"], customer["crm_account_id"]) == \
        ("Northwind Logistics GmbH", "DE811569869", account)
    assert (contract["customer_id"], contract["legal_entity"], contract["currency"], contract["billing_model"],
            contract["revenue_policy"], contract["crm_opportunity_id"], contract["source_version"],
            contract["total_price"]) == \
        (customer["id"], "DE01", "EUR", "FIXED_FEE", "COST_TO_COST", opportunity, 1, "240000.00")
    assert [(m["id"], m["amount"]) for m in contract["billing_plan"]["milestones"]] == \
        [("M1", "60000.00"), ("M2", "120000.00"), ("M3", "60000.00")]
    assert contract["billing_plan"]["eac"] == "136000.00"  # 1,600 planned hours at the EUR planning cost
    assert (project["practice"], project["erp_contract_id"], project["erp_customer_number"], project["cost_center"],
            project["service_line"], project["crm_opportunity_id"]) == \
        ("DATA_AI", contract["id"], customer["id"], "CC-3000", "SL-DAI", opportunity)
    assert (project["contract_version"], project["budget_hours"], project["budget_amount"]) == \
        (1, "1600.00", "240000.00")
    milestones = firm.records("psa", "milestones")
    assert [(m["project_id"], m["amount"], m["source_id"]) for m in milestones] == [
        (project["id"], "60000.00", f"{opportunity}-M1"), (project["id"], "120000.00", f"{opportunity}-M2"),
        (project["id"], "60000.00", f"{opportunity}-M3")]
    assert firm.record("crm", "accounts", account)["erp_customer_number"] == customer["id"]
    deal = firm.record("crm", "opportunities", opportunity)
    assert (deal["erp_contract_id"], deal["psa_project_id"]) == (contract["id"], project["id"])
    links = {(entry.kind, entry.system): entry.external_id
             for entry in firm.ledger.links(milestone_key(opportunity, 1))}
    assert links == {("milestone", "psa"): milestones[1]["id"], ("milestone", "erp"): f"{contract['id']}/M2"}
    assert firm.ledger.external_id("project", "psa", deal_key(opportunity)) == project["id"]
    assert firm.exceptions() == [] and firm.ledger.dead_letters() == []


def test_time_and_materials_deal_gets_its_own_rate_card_and_a_right_to_invoice_contract(firm: Firm) -> None:
    account = firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789")
    firm.won_deal(account, TIME_AND_MATERIALS_TERMS)
    firm.settle()

    [contract] = firm.records("erp", "contracts")
    [project] = firm.records("psa", "projects")
    card = firm.record("psa", "rate_cards", project["rate_card_id"])
    assert (contract["revenue_policy"], contract["billing_plan"]["milestones"]) == ("RIGHT_TO_INVOICE", [])
    assert card["project_id"] == project["id"]
    assert [(rate["role"], rate["bill_rate"], rate["effective_from"]) for rate in card["rates"]] == \
        [("CONSULTANT", "160.00", "2026-03-02"), ("MANAGER", "235.00", "2026-03-02")]
    assert firm.records("psa", "milestones") == []


@pytest.mark.parametrize(("first", "second"), [
    (("Contoso Ltd", "GB123456789"), ("Contoso Limited (Leeds)", "GB 123-456.789")),
    (("Fabrikam, Inc.", None), ("FABRIKAM INC", None)),
], ids=["same tax id", "same normalised name"])
def test_two_crm_accounts_of_one_company_become_one_erp_customer(
        firm: Firm, first: tuple[str, str | None], second: tuple[str, str | None]) -> None:
    parent = firm.account(first[0], "GB", "GBP", tax_id=first[1])
    child = firm.account(second[0], "GB", "GBP", tax_id=second[1], parent=parent)
    firm.won_deal(parent, TIME_AND_MATERIALS_TERMS)
    firm.won_deal(child, TIME_AND_MATERIALS_TERMS)
    firm.settle()

    [customer] = firm.records("erp", "customers")
    assert [contract["customer_id"] for contract in firm.records("erp", "contracts")] == [customer["id"]] * 2
    assert {firm.record("crm", "accounts", account)["erp_customer_number"] for account in (parent, child)} == \
        {customer["id"]}


def test_a_company_buying_from_two_legal_entities_is_one_erp_customer_in_each(firm: Firm) -> None:
    account = firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789")
    firm.won_deal(account, TIME_AND_MATERIALS_TERMS)
    firm.won_deal(account, FIXED_FEE_TERMS)  # delivered from Germany
    firm.won_deal(account, TIME_AND_MATERIALS_TERMS)
    firm.settle()

    customers = firm.records("erp", "customers")
    assert sorted((customer["legal_entity"], customer["tax_registration"]) for customer in customers) == \
        [("DE01", "GB123456789"), ("UK01", "GB123456789")]
    by_entity = {customer["legal_entity"]: customer["id"] for customer in customers}
    assert [(contract["legal_entity"], contract["customer_id"]) for contract in firm.records("erp", "contracts")] == \
        [("UK01", by_entity["UK01"]), ("DE01", by_entity["DE01"]), ("UK01", by_entity["UK01"])]
    assert firm.record("crm", "accounts", account)["erp_customer_number"] == by_entity["UK01"]


def test_subsidiary_without_tax_id_is_billed_as_its_parent_company(firm: Firm) -> None:
    parent = firm.account("Litware GmbH", "DE", "EUR", tax_id="DE999999999")
    subsidiary = firm.account("Litware Analytics", "DE", "EUR", parent=parent)
    firm.won_deal(subsidiary, FIXED_FEE_TERMS)
    firm.won_deal(parent, FIXED_FEE_TERMS)
    firm.settle()

    [customer] = firm.records("erp", "customers")
    assert (customer["name"], customer["tax_registration"]) == ("Litware GmbH", "DE999999999")
    assert len(firm.records("erp", "contracts")) == 2


def test_two_deals_of_one_company_handled_at_once_make_one_erp_customer(
        firm: Firm, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two workers each handle one deal: both look for the company's customer before either has made it.
    monkeypatch.setattr(deal_customers, "find_customer", lambda *_args: None)
    external_id = firm.ledger.external_id
    monkeypatch.setattr(firm.ledger, "external_id",
                        lambda kind, system, key: None if kind == "customer" else external_id(kind, system, key))
    parent = firm.account("Litware GmbH", "DE", "EUR", tax_id="DE999999999")
    subsidiary = firm.account("Litware Analytics", "DE", "EUR", parent=parent)
    firm.won_deal(subsidiary, FIXED_FEE_TERMS)
    firm.won_deal(parent, FIXED_FEE_TERMS)
    firm.settle()

    [customer] = firm.records("erp", "customers")
    assert {contract["customer_id"] for contract in firm.records("erp", "contracts")} == {customer["id"]}
    assert firm.exceptions() == [] and firm.ledger.dead_letters() == []


def test_duplicate_and_replayed_events_change_nothing(firm: Firm) -> None:
    account = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    firm.won_deal(account, FIXED_FEE_TERMS)
    closed_won = next(event for event in firm.unread_events("crm") if event["type"] == "crm.opportunity.closed_won")
    firm.settle()
    before = {name: firm.records(system, name) for system, name in
              (("erp", "customers"), ("erp", "contracts"), ("psa", "projects"), ("psa", "milestones"))}

    assert firm.engine.submit("crm", closed_won) == 0  # the same event again: dropped at intake
    firm.engine.submit("crm", {**closed_won, "id": "redelivered-1"})  # the same change under another event id
    firm.engine.replay("crm", None)  # the whole feed again
    firm.settle()

    after = {name: firm.records(system, name) for system, name in
             (("erp", "customers"), ("erp", "contracts"), ("psa", "projects"), ("psa", "milestones"))}
    assert after == before
    assert firm.engine.snapshot().flows["opportunity_to_project"].duplicates >= 2


@pytest.mark.parametrize(("system", "operation", "collection"), [
    ("erp", "createCustomer", "customers"),
    ("erp", "createContract", "contracts"),
    ("psa", "createProject", "projects"),
])
def test_lost_response_on_a_create_still_makes_exactly_one_record(
        firm: Firm, system: str, operation: str, collection: str) -> None:
    firm.fault(system, "lost_response", duration_s=20, operations=[operation], probability=1.0)
    account = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    firm.won_deal(account, FIXED_FEE_TERMS)
    firm.settle()

    assert len(firm.records(system, collection)) == 1
    assert len(firm.records("erp", "contracts")) == len(firm.records("psa", "projects")) == 1
    assert firm.world.context(system).faults.injected.get("lost_response", 0) >= 1
    assert firm.engine.snapshot().flows["opportunity_to_project"].retries >= 1
    assert firm.ledger.dead_letters() == []


@pytest.mark.parametrize("operations", [["createContract"], None], ids=["before the contract", "everything"])
def test_erp_outage_mid_flow_recovers_with_nothing_lost(firm: Firm, operations: list[str] | None) -> None:
    # The ERP goes down for five minutes: after the customer was made, or for every call.
    firm.fault("erp", "outage", duration_s=300, **({"operations": operations} if operations else {}))
    northwind = firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869")
    contoso = firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789")
    firm.won_deal(northwind, FIXED_FEE_TERMS)
    firm.won_deal(contoso, TIME_AND_MATERIALS_TERMS)
    firm.settle()

    assert len(firm.records("erp", "customers")) == 2
    assert len(firm.records("erp", "contracts")) == len(firm.records("psa", "projects")) == 2
    assert len(firm.records("psa", "milestones")) == 3
    assert firm.engine.snapshot().flows["opportunity_to_project"].retries >= 2
    assert firm.exceptions() == [] and firm.ledger.dead_letters() == []


def test_missing_tax_registration_raises_one_exception_and_the_deal_flows_once_when_the_account_is_fixed(
        firm: Firm) -> None:
    # A UK company buying from the German entity is reverse-charged: the ERP needs its VAT number.
    account = firm.account("Tailspin Toys Ltd", "GB", "GBP")
    opportunity = firm.won_deal(account, FIXED_FEE_TERMS)
    firm.settle()

    [exception] = firm.exceptions()
    assert (exception.reason, exception.status, exception.key) == \
        ("missing-tax-registration", ExceptionStatus.OPEN, f"deal:{opportunity}")
    assert firm.records("erp", "customers") == firm.records("erp", "contracts") == firm.records("psa", "projects") == []

    firm.call("crm", "PATCH", f"/accounts/{account}", {"name": "Tailspin Toys Limited"})  # not the fix
    firm.settle()
    assert [item.status for item in firm.exceptions()] == [ExceptionStatus.OPEN]

    firm.call("crm", "PATCH", f"/accounts/{account}", {"tax_id": "GB987654321"})
    firm.settle()

    [customer] = firm.records("erp", "customers")
    [contract] = firm.records("erp", "contracts")
    [project] = firm.records("psa", "projects")
    assert customer["tax_registration"] == "GB987654321"
    assert (contract["customer_id"], project["erp_contract_id"]) == (customer["id"], contract["id"])
    assert len(firm.records("psa", "milestones")) == 3
    assert [(item.id, item.status) for item in firm.exceptions()] == [(exception.id, ExceptionStatus.RESOLVED)]
    assert firm.record("crm", "opportunities", opportunity)["psa_project_id"] == project["id"]
    assert firm.engine.snapshot().queue_depth == 0


def test_an_operator_re_drive_after_the_fix_makes_the_deal_flow_once(firm: Firm) -> None:
    account = firm.account("Tailspin Toys Ltd", "GB", "GBP")
    firm.won_deal(account, FIXED_FEE_TERMS)
    firm.settle()
    [exception] = firm.exceptions()

    firm.call("crm", "PATCH", f"/accounts/{account}", {"tax_id": "GB987654321"})
    firm.engine.redrive(exception.id)  # before the engine has read the account's change
    firm.settle()

    assert len(firm.records("erp", "customers")) == len(firm.records("erp", "contracts")) == 1
    assert len(firm.records("psa", "projects")) == 1 and len(firm.records("psa", "milestones")) == 3
    assert [item.status for item in firm.exceptions()] == [ExceptionStatus.RESOLVED]


def test_a_parked_deal_the_customer_cancels_closes_its_exception_and_leaves_nothing_in_flight(firm: Firm) -> None:
    opportunity = firm.won_deal(firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789"),
                                {**TIME_AND_MATERIALS_TERMS, "currency": "EUR"})
    firm.settle()
    [exception] = firm.exceptions()
    assert exception.reason == "currency-not-allowed"

    firm.call("crm", "POST", f"/opportunities/{opportunity}/cancel",
              {"effective_date": "2026-03-03", "unbilled_rule": "WRITE_OFF", "reason": "Booked in the wrong currency"})
    firm.settle()

    assert [item.status for item in firm.exceptions()] == [ExceptionStatus.RESOLVED]
    assert firm.records("erp", "contracts") == firm.records("psa", "projects") == []
    assert firm.engine.snapshot().queue_depth == 0 and firm.ledger.dead_letters() == []


def test_a_practice_the_psa_has_no_template_for_raises_one_exception_and_writes_nothing(firm: Firm) -> None:
    practice = default_tables().practice(TIME_AND_MATERIALS_TERMS["practice"]).psa_practice
    psa = firm.world.context("psa").store
    other = next(template["practice"] for template in psa.all("templates") if template["practice"] != practice)
    for template in psa.where_equal("templates", "practice", practice):  # now a second template of another
        psa.update("templates", template["id"], {"practice": other})
    bad = firm.won_deal(firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789"), TIME_AND_MATERIALS_TERMS)
    firm.settle()

    [exception] = firm.exceptions()
    assert (exception.reason, exception.key) == ("unknown-practice", f"deal:{bad}")
    assert firm.records("erp", "customers") == firm.records("erp", "contracts") == []
    assert firm.records("psa", "projects") == []


def test_unknown_practice_raises_one_exception_and_other_deals_still_flow(firm: Firm) -> None:
    bad = firm.won_deal(firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789"),
                        {**TIME_AND_MATERIALS_TERMS, "practice": "CYBERSECURITY"})
    good = firm.won_deal(firm.account("Northwind Logistics GmbH", "DE", "EUR", tax_id="DE811569869"),
                         FIXED_FEE_TERMS)
    firm.settle()

    [exception] = firm.exceptions()
    assert (exception.reason, exception.key) == ("unknown-practice", f"deal:{bad}")
    assert [contract["crm_opportunity_id"] for contract in firm.records("erp", "contracts")] == [good]
    assert [project["crm_opportunity_id"] for project in firm.records("psa", "projects")] == [good]


def test_retainer_and_capped_deals_carry_their_fee_and_cap_into_the_erp_billing_plan(firm: Firm) -> None:
    account = firm.account("Contoso Ltd", "GB", "GBP", tax_id="GB123456789")
    retainer_terms = {key: value for key, value in TIME_AND_MATERIALS_TERMS.items() if key != "rate_card"}
    firm.won_deal(account, {**retainer_terms, "billing_model": "RETAINER", "amount": "60000.00",
                            "monthly_fee": "10000.00"})
    firm.won_deal(account, {**TIME_AND_MATERIALS_TERMS, "billing_model": "CAPPED_TM", "cap_amount": "150000.00"})
    firm.settle()

    retainer, capped = firm.records("erp", "contracts")
    assert (retainer["revenue_policy"], retainer["billing_plan"]["retainer"]["monthly_fee"],
            retainer["billing_plan"]["retainer"]["term_months"]) == ("STRAIGHT_LINE", "10000.00", 6)
    assert (capped["revenue_policy"], capped["billing_plan"]["cap_amount"]) == ("RIGHT_TO_INVOICE", "150000.00")
    assert len(firm.records("erp", "customers")) == 1
