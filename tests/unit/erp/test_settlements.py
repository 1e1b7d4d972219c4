"""Settling receivables: a paid invoice's credit applied to the next invoice or refunded, bad debt written off."""

from __future__ import annotations

from typing import Any

from tests.unit.erp.support import ErpClient


def _invoice(erp: ErpClient, customer: dict[str, Any], period_end: str = "2026-03-31",
             date: str = "2026-03-10", hours: str = "5") -> dict[str, Any]:
    """Bill hours x 200.00 + UK VAT 20 % (5 h: 1,200.00)."""
    contract = erp.contract("TIME_AND_MATERIALS", "UK01", customer=customer)
    erp.transaction(contract, quantity=hours, rate="200.00", date=date)
    return erp.get(f"/invoices/{erp.run('UK01', period_end)['invoice_ids'][0]}")


def _pay(erp: ErpClient, invoice: dict[str, Any], amount: str, received_on: str = "2026-04-20") -> Any:
    return erp.post("/payments", {"customer_id": invoice["customer_id"], "amount": amount, "currency": "GBP",
                                  "received_on": received_on,
                                  "allocations": [{"invoice_id": invoice["id"], "amount": amount}]})


def _in_credit(erp: ErpClient) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A customer paid March's 1,200.00 invoice, then its time was reopened and credited in April's run:
    1,200.00 of customer credit is open."""
    customer = erp.customer("UK01")
    contract = erp.contract("TIME_AND_MATERIALS", "UK01", customer=customer)
    time = erp.transaction(contract, quantity="5", rate="200.00", date="2026-03-10")
    march = erp.get(f"/invoices/{erp.run('UK01', '2026-03-31')['invoice_ids'][0]}")
    _pay(erp, march, "1200.00")
    erp.post(f"/billable-transactions/{time['id']}/reverse", {"reason": "Reopened"}, status=200)
    credit_memo = erp.get(f"/credit-memos/{erp.run('UK01', '2026-04-30')['credit_memo_ids'][0]}")
    assert (credit_memo["applied_amount"], credit_memo["open_amount"]) == ("0.00", "1200.00")
    return customer, march, credit_memo


def _lines(erp: ErpClient, journal_entry_id: str) -> list[tuple[str, str, str]]:
    entry = erp.get(f"/journal-entries/{journal_entry_id}")
    return [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]]


def _aging(erp: ErpClient, customer: dict[str, Any], as_of: str = "2026-06-30") -> tuple[str, str]:
    items = erp.get(f"/receivables/aging?customer_id={customer['id']}&as_of={as_of}")["items"]
    return (items[0]["total_open"], items[0]["balance"]) if items else ("0.00", "0.00")


def test_customer_credit_is_applied_to_the_next_invoices_oldest_due_first(erp: ErpClient) -> None:
    customer, _, credit_memo = _in_credit(erp)
    april = _invoice(erp, customer, "2026-04-30", "2026-04-10", hours="3")  # 720.00
    may = _invoice(erp, customer, "2026-05-31", "2026-05-11", hours="4")  # 960.00
    entries_before = len(erp.get("/journal-entries?limit=500")["items"])

    applied = erp.post(f"/credit-memos/{credit_memo['id']}/apply", {"date": "2026-06-01"}, status=200)

    assert applied["applications"] == [
        {"invoice_id": april["id"], "applied": "720.00", "applied_on": "2026-06-01"},
        {"invoice_id": may["id"], "applied": "480.00", "applied_on": "2026-06-01"}]
    assert (applied["applied_amount"], applied["refunded_amount"], applied["open_amount"]) == (
        "0.00", "0.00", "0.00")
    assert [(i["credit_applied"], i["amount_paid"], i["open_amount"])
            for i in (erp.get(f"/invoices/{april['id']}"), erp.get(f"/invoices/{may['id']}"))] == [
        ("720.00", "0.00", "0.00"), ("480.00", "0.00", "480.00")]
    # both documents were in AR already: clearing one against the other posts nothing
    assert len(erp.get("/journal-entries?limit=500")["items"]) == entries_before
    assert _aging(erp, customer) == ("480.00", "480.00")
    assert [event["type"] for event in erp.events("erp.credit_memo.applied")] == ["erp.credit_memo.applied"]


def test_credit_is_applied_as_allocated_and_a_payment_then_settles_the_rest(erp: ErpClient) -> None:
    customer, _, credit_memo = _in_credit(erp)
    april = _invoice(erp, customer, "2026-04-30", "2026-04-10", hours="10")  # 2,400.00

    applied = erp.post(f"/credit-memos/{credit_memo['id']}/apply",
                       {"allocations": [{"invoice_id": april["id"], "amount": "1000.00"}]}, status=200)
    _pay(erp, april, "1400.00", "2026-06-02")

    assert applied["open_amount"] == "200.00"
    invoice = erp.get(f"/invoices/{april['id']}")
    assert (invoice["credit_applied"], invoice["amount_paid"], invoice["open_amount"]) == ("1000.00", "1400.00",
                                                                                          "0.00")
    assert _aging(erp, customer) == ("-200.00", "-200.00")


def test_applying_credit_that_is_not_there_or_to_nothing_open_is_refused_clearly(erp: ErpClient) -> None:
    customer, march, credit_memo = _in_credit(erp)
    other = _invoice(erp, erp.customer("UK01"), "2026-04-30", "2026-04-10")

    nothing_open = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply")
    april = _invoice(erp, customer, "2026-04-30", "2026-04-11", hours="1")  # 240.00
    wrong_customer = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply",
                              {"allocations": [{"invoice_id": other["id"], "amount": "10.00"}]})
    too_much = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply",
                        {"allocations": [{"invoice_id": april["id"], "amount": "300.00"}]})
    over_credit = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply",
                           {"allocations": [{"invoice_id": april["id"], "amount": "1300.00"}]})
    zero = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply",
                    {"allocations": [{"invoice_id": april["id"], "amount": "0.00"}]})
    paid = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply",
                    {"allocations": [{"invoice_id": march["id"], "amount": "10.00"}]})
    erp.post(f"/credit-memos/{credit_memo['id']}/apply", status=200)  # 240.00 of it
    erp.post(f"/credit-memos/{credit_memo['id']}/refund", status=200)  # the 960.00 left
    used_up = erp.call("POST", f"/credit-memos/{credit_memo['id']}/apply")

    assert nothing_open.status == 409 and "no open GBP invoice" in nothing_open.body["detail"]
    assert all(r.status == 422 and r.body["type"].endswith("/invalid-application")
               for r in (wrong_customer, too_much, over_credit, zero, paid)), [
        (r.status, r.body) for r in (wrong_customer, too_much, over_credit, zero, paid)]
    assert "exceeds its open amount 240.00" in too_much.body["detail"]
    assert "only 1200.00 GBP of customer credit is open" in over_credit.body["detail"]
    assert used_up.status == 409 and "no open customer credit" in used_up.body["detail"]
    assert erp.get(f"/invoices/{other['id']}")["open_amount"] == "1200.00"


def test_customer_credit_is_refunded_with_cash_going_out(erp: ErpClient) -> None:
    customer, _, credit_memo = _in_credit(erp)

    part = erp.post(f"/credit-memos/{credit_memo['id']}/refund",
                    {"amount": "200.00", "refunded_on": "2026-05-15", "reference": "BACS refund 1"}, status=200)
    rest = erp.post(f"/credit-memos/{credit_memo['id']}/refund", status=200)
    again = erp.call("POST", f"/credit-memos/{credit_memo['id']}/refund")

    assert (part["refunded_amount"], part["open_amount"]) == ("200.00", "1000.00")
    assert (rest["refunded_amount"], rest["open_amount"]) == ("1200.00", "0.00")
    assert [(r["amount"], r["reference"]) for r in rest["refunds"]] == [("200.00", "BACS refund 1"), ("1000.00", None)]
    entry = erp.get(f"/journal-entries/{part['refunds'][0]['journal_entry_id']}")
    assert (entry["source_type"], entry["source_id"], entry["original_date"]) == (
        "CREDIT_REFUND", credit_memo["id"], "2026-05-15")
    assert _lines(erp, entry["id"]) == [("AR", "200.00", "0.00"), ("CASH", "0.00", "200.00")]
    assert again.status == 409
    assert _aging(erp, customer) == ("0.00", "0.00")
    assert len(erp.events("erp.credit_memo.refunded")) == 2


def test_refunding_more_than_is_open_is_refused(erp: ErpClient) -> None:
    _, _, credit_memo = _in_credit(erp)

    too_much = erp.call("POST", f"/credit-memos/{credit_memo['id']}/refund", {"amount": "1200.01"})
    zero = erp.call("POST", f"/credit-memos/{credit_memo['id']}/refund", {"amount": "0"})

    assert (too_much.status, zero.status) == (422, 422)
    assert "at most the 1200.00 open" in too_much.body["detail"]
    assert erp.get(f"/credit-memos/{credit_memo['id']}")["open_amount"] == "1200.00"


def test_an_unpaid_invoice_is_written_off_as_bad_debt(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)
    _pay(erp, invoice, "200.00")

    written_off = erp.post(f"/invoices/{invoice['id']}/write-off",
                           {"reason": "Uncollectible: 180 days past due", "date": "2026-10-28"}, status=200)

    assert (written_off["status"], written_off["written_off_amount"], written_off["open_amount"]) == (
        "WRITTEN_OFF", "1000.00", "0.00")
    assert (written_off["amount_paid"], written_off["credited_total"]) == ("200.00", "0.00")
    write_off = written_off["write_off"]
    assert (write_off["date"], write_off["reason"], write_off["period"]) == (
        "2026-10-28", "Uncollectible: 180 days past due", "2026-10")
    entry = erp.get(f"/journal-entries/{write_off['journal_entry_id']}")
    assert (entry["source_type"], entry["source_id"]) == ("BAD_DEBT_WRITE_OFF", invoice["id"])
    assert _lines(erp, entry["id"]) == [("BAD_DEBT", "1000.00", "0.00"), ("AR", "0.00", "1000.00")]
    assert _aging(erp, customer, "2026-10-30") == ("0.00", "0.00")
    assert [e["data"]["id"] for e in erp.events("erp.invoice.written_off")] == [invoice["id"]]
    rows = {row["account"]: row for row in erp.get("/ledgers/UK01/trial-balance")["rows"]}
    assert (rows["BAD_DEBT"]["account_number"], rows["BAD_DEBT"]["balance"]) == ("6100", "1000.00")


def test_a_write_off_in_a_closed_period_posts_in_the_next_open_one(erp: ErpClient) -> None:
    invoice = _invoice(erp, erp.customer("UK01"))
    for period in ("2026-03", "2026-04"):
        erp.post(f"/periods/{period}/close", {"legal_entity": "UK01"}, status=200)

    written_off = erp.post(f"/invoices/{invoice['id']}/write-off", {"reason": "Customer insolvent",
                                                                    "date": "2026-04-30"}, status=200)

    assert (written_off["write_off"]["posting_date"], written_off["write_off"]["period"]) == ("2026-05-01", "2026-05")


def test_only_an_open_posted_invoice_can_be_written_off_and_nothing_is_paid_after(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    paid = _invoice(erp, customer)
    _pay(erp, paid, "1200.00")
    reversed_ = _invoice(erp, customer, "2026-04-30", "2026-04-10")
    erp.post(f"/invoices/{reversed_['id']}/reverse", status=200)
    bad = _invoice(erp, customer, "2026-05-31", "2026-05-10")
    erp.post(f"/invoices/{bad['id']}/write-off", {"reason": "Uncollectible"}, status=200)

    settled = erp.call("POST", f"/invoices/{paid['id']}/write-off", {"reason": "Uncollectible"})
    credited = erp.call("POST", f"/invoices/{reversed_['id']}/write-off", {"reason": "Uncollectible"})
    twice = erp.call("POST", f"/invoices/{bad['id']}/write-off", {"reason": "Uncollectible"})
    no_reason = erp.call("POST", f"/invoices/{bad['id']}/write-off", {})
    late_payment = erp.call("POST", "/payments", {
        "customer_id": customer["id"], "amount": "10.00", "currency": "GBP", "received_on": "2026-07-01",
        "allocations": [{"invoice_id": bad["id"], "amount": "10.00"}]})
    reverse = erp.call("POST", f"/invoices/{bad['id']}/reverse")

    assert (settled.status, credited.status, twice.status, no_reason.status) == (409, 409, 409, 400)
    assert "nothing open" in settled.body["detail"]
    assert twice.body["current_status"] == "WRITTEN_OFF"
    assert (late_payment.status, reverse.status) == (422, 409)


def test_a_repeated_write_off_with_its_idempotency_key_is_replayed_not_posted_twice(erp: ErpClient) -> None:
    invoice = _invoice(erp, erp.customer("UK01"))
    key = {"Idempotency-Key": "write-off-1"}

    first = erp.call("POST", f"/invoices/{invoice['id']}/write-off", {"reason": "Uncollectible"}, key)
    second = erp.call("POST", f"/invoices/{invoice['id']}/write-off", {"reason": "Uncollectible"}, key)

    assert (first.status, second.status) == (200, 200)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.body == second.body
    assert len([e for e in erp.get("/journal-entries?limit=500")["items"]
                if e["source_type"] == "BAD_DEBT_WRITE_OFF"]) == 1


def test_settlements_of_another_customers_documents_do_not_exist(erp: ErpClient) -> None:
    missing = [erp.call("POST", path, body) for path, body in (
        ("/credit-memos/CM-999999/apply", None), ("/credit-memos/CM-999999/refund", None),
        ("/invoices/INV-999999/write-off", {"reason": "Uncollectible"}))]

    assert [response.status for response in missing] == [404, 404, 404]
