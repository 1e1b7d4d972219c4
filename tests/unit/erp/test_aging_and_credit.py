"""The aging report and the credit-hold rule."""

from __future__ import annotations

from typing import Any

from tests.unit.erp.support import ErpClient


def _bill(erp: ErpClient, contract: dict[str, Any], period_end: str, work_date: str) -> dict[str, Any]:
    """Bill 5 h × 200.00 + VAT 20 % = 1,200.00, due 30 days after the period end."""
    erp.transaction(contract, quantity="5", rate="200.00", date=work_date)
    return erp.get(f"/invoices/{erp.run('UK01', period_end)['invoice_ids'][0]}")


def test_aging_buckets_open_invoices_by_days_past_due(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    contract = erp.contract(customer=customer)
    for period_end, work_date in (("2026-03-31", "2026-03-10"), ("2026-04-30", "2026-04-10"),
                                  ("2026-05-31", "2026-05-10")):
        _bill(erp, contract, period_end, work_date)

    report = erp.get("/receivables/aging?legal_entity=UK01&as_of=2026-06-15")

    # due 30 Apr (46 days past due), 30 May (16 days), 30 Jun (not yet due)
    assert report["items"] == [{"customer_id": customer["id"], "currency": "GBP",
                                "buckets": {"CURRENT": "1200.00", "1-30": "1200.00", "31-60": "1200.00",
                                            "61-90": "0.00", "90+": "0.00"},
                                "total_open": "3600.00", "unapplied_cash": "0.00", "balance": "3600.00"}]


def test_aging_nets_unapplied_cash_off_the_balance(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    _bill(erp, erp.contract(customer=customer), "2026-03-31", "2026-03-10")
    erp.post("/payments", {"customer_id": customer["id"], "amount": "1500.00", "currency": "GBP",
                           "received_on": "2026-04-02", "auto_apply": True})

    item = erp.get("/receivables/aging?as_of=2026-04-02")["items"][0]

    assert (item["total_open"], item["unapplied_cash"], item["balance"]) == ("0.00", "300.00", "-300.00")


def test_billing_over_the_credit_limit_sets_a_credit_hold_and_payment_releases_it(erp: ErpClient) -> None:
    customer = erp.customer("UK01", credit_limit="1000.00")
    _bill(erp, erp.contract(customer=customer), "2026-03-31", "2026-03-10")

    held = erp.get(f"/customers/{customer['id']}")
    erp.post("/payments", {"customer_id": customer["id"], "amount": "1200.00", "currency": "GBP",
                           "received_on": "2026-04-02", "auto_apply": True})
    released = erp.get(f"/customers/{customer['id']}")

    assert (held["credit_hold"], held["credit_hold_reasons"]) == (True, ["over-credit-limit"])
    assert (released["credit_hold"], released["credit_hold_reasons"]) == (False, [])
    events = erp.events("erp.customer.credit_hold")
    assert [(e["type"], e["subject"]) for e in events] == [("erp.customer.credit_hold_set", customer["id"]),
                                                           ("erp.customer.credit_hold_released", customer["id"])]


def test_an_invoice_more_than_60_days_past_due_puts_the_customer_on_hold(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    _bill(erp, erp.contract(customer=customer), "2026-03-31", "2026-03-10")

    day_60 = erp.post("/receivables/credit-review", {"as_of": "2026-06-29"}, status=200)
    day_61 = erp.post("/receivables/credit-review", {"as_of": "2026-06-30"}, status=200)

    # due 30 April: 60 days past due on 29 June, 61 on 30 June
    assert day_60["changes"] == []
    assert day_61["changes"] == [{"customer_id": customer["id"], "credit_hold": True,
                                  "reasons": ["overdue-over-60-days"], "balance": "1200.00", "credit_limit": None,
                                  "max_days_past_due": 61}]
    assert erp.get(f"/customers/{customer['id']}")["credit_hold"] is True


def test_credit_review_of_an_unknown_customer_is_refused(erp: ErpClient) -> None:
    response = erp.call("POST", "/receivables/credit-review", {"customer_id": "CUS-000404"})

    assert (response.status, response.body["type"]) == (422, "https://firmsim.dev/problems/unknown-customer")
