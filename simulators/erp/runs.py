"""Billing runs: per legal entity up to a period end, credits first, then one invoice per contract."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.store import Record
from simulators.erp import billing
from simulators.erp.credit import customers_of, review_credit
from simulators.erp.documents import Charge, post_credit_memo, post_invoice
from simulators.erp.money import money_str, parse_date, total
from simulators.erp.tax import MissingTaxRegistration, treatment

operations = Operations()
RUN_STATUSES = (*billing.UNBILLED_STATUSES, "REVERSED")
"""A transaction in any other status (billed, written off) is left alone by a run, save a capped contract's."""


def _credit_reversed(request: Request, transactions: list[Record], run_id: str, day: date) -> list[Record]:
    """Credit billed transactions reversed since: one credit memo per original invoice."""
    by_invoice: dict[str, list[tuple[Record, dict[str, Any]]]] = defaultdict(list)
    for transaction in transactions:
        if transaction["status"] == "REVERSED" and transaction["credit_pending"]:
            for entry in transaction["billings"]:
                if entry["credit_memo_id"] is None:
                    by_invoice[entry["invoice_id"]].append((transaction, entry))
    credit_memos = []
    for invoice_id in sorted(by_invoice):
        invoice = request.store.get("invoices", invoice_id)
        entries = by_invoice[invoice_id]
        credit_memo, _ = post_credit_memo(request, invoice, [entry["line_no"] for _, entry in entries],
                                          "TRANSACTION_REVERSED", "Billed work reversed in the source system",
                                          run_id, day)
        credit_memos.append(credit_memo)
        for transaction, entry in entries:
            credit_transaction_line(request, transaction["id"], invoice_id, entry["line_no"], credit_memo["id"])
    return credit_memos


def credit_transaction_line(request: Request, transaction_id: str, invoice_id: str, line_no: int,
                            credit_memo_id: str) -> Record:
    """Mark one billing of a transaction credited and take it off the billed amount."""
    transaction = request.store.get("billable_transactions", transaction_id)
    billings = []
    credited = Decimal(0)
    for entry in transaction["billings"]:
        if entry["invoice_id"] == invoice_id and entry["line_no"] == line_no and entry["credit_memo_id"] is None:
            entry = {**entry, "credit_memo_id": credit_memo_id}
            credited += Decimal(entry["net_amount"])
        billings.append(entry)
    changes: dict[str, Any] = {"billings": billings,
                               "billed_amount": money_str(Decimal(transaction["billed_amount"]) - credited)}
    if transaction["status"] == "REVERSED":
        changes["credit_pending"] = any(entry["credit_memo_id"] is None for entry in billings)
    else:
        changes["status"] = "UNBILLED"
        changes["held_amount"] = "0.00"
    return request.store.update("billable_transactions", transaction_id, changes)


def _invoice_contract(request: Request, contract: Record, transactions: list[Record], run_id: str,
                      period_end: date, entity: Record) -> tuple[Record | None, Decimal]:
    """Post the contract's invoice for this run (if it has anything to bill); return it and what it holds.

    Raises MissingTaxRegistration, before changing anything, when there is something to bill.
    """
    transaction_billings = billing.bill_transactions(contract, transactions, period_end)
    milestones = billing.due_milestones(contract, period_end)
    months = billing.due_retainer_months(contract, period_end)
    charges: list[Charge] = [billing.milestone_charge(contract, m) for m in milestones]
    charges += [billing.retainer_charge(contract, month) for month in months]
    first_transaction_line = len(charges) + 1
    billed_now = [tb for tb in transaction_billings if tb.billed > 0 or tb.held == 0]
    charges += [billing.transaction_charge(tb) for tb in billed_now]
    invoice = None
    if charges:
        tax = treatment(entity, request.store.get("customers", contract["customer_id"]))
        invoice = post_invoice(request, contract, tax, charges, run_id, period_end)
    line_of = {tb.transaction["id"]: first_transaction_line + index for index, tb in enumerate(billed_now)}
    for tb in transaction_billings:
        changes: dict[str, Any] = {"held_amount": money_str(tb.held), "status": "HELD" if tb.held > 0 else "BILLED"}
        if invoice is not None and tb.transaction["id"] in line_of:
            changes["billed_amount"] = money_str(Decimal(tb.transaction["billed_amount"]) + tb.billed)
            changes["billings"] = [*tb.transaction["billings"], {
                "invoice_id": invoice["id"], "line_no": line_of[tb.transaction["id"]],
                "net_amount": money_str(tb.billed), "credit_memo_id": None}]
        request.store.update("billable_transactions", tb.transaction["id"], changes)
    if invoice is not None and (milestones or months):
        _mark_plan_billed(request, contract, invoice["id"], {m["id"] for m in milestones}, months)
    return invoice, total(tb.held for tb in transaction_billings)


def _mark_plan_billed(request: Request, contract: Record, invoice_id: str, milestone_ids: set[str],
                      months: list[str]) -> None:
    plan = contract["billing_plan"]
    new_plan = {**plan, "milestones": [{**m, "status": "BILLED", "invoice_id": invoice_id}
                                       if m["id"] in milestone_ids else m for m in plan["milestones"]]}
    if months:
        new_plan["retainer"] = {**plan["retainer"], "billed_periods": [
            *plan["retainer"]["billed_periods"],
            *({"service_period": month, "invoice_id": invoice_id} for month in months)]}
    request.store.update("contracts", contract["id"], {"billing_plan": new_plan})


def run_billing(request: Request, legal_entity: str, period_end: date) -> Record:
    """Bill every contract of a legal entity up to `period_end`."""
    store = request.store
    entity = store.get("legal_entities", legal_entity)
    run_id = store.new_id("billing_runs")
    # what a run can bill or credit (unbilled, held, reversed), through the index, not every transaction
    # ever posted; a capped contract also counts what it billed before, so it reads all of its own
    by_contract: dict[str, list[Record]] = defaultdict(list)
    for transaction in store.where_equal_any("billable_transactions", ("legal_entity", "status"),
                                             [(legal_entity, status) for status in RUN_STATUSES]):
        by_contract[transaction["contract_id"]].append(transaction)
    invoices: list[Record] = []
    credit_memos: list[Record] = []
    exceptions: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    for contract in store.where("contracts", lambda c: c["legal_entity"] == legal_entity):
        transactions = store.where_equal("billable_transactions", "contract_id", contract["id"]) \
            if contract["billing_model"] == "CAPPED_TM" else by_contract.get(contract["id"], [])
        credit_memos += _credit_reversed(request, transactions, run_id, period_end)
        transactions = [store.get("billable_transactions", t["id"]) for t in transactions]
        try:
            invoice, held = _invoice_contract(request, contract, transactions, run_id, period_end, entity)
        except MissingTaxRegistration as error:
            exceptions.append({"contract_id": contract["id"], "customer_id": contract["customer_id"],
                               "type": "https://firmsim.dev/problems/missing-tax-registration",
                               "title": "Missing tax registration", "detail": str(error)})
            continue
        if invoice is not None:
            invoices.append(invoice)
        if held > 0:
            holds.append({"contract_id": contract["id"], "amount": money_str(held)})
    run = store.insert("billing_runs", {
        "legal_entity": legal_entity, "currency": entity["currency"], "period_end": period_end.isoformat(),
        "status": "COMPLETED", "invoice_ids": [i["id"] for i in invoices],
        "credit_memo_ids": [c["id"] for c in credit_memos], "exceptions": exceptions, "held": holds,
        "invoiced_total": money_str(total(i["total"] for i in invoices)),
        "credited_total": money_str(total(c["total"] for c in credit_memos)),
    }, record_id=run_id)
    request.emit("erp.billing_run.completed", run)
    review_credit(request, customers_of(invoices + credit_memos), request.today)
    return run


@operations("createBillingRun")
def create_billing_run(request: Request) -> Reply:
    """Run billing for a legal entity up to a period end."""
    period_end = parse_date(request.body["period_end"], "body/period_end")
    run = run_billing(request, request.body["legal_entity"], period_end)
    return created(run, f"/billing-runs/{run['id']}")


@operations("getBillingRun")
def get_billing_run(request: Request) -> Reply:
    """Read a billing run."""
    return ok(request.store.get("billing_runs", request.path["billing_run_id"]))


@operations("listBillingRuns")
def list_billing_runs(request: Request) -> Reply:
    """List billing runs, optionally of one entity."""
    entity = request.query.get("legal_entity")
    return request.page(request.store.where("billing_runs", lambda run: entity is None
                                            or run["legal_entity"] == entity))
