"""Revenue recognition runs through the API, per policy, with hand-computed figures (DOMAIN.md R1-R7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.erp.support import ErpClient

WORKED_PLAN = {"eac": "200000.00", "milestones": [
    {"id": "SIGN", "name": "Signing", "amount": "30000.00"},
    {"id": "M1", "name": "Design complete", "amount": "120000.00"},
    {"id": "ACCEPT", "name": "Final acceptance", "amount": "150000.00", "requires_acceptance": True}]}


class WorkedExample:
    """DOMAIN.md's cost-to-cost example: fixed fee 300,000, EAC 200,000, billed 30k / 120k / 150k."""

    def __init__(self, erp: ErpClient) -> None:
        self.erp = erp
        self.contract = erp.contract("FIXED_FEE", "US01", total_price="300000.00", billing_plan=WORKED_PLAN)
        self.path = f"/contracts/{self.contract['id']}"
        self.cost_version = 0

    def cost(self, period: str, cumulative: str) -> None:
        self.cost_version += 1
        self.erp.post(f"{self.path}/cost-actuals", {"period": period, "cumulative_cost": cumulative,
                                                    "source_system": "psa", "source_id": "PRJ-000007",
                                                    "source_version": self.cost_version})

    def revenue(self, period: str) -> dict[str, Any]:
        run = self.erp.post("/revenue-runs", {"legal_entity": "US01", "period": period})
        assert run["exceptions"] == []
        return run["results"][0]

    def milestone(self, milestone_id: str, action: str, day: str) -> None:
        self.erp.post(f"{self.path}/milestones/{milestone_id}/{action}", {"date": day}, status=200)

    def change_order(self, distinct: bool) -> None:
        plan = {"eac": "240000.00", "milestones": [*WORKED_PLAN["milestones"][:2], {
            "id": "ACCEPT", "name": "Final acceptance", "amount": "190000.00", "requires_acceptance": True}]}
        self.erp.post(f"{self.path}/versions", {"source_system": "crm", "source_id": "CO-1", "source_version": 2,
                                                "effective_date": "2026-07-01", "total_price": "340000.00",
                                                "distinct": distinct, "billing_plan": plan})

    def quarters(self, distinct: bool = False) -> list[dict[str, Any]]:
        self.milestone("SIGN", "complete", "2026-01-05")
        self.erp.run("US01", "2026-01-31")
        self.cost("2026-03", "50000")
        q1 = self.revenue("2026-03")
        self.erp.post(f"{self.path}/estimates", {"eac": "220000", "effective_date": "2026-04-01"})
        self.cost("2026-06", "110000")
        q2 = self.revenue("2026-06")
        self.change_order(distinct)
        self.milestone("M1", "complete", "2026-09-30")
        self.erp.run("US01", "2026-09-30")
        self.cost("2026-09", "180000")
        q3 = self.revenue("2026-09")
        self.milestone("ACCEPT", "complete", "2026-12-10")
        self.milestone("ACCEPT", "accept", "2026-12-15")
        self.erp.run("US01", "2026-12-31")
        self.cost("2026-12", "240000")
        return [q1, q2, q3, self.revenue("2026-12")]


def _figures(result: dict[str, Any]) -> tuple[str, ...]:
    return (result["cumulative_revenue"], result["period_revenue"], result["cumulative_billed"],
            result["contract_asset"], result["contract_liability"])


def test_worked_cost_to_cost_example_comes_out_to_the_cent_quarter_by_quarter(erp: ErpClient) -> None:
    example = WorkedExample(erp)

    q1, q2, q3, q4 = example.quarters()

    # cumulative revenue, period revenue, cumulative billed, contract asset, contract liability
    assert _figures(q1) == ("75000.00", "75000.00", "30000.00", "45000.00", "0.00")
    assert _figures(q2) == ("150000.00", "75000.00", "30000.00", "120000.00", "0.00")
    assert _figures(q3) == ("255000.00", "105000.00", "150000.00", "105000.00", "0.00")
    assert _figures(q4) == ("340000.00", "85000.00", "340000.00", "0.00", "0.00")
    assert (q1["progress"], q2["progress"], q3["progress"], q4["progress"]) == (
        "0.250000", "0.500000", "0.750000", "1.000000")
    # Q3 day 1 change order: 110k / 240k × 340k = 155,833.33 against 150,000 -> catch-up 5,833.33
    assert [(a["effective_date"], a["kind"], a["amount"]) for a in q3["adjustments"]] == [
        ("2026-07-01", "CUMULATIVE_CATCH_UP", "5833.33")]
    q3_entries = [erp.get(f"/journal-entries/{je}") for je in q3["journal_entry_ids"]]
    assert [(e["original_date"], e["lines"][-1]["account"], e["lines"][-1]["credit"]) for e in q3_entries] == [
        ("2026-07-01", "REVENUE", "5833.33"), ("2026-09-30", "REVENUE", "99166.67")]
    revenue = erp.get(f"/contracts/{example.contract['id']}/revenue")
    assert [r["period_revenue"] for r in revenue["schedule"]] == ["75000.00", "75000.00", "105000.00", "85000.00"]
    assert revenue["position"] == {"unbilled_receivable": "0.00", "contract_asset": "0.00",
                                   "contract_liability": "0.00"}


def test_distinct_change_order_not_at_standalone_price_is_prospective(erp: ErpClient) -> None:
    _, _, q3, q4 = WorkedExample(erp).quarters(distinct=True)

    # pool 150,000 unrecognized + 40,000 = 190,000 over the remaining cost (240k - 110k):
    # Q3 150,000 + 190,000 × 70k / 130k = 252,307.69
    assert (q3["cumulative_revenue"], q3["adjustments"][0]["amount"]) == ("252307.69", "0.00")
    assert q4["cumulative_revenue"] == "340000.00"


def _mid_month_prospective(erp: ErpClient, cost_to_the_eve: bool) -> dict[str, Any]:
    """Fixed fee 100,000, EAC 50,000; cost 10,000 on 20 Jan, 5,000 on 10 Feb, 5,000 on 20 Feb; a change order
    distinct but not at standalone price (+20,000) takes effect on 16 Feb. Returns February's revenue result."""
    contract = erp.contract("FIXED_FEE", "US01", total_price="100000.00", billing_plan={
        "eac": "50000.00", "milestones": [{"id": "M1", "name": "Delivery", "amount": "100000.00"}]})
    path = f"/contracts/{contract['id']}"
    source = {"source_system": "psa", "source_id": "PRJ-000007"}
    erp.post(f"{path}/cost-actuals", {"period": "2026-01", "cumulative_cost": "10000", **source, "source_version": 1})
    erp.post(f"{path}/versions", {"source_system": "crm", "source_id": "CO-1", "source_version": 2,
                                  "effective_date": "2026-02-16", "total_price": "120000.00", "distinct": True,
                                  "billing_plan": {"eac": "50000.00", "milestones": [
                                      {"id": "M1", "name": "Delivery", "amount": "100000.00"},
                                      {"id": "M2", "name": "Extension", "amount": "20000.00"}]}})
    if cost_to_the_eve:
        erp.post(f"{path}/cost-actuals", {"period": "2026-02", "as_of": "2026-02-15", "cumulative_cost": "15000",
                                          **source, "source_version": 1})
    erp.post(f"{path}/cost-actuals", {"period": "2026-02", "cumulative_cost": "20000", **source, "source_version": 1})
    run = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-02"})
    assert run["exceptions"] == []
    result: dict[str, Any] = run["results"][0]
    return result


def test_prospective_change_order_mid_month_keeps_the_work_before_it_under_the_old_terms(erp: ErpClient) -> None:
    february = _mid_month_prospective(erp, cost_to_the_eve=True)

    # To 15 Feb: 100,000 x 15,000 / 50,000 = 30,000. Pool: 70,000 unrecognized + 20,000 = 90,000 over the
    # 35,000 of cost left; by 28 Feb 5,000 of it is spent: 30,000 + 90,000 x 5/35 = 42,857.14.
    assert (february["cumulative_revenue"], february["period_revenue"]) == ("42857.14", "42857.14")
    assert [(a["effective_date"], a["kind"], a["amount"]) for a in february["adjustments"]] == [
        ("2026-02-16", "PROSPECTIVE", "0.00")]


def test_prospective_change_order_mid_month_without_the_cost_to_its_eve_anchors_on_the_month_before(
        erp: ErpClient) -> None:
    february = _mid_month_prospective(erp, cost_to_the_eve=False)

    # Only January's 10,000 is known on 15 Feb: 20,000 recognized, 100,000 over the 40,000 left, of which
    # 10,000 by 28 Feb: 20,000 + 100,000 x 10/40 = 45,000 - what a monthly cost figure alone gives.
    assert february["cumulative_revenue"] == "45000.00"


def test_change_order_at_standalone_price_is_booked_as_its_own_contract(erp: ErpClient) -> None:
    contract = erp.contract("FIXED_FEE", "US01", total_price="300000.00", billing_plan=WORKED_PLAN)

    response = erp.call("POST", f"/contracts/{contract['id']}/versions", {
        "source_system": "crm", "source_id": "CO-1", "source_version": 2, "effective_date": "2026-07-01",
        "total_price": "330000.00", "distinct": True, "priced_at_standalone": True})

    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/separate-contract-required")


def test_time_and_materials_revenue_is_the_right_to_invoice_billed_or_not(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "US01")
    for day in ("2026-03-02", "2026-03-09", "2026-03-16"):
        erp.transaction(contract, quantity="40", rate="200.00", date=day)

    march = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})["results"][0]
    invoice = erp.get(f"/invoices/{erp.run('US01', '2026-04-05')['invoice_ids'][0]}")
    april = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-04"})["results"][0]

    # DOMAIN.md: 120 approved hours × 200 = 24,000 of March revenue, an unbilled receivable until 5 April
    assert (march["period_revenue"], march["unbilled_receivable"]) == ("24000.00", "24000.00")
    revenue_entry = erp.get(f"/journal-entries/{march['journal_entry_ids'][0]}")
    assert [(line["account"], line["debit"], line["credit"]) for line in revenue_entry["lines"]] == [
        ("UNBILLED_AR", "24000.00", "0.00"), ("REVENUE", "0.00", "24000.00")]
    invoice_entry = erp.get(f"/journal-entries/{invoice['journal_entry_id']}")
    assert [(line["account"], line["debit"], line["credit"]) for line in invoice_entry["lines"]] == [
        ("AR", "24000.00", "0.00"), ("UNBILLED_AR", "0.00", "24000.00")]
    assert (april["period_revenue"], april["unbilled_receivable"], april["cumulative_billed"]) == (
        "0.00", "0.00", "24000.00")
    assert april["journal_entry_ids"] == []


def test_reversed_time_lowers_revenue_in_the_next_run(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "US01")
    erp.transaction(contract, quantity="10", rate="200.00", date="2026-03-02")
    reopened = erp.transaction(contract, quantity="5", rate="200.00", date="2026-03-03")
    erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})

    erp.post(f"/billable-transactions/{reopened['id']}/reverse", status=200)
    april = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-04"})["results"][0]

    assert (april["cumulative_revenue"], april["period_revenue"]) == ("2000.00", "-1000.00")


def test_time_written_off_after_a_run_lowers_revenue_in_the_next_run(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "US01")
    erp.transaction(contract, quantity="10", rate="200.00", date="2026-03-02")
    written_off = erp.transaction(contract, quantity="5", rate="200.00", date="2026-03-03")
    march = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})["results"][0]

    erp.post(f"/billable-transactions/{written_off['id']}/write-off", {"reason": "Goodwill"}, status=200)
    april = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-04"})["results"][0]

    assert march["cumulative_revenue"] == "3000.00"
    assert (april["cumulative_revenue"], april["period_revenue"]) == ("2000.00", "-1000.00")


def test_capped_time_and_materials_recognizes_up_to_the_cap(erp: ErpClient) -> None:
    contract = erp.contract("CAPPED_TM", "US01", billing_plan={"cap_amount": "10000.00"})
    erp.transaction(contract, quantity="80", rate="150.00", date="2026-03-02")

    result = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})["results"][0]

    assert (result["cumulative_revenue"], result["excess_over_cap"], result["transaction_price"]) == (
        "10000.00", "2000.00", "10000.00")


def test_milestone_revenue_is_recognized_at_a_point_in_time_on_acceptance(erp: ErpClient) -> None:
    contract = erp.contract("FIXED_FEE", "US01", total_price="50000.00", revenue_policy="POINT_IN_TIME",
                            billing_plan={"milestones": [{"id": "GO", "name": "Go-live", "amount": "50000.00",
                                                          "requires_acceptance": True}]})
    erp.post(f"/contracts/{contract['id']}/milestones/GO/complete", {"date": "2026-03-20"}, status=200)

    march = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})["results"][0]
    erp.post(f"/contracts/{contract['id']}/milestones/GO/accept", {"date": "2026-04-10"}, status=200)
    april = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-04"})["results"][0]

    assert march["cumulative_revenue"] == "0.00"
    assert (april["period_revenue"], april["contract_asset"]) == ("50000.00", "50000.00")


def test_retainer_revenue_is_straight_line_and_billing_in_advance_is_a_liability(erp: ErpClient) -> None:
    erp.contract("RETAINER", "DE01", total_price="30000.00", billing_plan={
        "retainer": {"monthly_fee": "10000.00", "term_months": 3, "start_date": "2026-04-01"}})
    erp.run("DE01", "2026-03-31")
    erp.run("DE01", "2026-04-30")

    april = erp.post("/revenue-runs", {"legal_entity": "DE01", "period": "2026-04"})["results"][0]

    # April served (10,000) against April and May billed in advance (20,000): 10,000 deferred
    assert (april["period_revenue"], april["cumulative_billed"], april["contract_liability"]) == (
        "10000.00", "20000.00", "10000.00")


def test_a_contract_unchanged_since_the_last_run_is_recognized_to_the_new_period_end(erp: ErpClient) -> None:
    erp.contract("RETAINER", "DE01", total_price="30000.00", billing_plan={
        "retainer": {"monthly_fee": "10000.00", "term_months": 3, "start_date": "2026-04-01"}})
    erp.post("/revenue-runs", {"legal_entity": "DE01", "period": "2026-04"})

    may = erp.post("/revenue-runs", {"legal_entity": "DE01", "period": "2026-05"})["results"][0]
    june = erp.post("/revenue-runs", {"legal_entity": "DE01", "period": "2026-06"})["results"][0]
    july = erp.post("/revenue-runs", {"legal_entity": "DE01", "period": "2026-07"})["results"][0]

    assert [(r["period_revenue"], r["cumulative_revenue"]) for r in (may, june, july)] == [
        ("10000.00", "20000.00"), ("10000.00", "30000.00"), ("0.00", "30000.00")]


def test_revenue_runs_go_forward(erp: ErpClient) -> None:
    erp.post("/revenue-runs", {"legal_entity": "UK01", "period": "2026-06"})

    earlier = erp.call("POST", "/revenue-runs", {"legal_entity": "UK01", "period": "2026-05"})
    other_entity = erp.call("POST", "/revenue-runs", {"legal_entity": "US01", "period": "2026-05"})

    assert earlier.status == 409
    assert other_entity.status == 201


def test_rerunning_a_period_with_nothing_new_recognizes_nothing(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "UK01")
    erp.transaction(contract)
    erp.post("/revenue-runs", {"legal_entity": "UK01", "period": "2026-03"})

    again = erp.post("/revenue-runs", {"legal_entity": "UK01", "period": "2026-03"})

    assert (again["period_revenue"], again["journal_entry_ids"]) == ("0.00", [])
    assert [e["type"] for e in erp.events("erp.revenue.")] == ["erp.revenue.recognized"] * 2


@pytest.mark.parametrize("period", ["2026-3", "2026-13", "26-03"])
def test_a_malformed_period_is_a_bad_request(erp: ErpClient, period: str) -> None:
    assert erp.call("POST", "/revenue-runs", {"legal_entity": "UK01", "period": period}).status == 400


def test_expenses_on_a_fixed_fee_contract_are_recognized_as_a_pass_through_stream(erp: ErpClient) -> None:
    contract = erp.contract("FIXED_FEE", "US01", total_price="50000.00", revenue_policy="POINT_IN_TIME",
                            billing_plan={"milestones": [{"id": "GO", "name": "Go-live", "amount": "50000.00"}]})
    erp.transaction(contract, kind="EXPENSE", quantity="1", rate="412.30", date="2026-03-11")
    erp.run("US01", "2026-03-31")

    results = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})["results"]

    assert [(r["stream"], r["policy"], r["cumulative_revenue"], r["cumulative_billed"]) for r in results] == [
        ("CONTRACT", "POINT_IN_TIME", "0.00", "0.00"),
        ("PASS_THROUGH_EXPENSES", "RIGHT_TO_INVOICE", "412.30", "412.30")]
    position = erp.get(f"/contracts/{contract['id']}/revenue")["position"]
    assert position == {"unbilled_receivable": "0.00", "contract_asset": "0.00", "contract_liability": "0.00"}
