"""Consumer contracts of billing to cash: invoices, credit memos, payments and credit holds in the ERP
go back to the CRM opportunity and account and to the PSA project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.contract.firm import UK_ACCOUNT, UK_TM_DEAL, staffed_worker, synced_deal
from tests.contract.story import Story

DAY = 86400.0


def _approved_time(story: Story, staffing: dict[str, str], day: str) -> None:
    entry = story.act("psa", "POST", "/time-entries", {**staffing, "date": day, "hours": "8.00", "billable": True,
                                                       "notes": "Store systems review"})
    story.act("psa", "POST", f"/time-entries/{entry['id']}/submit")
    story.act("psa", "POST", f"/time-entries/{entry['id']}/approve")
    story.settle()


def _invoice(story: Story, period_end: str) -> dict[str, Any]:
    run = story.act("erp", "POST", "/billing-runs", {"legal_entity": "UK01", "period_end": period_end})
    assert run["invoice_ids"], run
    invoice: dict[str, Any] = story.act("erp", "GET", f"/invoices/{run['invoice_ids'][0]}")
    return invoice


def test_invoices_credit_memos_payments_and_credit_holds_reach_the_crm_and_the_psa(pact_dir: Path) -> None:
    story = Story(pact_dir)
    deal = synced_deal(story, UK_ACCOUNT, UK_TM_DEAL)
    story.act("psa", "POST", f"/projects/{deal['psa_project_id']}/activate", {"effective_date": "2026-03-02"})
    worker = staffed_worker(story, deal["psa_project_id"])
    staffing = {"resource_id": worker["id"], "project_id": deal["psa_project_id"]}
    _approved_time(story, staffing, "2026-03-03")

    march = _invoice(story, "2026-03-31")
    posted = story.capture("erp", "erp.invoice.posted", label="of a T&M deal",
                           before="a T&M deal has approved time posted to the ERP, unbilled",
                           after="the ERP just invoiced a T&M deal's approved time")
    assert {"crm setOpportunityBillingStatus 200", "psa setProjectBillingStatus 200",
            "crm setAccountArStatus 200"} <= set(posted.operations())
    story.settle()

    story.act("erp", "POST", "/payments", {"customer_id": march["customer_id"], "amount": march["total"],
                                           "currency": "GBP", "received_on": "2026-04-10", "reference": "BACS 88213",
                                           "allocations": [{"invoice_id": march["id"], "amount": march["total"]}]})
    for event_type in ("erp.payment.received", "erp.payment.applied"):
        story.capture("erp", event_type, label="paying a T&M deal's invoice in full",
                      before="a T&M deal's invoice is open", after="the customer just paid a T&M deal's invoice")
    story.settle()

    _approved_time(story, staffing, "2026-04-06")
    april = _invoice(story, "2026-04-30")
    story.settle()
    story.act("erp", "POST", f"/invoices/{april['id']}/reverse", {"reason": "Wrong purchase order",
                                                                   "date": "2026-05-04"})
    for event_type in ("erp.invoice.reversed", "erp.credit_memo.posted"):
        story.capture("erp", event_type, label="of a T&M deal's invoice",
                      before="a T&M deal's second invoice is open",
                      after="finance just reversed a T&M deal's invoice with a credit memo")
    story.settle()

    _approved_time(story, staffing, "2026-05-04")
    may = _invoice(story, "2026-05-31")
    story.settle()
    story.act("erp", "POST", "/receivables/credit-review", {"as_of": "2026-09-30"})
    hold = story.capture("erp", "erp.customer.credit_hold_set", label="for an invoice overdue by 90 days",
                         before="a T&M deal's customer has an invoice open since May",
                         after="the ERP just put a customer with an overdue invoice on credit hold")
    assert "crm setAccountArStatus 200" in hold.operations()
    story.settle()

    story.act("erp", "POST", "/payments", {"customer_id": may["customer_id"], "amount": may["total"],
                                           "currency": "GBP", "received_on": "2026-10-01", "reference": "BACS 90411",
                                           "allocations": [{"invoice_id": may["id"], "amount": may["total"]}]})
    story.capture("erp", "erp.customer.credit_hold_released", label="once the overdue invoice is paid",
                  before="a customer is on credit hold for an overdue invoice",
                  after="the customer just paid its overdue invoice and the ERP released the credit hold")
    story.settle()

    story.act("erp", "POST", f"/invoices/{may['id']}/reverse", {"reason": "Wrong purchase order", "date": "2026-10-05"})
    story.settle()
    _approved_time(story, staffing, "2026-05-05")
    october = _invoice(story, "2026-10-31")
    story.settle()
    reversed_may = story.act("erp", "GET", f"/invoices/{may['id']}")
    credit_memo = story.act("erp", "GET", f"/credit-memos/{reversed_may['reversed_by']}")
    story.act("erp", "POST", f"/credit-memos/{credit_memo['id']}/apply",
              {"allocations": [{"invoice_id": october["id"], "amount": "100.00"}], "date": "2026-11-02"})
    story.capture("erp", "erp.credit_memo.applied", label="to the customer's next invoice",
                  before="a customer is in credit: its paid invoice was reversed",
                  after="finance just applied part of the customer's credit to its next invoice")
    story.settle()
    story.act("erp", "POST", f"/credit-memos/{credit_memo['id']}/refund", {"refunded_on": "2026-11-03"})
    story.capture("erp", "erp.credit_memo.refunded", label="of the credit left",
                  before="a customer has credit left after part was applied",
                  after="finance just paid the customer's credit back")
    story.settle()
    story.act("erp", "POST", f"/invoices/{october['id']}/write-off", {"reason": "Customer insolvent"})
    written_off = story.capture("erp", "erp.invoice.written_off", label="as bad debt",
                                before="a customer has an invoice it will never pay",
                                after="finance just wrote the invoice off as bad debt")
    assert "crm setAccountArStatus 200" in written_off.operations()
    story.settle()

    division = story.act("crm", "POST", "/accounts", {**UK_ACCOUNT, "name": "Albion Retail — Outlets",
                                                      "parent_account_id": deal["account_id"]})
    story.act("crm", "PUT", f"/accounts/{division['id']}/erp-link", {"erp_customer_number": may["customer_id"]})
    linked = story.capture("crm", "crm.account.erp_linked", label="of a division billed as its parent's customer",
                           before="a customer has settled its invoices; its division's account is not linked",
                           after="the division's account was just linked to its parent's ERP customer")
    assert "crm setAccountArStatus 200" in linked.operations()
    story.settle()
    shown = story.act("crm", "GET", f"/accounts/{division['id']}")
    assert (shown["ar_status"]["currency"], shown["credit_hold"]) == ("GBP", False)
