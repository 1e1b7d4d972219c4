"""Contracts: validation on creation, versions from change orders, termination."""

from __future__ import annotations

from typing import Any

from tests.unit.erp.support import ErpClient

FIXED_FEE_PLAN = {"eac": "200000.00", "milestones": [
    {"id": "SIGN", "name": "Signing", "amount": "30000.00"},
    {"id": "M1", "name": "Design complete", "amount": "120000.00"},
    {"id": "ACCEPT", "name": "Final acceptance", "amount": "150000.00", "requires_acceptance": True}]}


def _fixed_fee(erp: ErpClient, **fields: Any) -> dict[str, Any]:
    return erp.contract("FIXED_FEE", "UK01", total_price="300000.00", billing_plan=FIXED_FEE_PLAN, **fields)


def _version(erp: ErpClient, contract: dict[str, Any], source_version: int, **fields: Any) -> Any:
    body = {"source_system": "crm", "source_id": f"CO-{source_version}", "source_version": source_version,
            "effective_date": "2026-07-01", "total_price": contract["total_price"], **fields}
    return erp.call("POST", f"/contracts/{contract['id']}/versions", body)


def test_contract_defaults_its_revenue_policy_from_the_billing_model(erp: ErpClient) -> None:
    policies = {model: erp.contract(model, billing_plan=plan)["revenue_policy"] for model, plan in [
        ("TIME_AND_MATERIALS", {}), ("CAPPED_TM", {"cap_amount": "50000"}),
        ("RETAINER", {"retainer": {"monthly_fee": "10000", "term_months": 12}})]}
    policies["FIXED_FEE"] = _fixed_fee(erp)["revenue_policy"]

    assert policies == {"TIME_AND_MATERIALS": "RIGHT_TO_INVOICE", "CAPPED_TM": "RIGHT_TO_INVOICE",
                        "RETAINER": "STRAIGHT_LINE", "FIXED_FEE": "COST_TO_COST"}


def test_contract_in_another_currency_than_its_entity_is_refused(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    response = erp.call("POST", "/contracts", {
        "customer_id": customer["id"], "legal_entity": "UK01", "currency": "EUR", "billing_model": "TIME_AND_MATERIALS",
        "start_date": "2026-01-05", "total_price": "1000", "source_system": "crm", "source_id": "OPP-1",
        "source_version": 1})

    assert response.status == 422
    assert response.body["type"] == "https://firmsim.dev/problems/currency-not-allowed"
    assert erp.get("/contracts")["items"] == []


def test_contract_for_an_unknown_customer_is_refused(erp: ErpClient) -> None:
    response = erp.call("POST", "/contracts", {
        "customer_id": "CUS-000099", "legal_entity": "UK01", "currency": "GBP", "billing_model": "TIME_AND_MATERIALS",
        "start_date": "2026-01-05", "total_price": "1000", "source_system": "crm", "source_id": "OPP-1",
        "source_version": 1})

    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/unknown-customer")


def test_contract_for_a_cross_border_customer_without_registration_is_refused(erp: ErpClient) -> None:
    customer = erp.post("/customers", {"name": "Lumiere SA", "legal_entity": "UK01", "country": "FR",
                                       "currency": "EUR"})

    response = erp.call("POST", "/contracts", {
        "customer_id": customer["id"], "legal_entity": "UK01", "currency": "GBP", "billing_model": "TIME_AND_MATERIALS",
        "start_date": "2026-01-05", "total_price": "1000", "source_system": "crm", "source_id": "OPP-1",
        "source_version": 1})

    assert response.status == 422
    assert response.body["type"] == "https://firmsim.dev/problems/missing-tax-registration"
    assert response.body["customer_id"] == customer["id"]


def test_fixed_fee_milestones_must_sum_to_the_price(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    response = erp.call("POST", "/contracts", {
        "customer_id": customer["id"], "legal_entity": "UK01", "currency": "GBP", "billing_model": "FIXED_FEE",
        "start_date": "2026-01-05", "total_price": "300000.00", "source_system": "crm", "source_id": "OPP-1",
        "source_version": 1, "billing_plan": {"eac": "1", "milestones": [{"id": "M1", "name": "All",
                                                                          "amount": "299999.99"}]}})

    assert response.status == 422
    assert response.body["type"].endswith("/invalid-billing-plan")
    assert "299999.99" in response.body["detail"]


def test_each_model_needs_its_own_plan_terms(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    one_milestone = {"milestones": [{"id": "A", "name": "A", "amount": "10"}]}
    cases = [("CAPPED_TM", {}, {}), ("RETAINER", {}, {"total_price": "10"}), ("FIXED_FEE", {}, {"total_price": "10"}),
             ("FIXED_FEE", one_milestone, {}), ("FIXED_FEE", one_milestone, {"total_price": "10"}),
             ("TIME_AND_MATERIALS", {"cap_amount": "10"}, {}), ("TIME_AND_MATERIALS", one_milestone, {})]
    refusals = []
    for model, plan, price in cases:
        body = {"customer_id": customer["id"], "legal_entity": "UK01", "currency": "GBP", "billing_model": model,
                "start_date": "2026-01-05", "source_system": "crm", "source_id": "OPP-1", "source_version": 1,
                "billing_plan": plan, **price}
        response = erp.call("POST", "/contracts", body)
        refusals.append((response.status, response.body["type"].rsplit("/", 1)[-1]))

    # no cap nor price; no retainer terms; no milestones; no price; no EAC for cost-to-cost; a cap or
    # milestones on plain T&M
    assert refusals == [(422, "invalid-billing-plan")] * 7


def test_missing_prices_default_from_the_plan(erp: ErpClient) -> None:
    capped = erp.contract("CAPPED_TM", total_price=None, billing_plan={"cap_amount": "5000"})
    capped_by_price = erp.contract("CAPPED_TM", total_price="7000")
    retainer = erp.contract("RETAINER", total_price=None,
                            billing_plan={"retainer": {"monthly_fee": "2500.50", "term_months": 12}})
    hourly = erp.contract("TIME_AND_MATERIALS", total_price=None)

    assert (capped["total_price"], capped["billing_plan"]["cap_amount"]) == ("5000.00", "5000.00")
    assert capped_by_price["billing_plan"]["cap_amount"] == "7000.00"
    assert retainer["total_price"] == "30006.00"
    assert hourly["total_price"] == "0.00"


def test_retainer_cannot_choose_cost_to_cost(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    response = erp.call("POST", "/contracts", {
        "customer_id": customer["id"], "legal_entity": "UK01", "currency": "GBP", "billing_model": "RETAINER",
        "revenue_policy": "COST_TO_COST", "start_date": "2026-01-05", "total_price": "10", "source_system": "crm",
        "source_id": "OPP-1", "source_version": 1,
        "billing_plan": {"retainer": {"monthly_fee": "10", "term_months": 1}}})

    assert response.body["type"].endswith("/invalid-revenue-policy")


def test_change_order_adds_a_version_and_keeps_the_history(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)
    plan = {"eac": "240000.00", "milestones": [*FIXED_FEE_PLAN["milestones"][:2],
                                               {"id": "ACCEPT", "name": "Final acceptance", "amount": "190000.00",
                                                "requires_acceptance": True}]}

    response = _version(erp, contract, 2, total_price="340000.00", billing_plan=plan, description="Warehouse B")

    assert response.status == 201
    assert (response.body["source_version"], response.body["total_price"], response.body["version_count"]) == (
        2, "340000.00", 2)
    assert response.body["billing_plan"]["eac"] == "240000.00"
    history = erp.get(f"/contracts/{contract['id']}/versions")["items"]
    assert [(v["source_version"], v["total_price"]) for v in history] == [(1, "300000.00"), (2, "340000.00")]
    assert erp.events()[-1]["type"] == "erp.contract.version_added"


def test_an_older_change_order_never_overwrites_a_newer_one(erp: ErpClient) -> None:
    contract = erp.contract()
    assert _version(erp, contract, 3, total_price="120000.00").status == 201

    late = _version(erp, contract, 2, total_price="110000.00")
    replay = _version(erp, contract, 3, total_price="130000.00")

    assert (late.status, late.body["type"]) == (409, "https://firmsim.dev/problems/stale-version")
    assert late.body["current_source_version"] == 3
    assert replay.status == 409
    current = erp.get(f"/contracts/{contract['id']}")
    assert (current["source_version"], current["total_price"]) == (3, "120000.00")
    assert len(erp.get(f"/contracts/{contract['id']}/versions")["items"]) == 2


def test_a_billed_milestone_cannot_be_repriced_by_a_change_order(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)
    erp.post(f"/contracts/{contract['id']}/milestones/SIGN/complete", {"date": "2026-01-05"}, status=200)
    erp.run("UK01", "2026-01-31")
    plan = {"milestones": [{"id": "SIGN", "name": "Signing", "amount": "40000.00"},
                           *FIXED_FEE_PLAN["milestones"][1:]]}

    response = _version(erp, contract, 2, total_price="310000.00", billing_plan=plan)

    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/invalid-billing-plan")


def test_change_order_keeps_milestone_progress(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)
    erp.post(f"/contracts/{contract['id']}/milestones/M1/complete", {"date": "2026-02-01"}, status=200)

    response = _version(erp, contract, 2, total_price="300000.00", billing_plan=FIXED_FEE_PLAN)

    statuses = {m["id"]: m["status"] for m in response.body["billing_plan"]["milestones"]}
    assert statuses == {"SIGN": "PLANNED", "M1": "COMPLETED", "ACCEPT": "PLANNED"}


def test_terminated_contract_takes_no_more_versions_or_work_after_its_date(erp: ErpClient) -> None:
    contract = erp.contract()
    terminated = erp.post(f"/contracts/{contract['id']}/terminate",
                          {"effective_date": "2026-03-15", "unbilled_rule": "BILL"}, status=200)

    late_work = erp.call("POST", "/billable-transactions", erp.item(contract, date="2026-03-16"))
    earlier_work = erp.call("POST", "/billable-transactions", erp.item(contract, date="2026-03-15"))

    assert terminated["status"] == "TERMINATED"
    assert terminated["termination"]["unbilled_rule"] == "BILL"
    assert _version(erp, contract, 2).status == 409
    assert (late_work.status, late_work.body["type"]) == (422, "https://firmsim.dev/problems/contract-terminated")
    assert earlier_work.status == 201
    assert erp.call("POST", f"/contracts/{contract['id']}/terminate",
                    {"effective_date": "2026-03-15", "unbilled_rule": "BILL"}).status == 409


def test_contracts_can_be_found_by_crm_opportunity(erp: ErpClient) -> None:
    contract = erp.contract()
    erp.contract()

    found = erp.get(f"/contracts?crm_opportunity_id={contract['crm_opportunity_id']}")["items"]

    assert [item["id"] for item in found] == [contract["id"]]


def test_cost_actuals_keep_the_newest_source_version_per_period(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)
    path = f"/contracts/{contract['id']}/cost-actuals"
    erp.post(path, {"period": "2026-03", "cumulative_cost": "50000", "source_system": "psa", "source_id": "PRJ-1",
                    "source_version": 2})

    stale = erp.call("POST", path, {"period": "2026-03", "cumulative_cost": "1", "source_system": "psa",
                                    "source_id": "PRJ-1", "source_version": 1})
    newer = erp.post(path, {"period": "2026-03", "cumulative_cost": "52000", "source_system": "psa",
                            "source_id": "PRJ-1", "source_version": 3})

    assert stale.status == 409
    assert newer["cumulative_cost"] == "52000.00"
    assert [(a["period"], a["as_of"], a["cumulative_cost"]) for a in erp.get(path)["items"]] == [
        ("2026-03", "2026-03-31", "52000.00")]


def test_cost_to_a_day_inside_a_period_is_kept_alongside_the_period_figure(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)
    path = f"/contracts/{contract['id']}/cost-actuals"
    cost = {"period": "2026-03", "source_system": "psa", "source_id": "PRJ-1"}
    erp.post(path, {**cost, "cumulative_cost": "50000", "source_version": 1})
    erp.post(path, {**cost, "as_of": "2026-03-16", "cumulative_cost": "30000", "source_version": 1})
    erp.post(path, {**cost, "as_of": "2026-03-16", "cumulative_cost": "31000", "source_version": 2})

    stale = erp.call("POST", path, {**cost, "as_of": "2026-03-16", "cumulative_cost": "1", "source_version": 2})
    outside = erp.call("POST", path, {**cost, "as_of": "2026-04-01", "cumulative_cost": "1", "source_version": 3})
    malformed = erp.call("POST", path, {**cost, "as_of": "2026-03-32", "cumulative_cost": "1", "source_version": 3})

    assert [(a["period"], a["as_of"], a["cumulative_cost"], a["source_version"]) for a in erp.get(path)["items"]] == [
        ("2026-03", "2026-03-31", "50000.00", 1), ("2026-03", "2026-03-16", "31000.00", 2)]
    assert stale.status == 409
    assert (outside.status, outside.body["type"], outside.body["field"]) == (
        422, "https://firmsim.dev/problems/invalid-dates", "body/as_of")
    assert "2026-04-01" in outside.body["detail"] and "2026-03" in outside.body["detail"]
    assert malformed.status == 400


def test_estimate_at_completion_can_be_revised(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)

    revised = erp.post(f"/contracts/{contract['id']}/estimates", {"eac": "220000", "effective_date": "2026-04-01"})

    assert revised["billing_plan"]["eac"] == "220000.00"
    assert erp.events()[-1]["type"] == "erp.contract.estimate_revised"


def test_milestones_complete_then_accept_in_order(erp: ErpClient) -> None:
    contract = _fixed_fee(erp)
    base = f"/contracts/{contract['id']}/milestones"

    early_accept = erp.call("POST", f"{base}/ACCEPT/accept", {"date": "2026-05-01"})
    completed = erp.post(f"{base}/ACCEPT/complete", {"date": "2026-05-01", "source_system": "psa",
                                                     "source_id": "MS-9", "source_version": 1}, status=200)
    accepted = erp.post(f"{base}/ACCEPT/accept", {"date": "2026-05-10"}, status=200)
    accept_unneeded = erp.call("POST", f"{base}/M1/accept", {"date": "2026-05-10"})
    unknown = erp.call("POST", f"{base}/NOPE/complete", {"date": "2026-05-10"})

    assert early_accept.status == 409
    assert (completed["status"], completed["contract_id"]) == ("COMPLETED", contract["id"])
    assert (accepted["status"], accepted["accepted_on"], accepted["source_id"]) == ("ACCEPTED", "2026-05-10", "MS-9")
    assert accept_unneeded.status == 409
    assert unknown.status == 404
    assert [e["type"] for e in erp.events("erp.milestone.")] == ["erp.milestone.completed", "erp.milestone.accepted"]


def test_a_date_python_cannot_represent_is_a_bad_request(erp: ErpClient) -> None:
    customer = erp.customer("UK01")

    response = erp.call("POST", "/contracts", {
        "customer_id": customer["id"], "legal_entity": "UK01", "currency": "GBP", "billing_model": "RETAINER",
        "start_date": "2026-01-05", "source_system": "crm", "source_id": "OPP-1", "source_version": 1,
        "billing_plan": {"retainer": {"monthly_fee": "10", "term_months": 1, "start_date": "0000-01-01"}}})

    assert (response.status, response.body["field"]) == (400, "body/billing_plan/retainer/start_date")


def test_contracts_can_be_found_by_customer_with_other_filters(erp: ErpClient) -> None:
    customer = erp.customer()
    first = erp.contract(customer=customer)
    second = erp.contract(customer=customer)
    erp.contract()

    found = erp.get(f"/contracts?customer_id={customer['id']}")["items"]
    by_both = erp.get(f"/contracts?customer_id={customer['id']}&crm_opportunity_id={second['crm_opportunity_id']}")

    assert [item["id"] for item in found] == [first["id"], second["id"]]
    assert [item["id"] for item in by_both["items"]] == [second["id"]]
    assert erp.get(f"/contracts?crm_opportunity_id={second['crm_opportunity_id']}&legal_entity=DE01")["items"] == []
