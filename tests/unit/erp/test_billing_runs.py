"""Billing runs per billing model, with hand-computed figures."""

from __future__ import annotations

from typing import Any

from tests.unit.erp.support import ErpClient

FIXED_FEE_PLAN = {"eac": "200000.00", "milestones": [
    {"id": "SIGN", "name": "Signing", "amount": "30000.00"},
    {"id": "M1", "name": "Design complete", "amount": "120000.00"},
    {"id": "ACCEPT", "name": "Final acceptance", "amount": "150000.00", "requires_acceptance": True}]}


def _lines(invoice: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(line["kind"], line["net_amount"], line["tax_amount"], line["gross_amount"]) for line in invoice["lines"]]


def test_time_and_materials_bills_unbilled_work_up_to_the_period_end(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "UK01")
    time_1 = erp.transaction(contract, quantity="7.5", rate="200.00", date="2026-03-10")
    time_2 = erp.transaction(contract, quantity="8", rate="150.00", date="2026-03-11")
    expense = erp.transaction(contract, kind="EXPENSE", quantity="1", rate="412.30", date="2026-03-12")
    april = erp.transaction(contract, quantity="1", rate="150.00", date="2026-04-02")

    run = erp.run("UK01", "2026-03-31")

    assert len(run["invoice_ids"]) == 1
    invoice = erp.get(f"/invoices/{run['invoice_ids'][0]}")
    # 1500.00 + 1200.00 + 412.30 = 3112.30 net; VAT 20 %: 300.00 + 240.00 + 82.46 = 622.46
    assert _lines(invoice) == [("TIME", "1500.00", "300.00", "1800.00"), ("TIME", "1200.00", "240.00", "1440.00"),
                               ("EXPENSE", "412.30", "82.46", "494.76")]
    assert (invoice["net_total"], invoice["tax_total"], invoice["total"]) == ("3112.30", "622.46", "3734.76")
    assert (invoice["invoice_date"], invoice["due_date"], invoice["period"]) == ("2026-03-31", "2026-04-30", "2026-03")
    assert [line["billable_transaction_id"] for line in invoice["lines"]] == [time_1["id"], time_2["id"], expense["id"]]
    assert [(line["source_system"], line["source_id"], line["source_version"]) for line in invoice["lines"]] == [
        ("psa", t["source_id"], 1) for t in (time_1, time_2, expense)]
    assert erp.get(f"/billable-transactions/{april['id']}")["status"] == "UNBILLED"
    assert erp.get(f"/billable-transactions/{time_1['id']}")["billings"] == [
        {"invoice_id": invoice["id"], "line_no": 1, "net_amount": "1500.00", "credit_memo_id": None}]
    assert run["invoiced_total"] == "3734.76"


def test_a_second_run_over_the_same_period_bills_nothing_twice(erp: ErpClient) -> None:
    contract = erp.contract()
    erp.transaction(contract, date="2026-03-10")
    erp.transaction(contract, date="2026-04-02")
    erp.run("UK01", "2026-03-31")

    again = erp.run("UK01", "2026-03-31")
    april = erp.run("UK01", "2026-04-30")

    assert (again["invoice_ids"], again["invoiced_total"]) == ([], "0.00")
    assert [line["net_amount"] for line in erp.get(f"/invoices/{april['invoice_ids'][0]}")["lines"]] == ["1200.00"]
    assert erp.balance(contract)["unbilled"] == "0.00"


def test_one_invoice_per_contract_per_run(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    first = erp.contract(customer=customer)
    second = erp.contract(customer=customer)
    for contract in (first, second, first):
        erp.transaction(contract)

    run = erp.run()

    assert [erp.get(f"/invoices/{i}")["contract_id"] for i in run["invoice_ids"]] == [first["id"], second["id"]]
    assert [e["type"] for e in erp.events("erp.invoice.")] == ["erp.invoice.posted", "erp.invoice.posted"]
    assert erp.events("erp.billing_run.")[0]["data"]["id"] == run["id"]


def test_fixed_fee_bills_completed_milestones_and_waits_for_acceptance_where_required(erp: ErpClient) -> None:
    contract = erp.contract("FIXED_FEE", "UK01", total_price="300000.00", billing_plan=FIXED_FEE_PLAN)
    base = f"/contracts/{contract['id']}/milestones"
    erp.post(f"{base}/SIGN/complete", {"date": "2026-01-05"}, status=200)
    january = erp.get(f"/invoices/{erp.run('UK01', '2026-01-31')['invoice_ids'][0]}")
    erp.post(f"{base}/M1/complete", {"date": "2026-03-20", "source_system": "psa", "source_id": "MS-000012",
                                     "source_version": 1}, status=200)
    erp.post(f"{base}/ACCEPT/complete", {"date": "2026-03-25"}, status=200)
    march = erp.get(f"/invoices/{erp.run('UK01', '2026-03-31')['invoice_ids'][0]}")
    erp.post(f"{base}/ACCEPT/accept", {"date": "2026-04-10", "source_system": "psa", "source_id": "MS-000013",
                                       "source_version": 2}, status=200)
    april = erp.get(f"/invoices/{erp.run('UK01', '2026-04-30')['invoice_ids'][0]}")

    assert _lines(january) == [("MILESTONE", "30000.00", "6000.00", "36000.00")]
    assert (january["lines"][0]["source_system"], january["lines"][0]["source_id"]) == ("crm", contract["source_id"])
    assert _lines(march) == [("MILESTONE", "120000.00", "24000.00", "144000.00")]
    assert (march["lines"][0]["milestone_id"], march["lines"][0]["source_id"]) == ("M1", "MS-000012")
    assert _lines(april) == [("MILESTONE", "150000.00", "30000.00", "180000.00")]
    assert (april["lines"][0]["source_id"], april["lines"][0]["source_version"]) == ("MS-000013", 2)
    plan = erp.get(f"/contracts/{contract['id']}")["billing_plan"]
    assert [(m["status"], m["invoice_id"]) for m in plan["milestones"]] == [
        ("BILLED", january["id"]), ("BILLED", march["id"]), ("BILLED", april["id"])]
    assert erp.run("UK01", "2026-12-31")["invoice_ids"] == []


def test_retainer_bills_each_month_in_advance(erp: ErpClient) -> None:
    contract = erp.contract("RETAINER", "DE01", total_price="30000.00", billing_plan={
        "retainer": {"monthly_fee": "10000.00", "term_months": 3, "start_date": "2026-04-01"}})

    runs = [erp.run("DE01", period_end) for period_end in ("2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31",
                                                           "2026-06-30")]

    assert [len(run["invoice_ids"]) for run in runs] == [0, 1, 1, 1, 0]
    invoices = [erp.get(f"/invoices/{run['invoice_ids'][0]}") for run in runs[1:4]]
    assert [invoice["lines"][0]["service_period"] for invoice in invoices] == ["2026-04", "2026-05", "2026-06"]
    # 10,000.00 plus German VAT 19 % = 11,900.00
    assert [_lines(invoice) for invoice in invoices] == [[("RETAINER_FEE", "10000.00", "1900.00", "11900.00")]] * 3
    assert invoices[0]["lines"][0]["description"] == "Retainer fee April 2026 (billed in advance)"
    billed = erp.get(f"/contracts/{contract['id']}")["billing_plan"]["retainer"]["billed_periods"]
    assert [b["service_period"] for b in billed] == ["2026-04", "2026-05", "2026-06"]


def test_retainer_catches_up_months_not_yet_billed_in_one_invoice(erp: ErpClient) -> None:
    erp.contract("RETAINER", "DE01", total_price="30000.00", billing_plan={
        "retainer": {"monthly_fee": "10000.00", "term_months": 3, "start_date": "2026-04-01"}})

    invoice = erp.get(f"/invoices/{erp.run('DE01', '2026-05-31')['invoice_ids'][0]}")

    assert [line["service_period"] for line in invoice["lines"]] == ["2026-04", "2026-05", "2026-06"]
    assert (invoice["net_total"], invoice["tax_total"], invoice["total"]) == ("30000.00", "5700.00", "35700.00")


def test_capped_time_and_materials_bills_up_to_the_cap_and_holds_the_excess(erp: ErpClient) -> None:
    contract = erp.contract("CAPPED_TM", "US01", billing_plan={"cap_amount": "10000.00"})
    first = erp.transaction(contract, quantity="40", rate="150.00", date="2026-03-02")
    straddling = erp.transaction(contract, quantity="30", rate="150.00", date="2026-03-09")
    over = erp.transaction(contract, quantity="10", rate="150.00", date="2026-03-16")

    run = erp.run("US01", "2026-03-31")

    invoice = erp.get(f"/invoices/{run['invoice_ids'][0]}")
    # 6000.00 in full, 4000.00 of 4500.00 up to the 10,000.00 cap; 500.00 + 1500.00 held; US services exempt
    assert _lines(invoice) == [("TIME", "6000.00", "0.00", "6000.00"), ("TIME", "4000.00", "0.00", "4000.00")]
    assert invoice["lines"][0]["tax_code"] == "US_EXEMPT"
    assert run["held"] == [{"contract_id": contract["id"], "amount": "2000.00"}]
    states = [erp.get(f"/billable-transactions/{t['id']}") for t in (first, straddling, over)]
    assert [(t["status"], t["billed_amount"], t["held_amount"]) for t in states] == [
        ("BILLED", "6000.00", "0.00"), ("HELD", "4000.00", "500.00"), ("HELD", "0.00", "1500.00")]
    assert erp.run("US01", "2026-04-30")["invoice_ids"] == []


def test_held_excess_is_written_off_or_billed_when_a_change_order_raises_the_cap(erp: ErpClient) -> None:
    contract = erp.contract("CAPPED_TM", "US01", billing_plan={"cap_amount": "10000.00"})
    erp.transaction(contract, quantity="40", rate="150.00", date="2026-03-02")
    straddling = erp.transaction(contract, quantity="30", rate="150.00", date="2026-03-09")
    over = erp.transaction(contract, quantity="10", rate="150.00", date="2026-03-16")
    erp.run("US01", "2026-03-31")

    written_off = erp.post(f"/billable-transactions/{over['id']}/write-off", {"reason": "Over the cap"}, status=200)
    erp.post(f"/contracts/{contract['id']}/versions", {
        "source_system": "crm", "source_id": "CO-1", "source_version": 2, "effective_date": "2026-04-01",
        "total_price": "10300.00", "billing_plan": {"cap_amount": "10300.00"}})
    april = erp.get(f"/invoices/{erp.run('US01', '2026-04-30')['invoice_ids'][0]}")

    assert (written_off["status"], written_off["written_off_amount"]) == ("WRITTEN_OFF", "1500.00")
    assert [(line["billable_transaction_id"], line["net_amount"]) for line in april["lines"]] == [
        (straddling["id"], "300.00")]
    balance = erp.balance(contract)
    # 12,000.00 of work = 10,300.00 billed + 200.00 still held + 1,500.00 written off
    assert (balance["billable_total"], balance["transactions_billed"], balance["held"], balance["written_off"]) == (
        "12000.00", "10300.00", "200.00", "1500.00")
    assert [e["subject"] for e in erp.events("erp.billable_transaction.written_off")] == [over["id"]]


def test_termination_with_bill_bills_unbilled_work_and_cancels_planned_milestones(erp: ErpClient) -> None:
    contract = erp.contract("FIXED_FEE", "UK01", total_price="300000.00", billing_plan=FIXED_FEE_PLAN)
    base = f"/contracts/{contract['id']}/milestones"
    erp.post(f"{base}/SIGN/complete", {"date": "2026-01-05"}, status=200)
    erp.post(f"{base}/ACCEPT/complete", {"date": "2026-03-01"}, status=200)
    erp.transaction(contract, kind="EXPENSE", quantity="1", rate="99.00", date="2026-03-02")

    terminated = erp.post(f"/contracts/{contract['id']}/terminate",
                          {"effective_date": "2026-03-10", "unbilled_rule": "BILL", "reason": "Cancelled"}, status=200)
    invoice = erp.get(f"/invoices/{erp.run('UK01', '2026-03-31')['invoice_ids'][0]}")

    assert [m["status"] for m in terminated["billing_plan"]["milestones"]] == ["COMPLETED", "CANCELLED", "COMPLETED"]
    assert [(line["kind"], line["milestone_id"], line["net_amount"]) for line in invoice["lines"]] == [
        ("MILESTONE", "SIGN", "30000.00"), ("MILESTONE", "ACCEPT", "150000.00"), ("EXPENSE", None, "99.00")]
    assert erp.events("erp.contract.terminated")[0]["data"]["status"] == "TERMINATED"


def test_termination_with_write_off_bills_nothing_more(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "UK01")
    erp.transaction(contract, date="2026-03-02")
    erp.transaction(contract, date="2026-03-03")

    erp.post(f"/contracts/{contract['id']}/terminate", {"effective_date": "2026-03-10", "unbilled_rule": "WRITE_OFF"},
             status=200)
    late = erp.transaction(contract, date="2026-03-09")

    assert erp.run("UK01", "2026-03-31")["invoice_ids"] == []
    assert late["status"] == "WRITTEN_OFF"
    balance = erp.balance(contract)
    assert (balance["billable_total"], balance["written_off"], balance["unbilled"]) == ("3600.00", "3600.00", "0.00")
    assert len(erp.events("erp.billable_transaction.written_off")) == 3
