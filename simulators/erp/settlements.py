"""Settling what stays open in receivables: customer credit applied or refunded, bad debt written off.

A credit memo against an invoice that was already paid leaves the customer in credit. Finance
either applies that credit to the customer's next open invoices (no journal entry: both documents
are already in AR, the application clears one against the other) or pays it back (Dr AR / Cr cash).
An invoice the customer will never pay is written off: Dr bad debt expense / Cr AR, revenue untouched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.errors import ApiProblem, business_error, invalid_transition
from simulators.common.store import Record
from simulators.erp.credit import open_invoices, review_credit
from simulators.erp.documents import open_amount
from simulators.erp.journals import posting_context, record_entry
from simulators.erp.ledger import is_quantized
from simulators.erp.ledger_postings import bad_debt_written_off, credit_refunded
from simulators.erp.money import ZERO, money_str, parse_date
from simulators.erp.receivables import Allocation, Payment, PaymentError, apply_payment

operations = Operations()


def _open_credit(credit_memo: Record, action: str) -> Decimal:
    """Return what is open on a credit memo, or 409 when nothing is."""
    credit = Decimal(credit_memo["open_amount"])
    if credit <= 0:
        raise ApiProblem(409, "invalid-transition", "Nothing to " + action,
                         f"Credit memo {credit_memo['id']} has no open customer credit to {action}",
                         current_status=credit_memo["status"])
    return credit


def _allocations(body: dict[str, Any], credit: Decimal, currency: str) -> list[Allocation] | None:
    """Return the allocations asked for, refusing amounts that are not cents or add up to more than the credit."""
    if "allocations" not in body:
        return None
    allocations = [Allocation(item["invoice_id"], Decimal(item["amount"])) for item in body["allocations"]]
    for index, allocation in enumerate(allocations):
        if allocation.amount <= 0 or not is_quantized(allocation.amount, currency):
            raise business_error("invalid-application", "Credit cannot be applied",
                                 f"allocation to {allocation.invoice_id} must be a positive {currency} amount in "
                                 f"cents, got {allocation.amount}", field=f"body/allocations/{index}/amount")
    asked = sum((allocation.amount for allocation in allocations), ZERO)
    if asked > credit:
        raise business_error("invalid-application", "Credit cannot be applied",
                             f"allocations total {money_str(asked)} but only {money_str(credit)} {currency} of "
                             "customer credit is open", field="body/allocations")
    return allocations


@operations("applyCreditMemo")
def apply_credit_memo(request: Request) -> Reply:
    """Apply a credit memo's open customer credit to the customer's open invoices (those named, else oldest due)."""
    body = request.body or {}
    store = request.store
    credit_memo = store.get("credit_memos", request.path["credit_memo_id"])
    request.check_if_match(credit_memo)
    credit = _open_credit(credit_memo, "apply")
    applied_on = parse_date(body["date"], "body/date") if "date" in body else request.today
    currency = credit_memo["currency"]
    allocations = _allocations(body, credit, currency)
    candidates = [invoice for invoice in open_invoices(store, {credit_memo["customer_id"]},
                                                       credit_memo["legal_entity"])
                  if invoice.currency == currency]
    if not candidates and allocations is None:
        raise ApiProblem(409, "invalid-transition", "Nothing to apply to",
                         f"Customer {credit_memo['customer_id']} has no open {currency} invoice in "
                         f"{credit_memo['legal_entity']} to apply credit memo {credit_memo['id']} to",
                         current_status=credit_memo["status"])
    try:
        credit_available = Payment(credit_memo["id"], credit_memo["customer_id"], currency, credit, applied_on)
        application = apply_payment(credit_available, candidates, ledger_currency=currency, allocations=allocations)
    except PaymentError as error:
        raise business_error("invalid-application", "Credit cannot be applied", str(error),
                             field="body/allocations") from error
    for item in application.applications:
        invoice = store.get("invoices", item.invoice_id)
        applied = Decimal(invoice["credit_applied"]) + item.applied
        store.update("invoices", invoice["id"], {
            "credit_applied": money_str(applied),
            "open_amount": open_amount(invoice, Decimal(invoice["credited_total"]), Decimal(invoice["amount_paid"]),
                                       applied)})
    used = application.applied_amount
    credit_memo = store.update("credit_memos", credit_memo["id"], {
        "applications": [*credit_memo["applications"],
                         *({"invoice_id": item.invoice_id, "applied": money_str(item.applied),
                            "applied_on": applied_on.isoformat()} for item in application.applications)],
        "open_amount": money_str(credit - used)})
    request.emit("erp.credit_memo.applied", credit_memo)
    review_credit(request, [credit_memo["customer_id"]], request.today)
    return ok(credit_memo)


@operations("refundCreditMemo")
def refund_credit_memo(request: Request) -> Reply:
    """Pay a customer back the open credit of a credit memo (all of it, or the amount asked)."""
    body = request.body or {}
    store = request.store
    credit_memo = store.get("credit_memos", request.path["credit_memo_id"])
    request.check_if_match(credit_memo)
    credit = _open_credit(credit_memo, "refund")
    amount = Decimal(body["amount"]) if "amount" in body else credit
    if amount <= 0 or amount > credit:
        raise business_error("invalid-refund", "Credit cannot be refunded",
                             f"refund of {money_str(amount)} {credit_memo['currency']}: must be above zero and at "
                             f"most the {money_str(credit)} open on {credit_memo['id']}", field="body/amount")
    refunded_on = parse_date(body["refunded_on"], "body/refunded_on") if "refunded_on" in body else request.today
    entry = credit_refunded(posting_context(store, credit_memo["legal_entity"]), credit_memo_id=credit_memo["id"],
                            refunded_on=refunded_on, customer_id=credit_memo["customer_id"], amount=amount)
    journal_entry = record_entry(request, entry, "CREDIT_REFUND", credit_memo["id"])
    credit_memo = store.update("credit_memos", credit_memo["id"], {
        "refunds": [*credit_memo["refunds"], {"amount": money_str(amount), "refunded_on": refunded_on.isoformat(),
                                              "reference": body.get("reference"),
                                              "journal_entry_id": journal_entry["id"]}],
        "refunded_amount": money_str(Decimal(credit_memo["refunded_amount"]) + amount),
        "open_amount": money_str(credit - amount)})
    request.emit("erp.credit_memo.refunded", credit_memo)
    review_credit(request, [credit_memo["customer_id"]], request.today)
    return ok(credit_memo)


@operations("writeOffInvoice")
def write_off_invoice(request: Request) -> Reply:
    """Write off an invoice's open amount as bad debt: Dr bad debt expense / Cr AR."""
    body = request.body
    store = request.store
    invoice = store.get("invoices", request.path["invoice_id"])
    request.check_if_match(invoice)
    if invoice["status"] != "POSTED":
        raise invalid_transition("invoice", invoice["id"], invoice["status"], "write off")
    amount = Decimal(invoice["open_amount"])
    if amount <= 0:
        raise ApiProblem(409, "invalid-transition", "Nothing to write off",
                         f"Invoice {invoice['id']} has nothing open to write off", current_status=invoice["status"])
    written_off_on = parse_date(body["date"], "body/date") if "date" in body else request.today
    entry = bad_debt_written_off(posting_context(store, invoice["legal_entity"]), invoice_id=invoice["id"],
                                 written_off_on=written_off_on, customer_id=invoice["customer_id"], amount=amount)
    journal_entry = record_entry(request, entry, "BAD_DEBT_WRITE_OFF", invoice["id"])
    invoice = store.update("invoices", invoice["id"], {
        "status": "WRITTEN_OFF",
        "written_off_amount": money_str(Decimal(invoice["written_off_amount"]) + amount), "open_amount": "0.00",
        "write_off": {"date": written_off_on.isoformat(), "reason": body["reason"],
                      "posting_date": journal_entry["posting_date"], "period": journal_entry["period"],
                      "journal_entry_id": journal_entry["id"]}})
    request.emit("erp.invoice.written_off", invoice)
    review_credit(request, [invoice["customer_id"]], request.today)
    return ok(invoice)
