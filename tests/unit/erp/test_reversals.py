"""Reversals before and after invoicing, whole-invoice credit and rebill; posted invoices never change."""

from __future__ import annotations

from typing import Any

from tests.unit.erp.support import ErpClient

FIXED = ("lines", "net_total", "tax_total", "total", "invoice_date", "customer_id", "contract_id")


def _billed_march(erp: ErpClient) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    contract = erp.contract("TIME_AND_MATERIALS", "UK01")
    time_a = erp.transaction(contract, quantity="7.5", rate="200.00", date="2026-03-10", source_id="TE-A")
    time_b = erp.transaction(contract, quantity="8", rate="150.00", date="2026-03-11", source_id="TE-B")
    invoice = erp.get(f"/invoices/{erp.run('UK01', '2026-03-31')['invoice_ids'][0]}")
    # 1500.00 + 1200.00 = 2700.00 net, 540.00 VAT, 3240.00 total
    assert invoice["total"] == "3240.00"
    return contract, time_a, time_b, invoice


def test_reversal_after_invoicing_is_credited_in_the_next_run_and_the_replacement_billed(erp: ErpClient) -> None:
    contract, time_a, _, invoice = _billed_march(erp)

    reversed_ = erp.post(f"/billable-transactions/{time_a['id']}/reverse", {"reason": "Reopened"}, status=200)
    replacement = erp.transaction(contract, quantity="7", rate="200.00", date="2026-03-10", source_id="TE-A",
                                  source_version=2)
    run = erp.run("UK01", "2026-04-30")

    assert reversed_["credit_pending"] is True
    credit_memo = erp.get(f"/credit-memos/{run['credit_memo_ids'][0]}")
    assert (credit_memo["invoice_id"], credit_memo["reason"]) == (invoice["id"], "TRANSACTION_REVERSED")
    assert [(line["invoice_line_no"], line["billable_transaction_id"], line["net_amount"], line["tax_amount"])
            for line in credit_memo["lines"]] == [(1, time_a["id"], "1500.00", "300.00")]
    assert (credit_memo["net_total"], credit_memo["tax_total"], credit_memo["total"]) == (
        "1500.00", "300.00", "1800.00")
    rebill = erp.get(f"/invoices/{run['invoice_ids'][0]}")
    assert [(line["billable_transaction_id"], line["source_version"], line["net_amount"])
            for line in rebill["lines"]] == [(replacement["id"], 2, "1400.00")]
    assert rebill["total"] == "1680.00"
    original = erp.get(f"/invoices/{invoice['id']}")
    assert {name: original[name] for name in FIXED} == {name: invoice[name] for name in FIXED}
    assert (original["status"], original["credited_total"], original["open_amount"]) == ("POSTED", "1800.00", "1440.00")
    after = erp.get(f"/billable-transactions/{time_a['id']}")
    assert (after["billed_amount"], after["credit_pending"]) == ("0.00", False)
    assert after["billings"][0]["credit_memo_id"] == credit_memo["id"]
    # billed net: 2700.00 - 1500.00 + 1400.00 = 2600.00 = time B + replacement
    assert erp.balance(contract)["billed_net"] == "2600.00"
    assert erp.run("UK01", "2026-04-30")["credit_memo_ids"] == []


def test_reversing_a_whole_invoice_credits_it_and_the_next_run_rebills(erp: ErpClient) -> None:
    contract, time_a, time_b, invoice = _billed_march(erp)

    response = erp.call("POST", f"/invoices/{invoice['id']}/reverse", {"reason": "Wrong PO number",
                                                                         "date": "2026-04-03"})
    rebill = erp.run("UK01", "2026-04-30")

    assert response.status == 200
    credit_memo = response.body
    assert response.headers["Location"] == f"/credit-memos/{credit_memo['id']}"
    assert (credit_memo["reason"], credit_memo["memo"], credit_memo["credit_date"]) == (
        "INVOICE_REVERSED", "Wrong PO number", "2026-04-03")
    assert [line["invoice_line_no"] for line in credit_memo["lines"]] == [1, 2]
    assert credit_memo["total"] == "3240.00"
    original = erp.get(f"/invoices/{invoice['id']}")
    assert (original["status"], original["reversed_by"], original["open_amount"]) == (
        "REVERSED", credit_memo["id"], "0.00")
    assert {name: original[name] for name in FIXED} == {name: invoice[name] for name in FIXED}
    new_invoice = erp.get(f"/invoices/{rebill['invoice_ids'][0]}")
    assert [line["billable_transaction_id"] for line in new_invoice["lines"]] == [time_a["id"], time_b["id"]]
    assert new_invoice["total"] == "3240.00"
    assert erp.balance(contract)["billed_net"] == "2700.00"
    assert [e["type"] for e in erp.events("erp.invoice.")] == [
        "erp.invoice.posted", "erp.invoice.reversed", "erp.invoice.posted"]
    assert erp.events("erp.credit_memo.")[0]["data"]["id"] == credit_memo["id"]


def test_a_reversed_invoice_cannot_be_reversed_again(erp: ErpClient) -> None:
    _, _, _, invoice = _billed_march(erp)
    erp.post(f"/invoices/{invoice['id']}/reverse", status=200)

    again = erp.call("POST", f"/invoices/{invoice['id']}/reverse")

    assert (again.status, again.body["type"]) == (409, "https://firmsim.dev/problems/invalid-transition")
    assert len(erp.credit_memos()) == 1


def test_reversing_an_invoice_credits_only_lines_not_already_credited(erp: ErpClient) -> None:
    contract, time_a, time_b, invoice = _billed_march(erp)
    erp.post(f"/billable-transactions/{time_a['id']}/reverse", status=200)
    erp.run("UK01", "2026-04-30")

    credit_memo = erp.post(f"/invoices/{invoice['id']}/reverse", status=200)
    rebill = erp.run("UK01", "2026-04-30")

    assert [(line["invoice_line_no"], line["net_amount"]) for line in credit_memo["lines"]] == [(2, "1200.00")]
    assert erp.get(f"/invoices/{invoice['id']}")["credited_total"] == "3240.00"
    assert [line["billable_transaction_id"] for line in erp.get(f"/invoices/{rebill['invoice_ids'][0]}")["lines"]] == [
        time_b["id"]]
    assert erp.get(f"/billable-transactions/{time_a['id']}")["status"] == "REVERSED"
    assert erp.balance(contract)["billed_net"] == "1200.00"


def test_reversing_an_invoice_whose_lines_were_all_credited_is_refused(erp: ErpClient) -> None:
    contract = erp.contract()
    only = erp.transaction(contract)
    invoice = erp.run()["invoice_ids"][0]
    erp.post(f"/billable-transactions/{only['id']}/reverse", status=200)
    erp.run("UK01", "2026-04-30")

    assert erp.call("POST", f"/invoices/{invoice}/reverse").status == 409


def test_reversing_a_milestone_invoice_makes_the_milestone_billable_again(erp: ErpClient) -> None:
    contract = erp.contract("FIXED_FEE", total_price="1000.00", billing_plan={
        "eac": "800",
        "milestones": [{"id": "GO", "name": "Go-live", "amount": "1000.00", "requires_acceptance": True}]})
    erp.post(f"/contracts/{contract['id']}/milestones/GO/complete", {"date": "2026-03-01"}, status=200)
    erp.post(f"/contracts/{contract['id']}/milestones/GO/accept", {"date": "2026-03-05"}, status=200)
    invoice = erp.run()["invoice_ids"][0]

    erp.post(f"/invoices/{invoice}/reverse", status=200)
    milestone = erp.get(f"/contracts/{contract['id']}")["billing_plan"]["milestones"][0]
    rebill = erp.run()

    assert (milestone["status"], milestone["invoice_id"]) == ("ACCEPTED", None)
    assert [line["milestone_id"] for line in erp.get(f"/invoices/{rebill['invoice_ids'][0]}")["lines"]] == ["GO"]


def test_reversing_a_retainer_invoice_rebills_the_month(erp: ErpClient) -> None:
    erp.contract("RETAINER", "UK01", total_price="5000.00", billing_plan={
        "retainer": {"monthly_fee": "5000.00", "term_months": 1, "start_date": "2026-04-01"}})
    invoice = erp.run()["invoice_ids"][0]

    erp.post(f"/invoices/{invoice}/reverse", status=200)
    rebill = erp.get(f"/invoices/{erp.run()['invoice_ids'][0]}")

    assert [(line["service_period"], line["gross_amount"]) for line in rebill["lines"]] == [("2026-04", "6000.00")]


def test_posted_invoices_cannot_be_edited_or_deleted(erp: ErpClient) -> None:
    _, _, _, invoice = _billed_march(erp)

    statuses = [erp.call(method, f"/invoices/{invoice['id']}", {"total": "1.00"}).status
                for method in ("PUT", "PATCH", "DELETE")]

    assert statuses == [405, 405, 405]
    assert erp.get(f"/invoices/{invoice['id']}") == invoice
