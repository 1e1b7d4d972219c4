"""Payments: full, partial, over-payment, foreign currency, application of unapplied cash."""

from __future__ import annotations

from typing import Any

from tests.unit.erp.support import ErpClient


def _invoice(erp: ErpClient, customer: dict[str, Any], period_end: str = "2026-03-31",
             date: str = "2026-03-10") -> dict[str, Any]:
    """Bill 5 h × 200.00 + UK VAT 20 % = 1,200.00, due 30 days after the period end."""
    contract = erp.contract("TIME_AND_MATERIALS", "UK01", customer=customer)
    erp.transaction(contract, quantity="5", rate="200.00", date=date)
    invoice = erp.get(f"/invoices/{erp.run('UK01', period_end)['invoice_ids'][0]}")
    assert invoice["total"] == "1200.00"
    return invoice


def _pay(erp: ErpClient, customer: dict[str, Any], amount: str, currency: str = "GBP",
         received_on: str = "2026-04-20", **fields: Any) -> Any:
    body = {"customer_id": customer["id"], "amount": amount, "currency": currency, "received_on": received_on,
            "auto_apply": True, **fields}
    return erp.call("POST", "/payments", body)


def _lines(erp: ErpClient, journal_entry_id: str) -> list[tuple[str, str, str]]:
    entry = erp.get(f"/journal-entries/{journal_entry_id}")
    return [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]]


def test_full_payment_closes_the_invoice(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)

    payment = _pay(erp, customer, "1200.00", reference="BACS 88213").body

    assert payment["applications"] == [{"invoice_id": invoice["id"], "applied": "1200.00", "remaining": "0.00",
                                         "applied_on": "2026-04-20"}]
    assert (payment["unapplied_amount"], payment["reference"]) == ("0.00", "BACS 88213")
    assert (erp.get(f"/invoices/{invoice['id']}")["amount_paid"], erp.get(f"/invoices/{invoice['id']}")[
        "open_amount"]) == ("1200.00", "0.00")
    assert _lines(erp, payment["journal_entry_ids"][0]) == [("CASH", "1200.00", "0.00"), ("AR", "0.00", "1200.00")]
    assert [e["type"] for e in erp.events("erp.payment.")] == ["erp.payment.received", "erp.payment.applied"]


def test_partial_payment_leaves_the_rest_open(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)

    _pay(erp, customer, "500.00")

    assert erp.get(f"/invoices/{invoice['id']}")["open_amount"] == "700.00"


def test_invoices_listed_by_whether_anything_is_open_on_them(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    march = _invoice(erp, customer)
    april = _invoice(erp, customer, period_end="2026-04-30", date="2026-04-10")
    _pay(erp, customer, "1200.00", allocations=[{"invoice_id": march["id"], "amount": "1200.00"}])

    def listed(open_: str) -> list[str]:
        return [i["id"] for i in erp.get(f"/invoices?customer_id={customer['id']}&status=POSTED&open={open_}")["items"]]

    assert (listed("true"), listed("false")) == ([april["id"]], [march["id"]])
    assert erp.call("GET", "/invoices?open=perhaps").status == 400


def test_over_payment_is_kept_as_unapplied_cash_and_applied_to_the_next_invoice(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    _invoice(erp, customer)
    payment = _pay(erp, customer, "1500.00").body
    april = _invoice(erp, customer, "2026-04-30", "2026-04-10")

    applied = erp.post(f"/payments/{payment['id']}/apply", status=200)

    assert _lines(erp, payment["journal_entry_ids"][0]) == [
        ("CASH", "1500.00", "0.00"), ("AR", "0.00", "1200.00"), ("UNAPPLIED_CASH", "0.00", "300.00")]
    assert applied["unapplied_amount"] == "0.00"
    assert applied["applications"][-1]["invoice_id"] == april["id"]
    assert (applied["applications"][-1]["applied"], applied["applications"][-1]["remaining"]) == ("300.00", "900.00")
    assert _lines(erp, applied["journal_entry_ids"][1]) == [("UNAPPLIED_CASH", "300.00", "0.00"),
                                                            ("AR", "0.00", "300.00")]
    assert erp.call("POST", f"/payments/{payment['id']}/apply").status == 409


def test_payment_in_another_currency_is_converted_at_the_fx_table(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)

    payment = _pay(erp, customer, "1405.15", "EUR").body

    # 1405.15 EUR × 0.8540 = 1199.9981 -> 1200.00 GBP
    assert (payment["fx_rate"], payment["converted_amount"], payment["fx_difference"]) == ("0.8540", "1200.00", "0.00")
    assert erp.get(f"/invoices/{invoice['id']}")["open_amount"] == "0.00"


def test_a_small_fx_shortfall_closes_the_invoice_as_a_realised_loss(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)

    payment = _pay(erp, customer, "1405.00", "EUR").body

    # 1405.00 × 0.8540 = 1199.87: 0.13 short of 1,200.00, within the 1.00 tolerance
    assert (payment["converted_amount"], payment["fx_difference"]) == ("1199.87", "-0.13")
    assert erp.get(f"/invoices/{invoice['id']}")["open_amount"] == "0.00"
    assert _lines(erp, payment["journal_entry_ids"][0]) == [
        ("CASH", "1199.87", "0.00"), ("AR", "0.00", "1200.00"), ("FX_GAIN_LOSS", "0.13", "0.00")]


def test_a_later_fx_rate_applies_from_its_date(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    _invoice(erp, customer)
    erp.post("/fx-rates", {"from_currency": "EUR", "to_currency": "GBP", "effective_date": "2026-04-15",
                           "rate": "0.8600"})

    payment = _pay(erp, customer, "100.00", "EUR", received_on="2026-04-20").body

    assert (payment["fx_rate"], payment["converted_amount"]) == ("0.8600", "86.00")


def test_payment_without_an_fx_rate_for_its_date_is_refused(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    _invoice(erp, customer)

    response = _pay(erp, customer, "100.00", "EUR", received_on="2025-12-31")

    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/missing-fx-rate")
    assert erp.get("/payments")["items"] == []


def test_payment_allocated_to_another_customers_invoice_is_refused(erp: ErpClient) -> None:
    customer, other = erp.customer("UK01"), erp.customer("UK01")
    others_invoice = _invoice(erp, other)

    response = _pay(erp, customer, "100.00", allocations=[{"invoice_id": others_invoice["id"], "amount": "100.00"}])

    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/invalid-payment")


def test_allocations_pay_the_invoices_named(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    march = _invoice(erp, customer)
    april = _invoice(erp, customer, "2026-04-30", "2026-04-10")

    _pay(erp, customer, "1200.00", allocations=[{"invoice_id": april["id"], "amount": "1200.00"}])

    assert [erp.get(f"/invoices/{i['id']}")["open_amount"] for i in (march, april)] == ["1200.00", "0.00"]


def test_unallocated_payment_pays_the_oldest_due_first(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    march = _invoice(erp, customer)
    april = _invoice(erp, customer, "2026-04-30", "2026-04-10")

    _pay(erp, customer, "1500.00")

    assert [erp.get(f"/invoices/{i['id']}")["open_amount"] for i in (march, april)] == ["0.00", "900.00"]


def test_payment_without_allocations_is_received_on_account_until_applied(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)

    received = _pay(erp, customer, "1200.00", auto_apply=False).body
    applied = erp.post(f"/payments/{received['id']}/apply",
                       {"allocations": [{"invoice_id": invoice["id"], "amount": "1200.00"}]}, status=200)

    assert (received["applications"], received["unapplied_amount"]) == ([], "1200.00")
    assert _lines(erp, received["journal_entry_ids"][0]) == [("CASH", "1200.00", "0.00"),
                                                             ("UNAPPLIED_CASH", "0.00", "1200.00")]
    assert (applied["applied_amount"], applied["unapplied_amount"]) == ("1200.00", "0.00")
    assert erp.get(f"/invoices/{invoice['id']}")["open_amount"] == "0.00"
    assert [e["type"] for e in erp.events("erp.payment.")] == ["erp.payment.received", "erp.payment.applied"]


def test_reversing_a_paid_invoice_leaves_the_customer_a_credit(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    invoice = _invoice(erp, customer)
    _pay(erp, customer, "500.00")

    credit_memo = erp.post(f"/invoices/{invoice['id']}/reverse", status=200)

    # 700.00 of the 1,200.00 credit clears what was open; the 500.00 paid stays as the customer's credit
    assert (credit_memo["applied_amount"], credit_memo["open_amount"]) == ("700.00", "500.00")
    aging = erp.get(f"/receivables/aging?customer_id={customer['id']}&as_of=2026-04-30")["items"][0]
    assert (aging["total_open"], aging["balance"]) == ("-500.00", "-500.00")
