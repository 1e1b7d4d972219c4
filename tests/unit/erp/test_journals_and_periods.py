"""The general ledger: balanced entries for every financial event, trial balance, periods and close."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.erp.support import ErpClient


def _scenario(erp: ErpClient) -> dict[str, str]:
    """Bill, credit, pay and recognize in UK01; return the ids of what was posted."""
    customer = erp.customer("UK01")
    contract = erp.contract(customer=customer)
    first = erp.transaction(contract, quantity="5", rate="200.00", date="2026-03-10")
    erp.transaction(contract, quantity="2", rate="200.00", date="2026-03-11")
    erp.post("/revenue-runs", {"legal_entity": "UK01", "period": "2026-03"})
    invoice = erp.run("UK01", "2026-03-31")["invoice_ids"][0]
    erp.post(f"/billable-transactions/{first['id']}/reverse", status=200)
    credit_memo = erp.run("UK01", "2026-04-30")["credit_memo_ids"][0]
    erp.post("/payments", {"customer_id": customer["id"], "amount": "500.00", "currency": "GBP",
                           "received_on": "2026-04-20", "auto_apply": True})
    erp.post("/revenue-runs", {"legal_entity": "UK01", "period": "2026-04"})
    return {"invoice": invoice, "credit_memo": credit_memo, "contract": contract["id"]}


def test_every_journal_entry_balances_and_names_its_source(erp: ErpClient) -> None:
    _scenario(erp)

    entries = erp.get("/journal-entries?limit=500")["items"]

    assert [e["source_type"] for e in entries] == ["REVENUE_RUN", "INVOICE", "CREDIT_MEMO", "PAYMENT", "REVENUE_RUN"]
    for entry in entries:
        debits = sum(Decimal(line["debit"]) for line in entry["lines"])
        credits = sum(Decimal(line["credit"]) for line in entry["lines"])
        assert debits == credits == Decimal(entry["total_debit"]) == Decimal(entry["total_credit"])
        if entry["source_type"] != "PAYMENT":
            assert entry["source_refs"][0]["system"] == "crm"


def test_trial_balance_ties_out_to_the_documents(erp: ErpClient) -> None:
    _scenario(erp)

    balance = {row["account"]: row["balance"] for row in erp.get("/ledgers/UK01/trial-balance")["rows"]}

    # revenue 1,400.00 in March, less the 1,000.00 reversed in April = 400.00;
    # AR: invoice 1,680.00 - credit 1,200.00 - 480.00 of the 500.00 paid = 0; 20.00 over-paid is unapplied cash
    assert balance["REVENUE"] == "-400.00"
    assert (balance["AR"], balance["UNAPPLIED_CASH"]) == ("0.00", "-20.00")
    assert balance["CASH"] == "500.00"
    assert balance["TAX_PAYABLE"] == "-80.00"
    assert sum(Decimal(amount) for amount in balance.values()) == 0


def test_invoice_entry_moves_unbilled_receivable_to_receivables_with_tax(erp: ErpClient) -> None:
    ids = _scenario(erp)

    entry = erp.get(f"/journal-entries?source_type=INVOICE&source_id={ids['invoice']}")["items"][0]

    # 1,400.00 recognized in March and unbilled; the invoice: Dr AR 1,680.00 / Cr unbilled AR 1,400.00 / Cr VAT 280.00
    assert [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]] == [
        ("AR", "1680.00", "0.00"), ("UNBILLED_AR", "0.00", "1400.00"), ("TAX_PAYABLE", "0.00", "280.00")]


def test_closing_a_period_moves_later_postings_dated_in_it_to_the_next_open_period(erp: ErpClient) -> None:
    contract = erp.contract()
    erp.transaction(contract, date="2026-03-10")

    closed = erp.post("/periods/2026-03/close", {"legal_entity": "UK01"}, status=200)
    late = erp.transaction(contract, date="2026-03-20")
    invoice = erp.get(f"/invoices/{erp.run('UK01', '2026-03-31')['invoice_ids'][0]}")

    assert (closed["closed_through"], closed["first_open_period"]) == ("2026-03", "2026-04")
    assert (late["posting_period"], late["posting_note"]) == (
        "2026-04", "original date 2026-03-20 falls in closed period 2026-03; posted on 2026-04-01 in period 2026-04")
    assert (invoice["invoice_date"], invoice["posting_date"], invoice["period"]) == ("2026-03-31", "2026-04-01",
                                                                                      "2026-04")
    assert invoice["posting_note"] is not None
    entry = erp.get(f"/journal-entries/{invoice['journal_entry_id']}")
    assert (entry["original_date"], entry["period"], entry["redirected"]) == ("2026-03-31", "2026-04", True)
    assert "closed period 2026-03" in entry["memo"]
    assert erp.events("erp.period.")[0]["data"]["closed_through"] == "2026-03"


def test_periods_close_in_order_and_only_the_last_reopens(erp: ErpClient) -> None:
    erp.post("/periods/2026-03/close", {"legal_entity": "DE01"}, status=200)

    out_of_order = erp.call("POST", "/periods/2026-05/close", {"legal_entity": "DE01"})
    again = erp.call("POST", "/periods/2026-03/close", {"legal_entity": "DE01"})
    erp.post("/periods/2026-04/close", {"legal_entity": "DE01"}, status=200)
    not_last = erp.call("POST", "/periods/2026-03/reopen", {"legal_entity": "DE01"})
    reopened = erp.post("/periods/2026-04/reopen", {"legal_entity": "DE01"}, status=200)

    assert (out_of_order.status, again.status, not_last.status) == (409, 409, 409)
    assert reopened["closed_through"] == "2026-03"
    ledgers = {ledger["id"]: ledger["closed_through"] for ledger in erp.get("/ledgers")["items"]}
    assert ledgers == {"DE01": "2026-03", "UK01": None, "US01": None}


def test_trial_balance_through_a_period_leaves_later_postings_out(erp: ErpClient) -> None:
    _scenario(erp)

    march = erp.get("/ledgers/UK01/trial-balance?through_period=2026-03")

    assert {row["account"]: row["balance"] for row in march["rows"]} == {
        "AR": "1680.00", "UNBILLED_AR": "0.00", "TAX_PAYABLE": "-280.00", "REVENUE": "-1400.00"}
    assert march["total_debit"] == march["total_credit"]


def test_a_document_of_zero_value_posts_no_journal_entry(erp: ErpClient) -> None:
    contract = erp.contract()
    erp.transaction(contract, quantity="0", rate="150.00")

    invoice = erp.get(f"/invoices/{erp.run()['invoice_ids'][0]}")

    assert (invoice["total"], invoice["journal_entry_id"]) == ("0.00", None)
    assert erp.get("/journal-entries")["items"] == []


def test_a_payment_worth_nothing_in_the_ledger_currency_is_refused(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    erp.post("/fx-rates", {"from_currency": "EUR", "to_currency": "GBP", "effective_date": "2026-03-01",
                           "rate": "0.001"})

    response = erp.call("POST", "/payments", {"customer_id": customer["id"], "amount": "1.00", "currency": "EUR",
                                              "received_on": "2026-03-02"})

    # 1.00 EUR × 0.001 = 0.001 -> 0.00 GBP
    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/invalid-payment")


def test_a_date_posts_to_its_own_period_again_once_the_period_is_reopened(erp: ErpClient) -> None:
    contract = erp.contract()
    before = erp.transaction(contract, date="2026-03-20")
    erp.post("/periods/2026-03/close", {"legal_entity": "UK01"}, status=200)
    while_closed = erp.transaction(contract, date="2026-03-20")
    erp.post("/periods/2026-03/reopen", {"legal_entity": "UK01"}, status=200)
    after = erp.transaction(contract, date="2026-03-20")

    assert [t["posting_period"] for t in (before, while_closed, after)] == ["2026-03", "2026-04", "2026-03"]
    assert [t["posting_note"] is None for t in (before, while_closed, after)] == [True, False, True]
