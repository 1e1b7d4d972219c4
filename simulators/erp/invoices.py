"""Invoices and credit memos as records, and whole-invoice reversal (credit and rebill)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.errors import ApiProblem, invalid_transition
from simulators.common.store import Record
from simulators.erp.credit import review_credit
from simulators.erp.documents import post_credit_memo
from simulators.erp.money import parse_date
from simulators.erp.runs import credit_transaction_line

operations = Operations()


def _filtered(request: Request, collection: str, names: tuple[str, ...],
              also: Callable[[Record], bool] | None = None) -> Reply:
    filters = {name: request.query[name] for name in names if name in request.query}
    records = (request.store.where_equal(collection, "customer_id", filters["customer_id"])
               if "customer_id" in filters else request.store.all(collection))  # a customer's: its index
    return request.page([record for record in records
                         if all(record[name] == value for name, value in filters.items())
                         and (also is None or also(record))])


@operations("listInvoices")
def list_invoices(request: Request) -> Reply:
    """List invoices by customer, contract, entity, run, status or whether anything is open on them."""
    wanted_open = request.query.get("open")
    if wanted_open is None:
        return _filtered(request, "invoices", ("customer_id", "contract_id", "legal_entity", "billing_run_id",
                                               "status"))
    return _filtered(request, "invoices", ("customer_id", "contract_id", "legal_entity", "billing_run_id", "status"),
                     lambda invoice: (invoice["open_amount"] != "0.00") is wanted_open)


@operations("getInvoice")
def get_invoice(request: Request) -> Reply:
    """Read an invoice."""
    return ok(request.store.get("invoices", request.path["invoice_id"]))


@operations("listCreditMemos")
def list_credit_memos(request: Request) -> Reply:
    """List credit memos by customer, contract, original invoice or entity."""
    return _filtered(request, "credit_memos", ("customer_id", "contract_id", "invoice_id", "legal_entity"))


@operations("getCreditMemo")
def get_credit_memo(request: Request) -> Reply:
    """Read a credit memo."""
    return ok(request.store.get("credit_memos", request.path["credit_memo_id"]))


def _credited_lines(request: Request, invoice: Record) -> set[int]:
    """Return the invoice's transaction lines already credited by a transaction reversal."""
    credited = set()
    for line in invoice["lines"]:
        transaction_id = line["billable_transaction_id"]
        if transaction_id is None:
            continue
        transaction = request.store.get("billable_transactions", transaction_id)
        for entry in transaction["billings"]:
            if (entry["invoice_id"] == invoice["id"] and entry["line_no"] == line["line_no"]
                    and entry["credit_memo_id"] is not None):
                credited.add(line["line_no"])
    return credited


def _restore_plan(request: Request, invoice: Record) -> None:
    """Make the invoice's milestones and retainer months billable again."""
    contract = request.store.get("contracts", invoice["contract_id"])
    plan = contract["billing_plan"]
    milestones = [{**m, "status": "ACCEPTED" if m["accepted_on"] else "COMPLETED", "invoice_id": None}
                  if m["invoice_id"] == invoice["id"] else m for m in plan["milestones"]]
    retainer: dict[str, Any] | None = plan["retainer"]
    if retainer is not None:
        retainer = {**retainer, "billed_periods": [billing for billing in retainer["billed_periods"]
                                                   if billing["invoice_id"] != invoice["id"]]}
    if milestones != plan["milestones"] or retainer != plan["retainer"]:
        request.store.update("contracts", contract["id"],
                             {"billing_plan": {**plan, "milestones": milestones, "retainer": retainer}})


@operations("reverseInvoice")
def reverse_invoice(request: Request) -> Reply:
    """Credit what is left of an invoice and return its work to unbilled for the next run."""
    body = request.body or {}
    invoice = request.store.get("invoices", request.path["invoice_id"])
    request.check_if_match(invoice)
    if invoice["status"] != "POSTED":
        raise invalid_transition("invoice", invoice["id"], invoice["status"], "reverse")
    credit_date = parse_date(body["date"], "body/date") if "date" in body else request.today
    already = _credited_lines(request, invoice)
    open_lines = [line["line_no"] for line in invoice["lines"] if line["line_no"] not in already]
    if not open_lines:
        raise ApiProblem(409, "invalid-transition", "Transition not allowed",
                         f"Every line of invoice {invoice['id']} is already credited", current_status=invoice["status"])
    credit_memo, invoice = post_credit_memo(request, invoice, open_lines, "INVOICE_REVERSED", body.get("reason"),
                                            None, credit_date)
    for line in invoice["lines"]:
        if line["line_no"] in open_lines and line["billable_transaction_id"] is not None:
            credit_transaction_line(request, line["billable_transaction_id"], invoice["id"], line["line_no"],
                                    credit_memo["id"])
    _restore_plan(request, invoice)
    invoice = request.store.update("invoices", invoice["id"], {"status": "REVERSED", "reversed_by": credit_memo["id"]})
    request.emit("erp.invoice.reversed", invoice)
    review_credit(request, [invoice["customer_id"]], request.today)
    return Reply(200, credit_memo, {"Location": f"/credit-memos/{credit_memo['id']}"})
