"""Billable transactions: time and expenses posted by the sync engine, reversed, written off.

A transaction's `amount` splits into `billed_amount` (invoiced net of credits), `held_amount`
(over a capped contract's cap), `written_off_amount` and the rest, which is unbilled. The ERP does not
deduplicate by source: `external_id` is the only uniqueness it enforces.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.clock import isoformat
from simulators.common.errors import ApiProblem, business_error, invalid_transition
from simulators.common.store import Record
from simulators.erp import indexes
from simulators.erp.billing import available
from simulators.erp.money import decimal_str, money, money_str, parse_date
from simulators.erp.periods import posting_for
from simulators.erp.plans import TRANSACTION_MODELS
from simulators.erp.records import contract_of, customer_of, tax_treatment

operations = Operations()

EXTERNAL_ID_INDEX = "billable_transactions.external_id"


def _duplicate(request: Request, external_id: str) -> Record | None:
    found = indexes.lookup(request.store, EXTERNAL_ID_INDEX, "billable_transactions", external_id,
                           lambda record: record["external_id"] == external_id)
    return found[0] if found else None


def post(request: Request, item: dict[str, Any], field: str = "body") -> Record:
    """Validate and post one billable transaction; raise the problem that refuses it."""
    store = request.store
    contract = contract_of(store, item["contract_id"], f"{field}/contract_id")
    day = parse_date(item["date"], f"{field}/date")
    if item["currency"] != contract["currency"]:
        raise business_error("currency-not-allowed", "Currency not allowed",
                             f"Contract {contract['id']} bills in {contract['currency']}, not {item['currency']}",
                             field=f"{field}/currency", allowed_currency=contract["currency"])
    if item["kind"] == "TIME" and contract["billing_model"] not in TRANSACTION_MODELS:
        raise business_error("not-billable", "Time not billable",
                             f"Contract {contract['id']} is {contract['billing_model']}: its fee covers the time; "
                             f"only expenses are billable as transactions", field=f"{field}/kind")
    expected = money(Decimal(item["quantity"]) * Decimal(item["rate"]))
    if money(item["amount"]) != expected:
        raise business_error("amount-mismatch", "Amount mismatch",
                             f"amount {item['amount']} is not quantity × rate = {money_str(expected)}",
                             field=f"{field}/amount", expected_amount=money_str(expected))
    termination = contract["termination"]
    if termination is not None and item["date"] > termination["effective_date"]:
        raise business_error("contract-terminated", "Contract terminated",
                             f"Contract {contract['id']} was terminated effective {termination['effective_date']}",
                             field=f"{field}/date")
    tax_treatment(store, contract["legal_entity"], customer_of(store, contract["customer_id"]))
    external_id = item.get("external_id")
    if external_id is not None:
        duplicate = _duplicate(request, external_id)
        if duplicate is not None:
            raise ApiProblem(409, "duplicate-external-id", "Duplicate external id",
                             f"external_id {external_id!r} is already transaction {duplicate['id']}",
                             field=f"{field}/external_id", existing_id=duplicate["id"])
    posting = posting_for(store, contract["legal_entity"], day)
    transaction = store.insert("billable_transactions", {
        "contract_id": contract["id"], "customer_id": contract["customer_id"],
        "legal_entity": contract["legal_entity"], "kind": item["kind"],
        "source_system": item["source_system"], "source_id": item["source_id"],
        "source_version": item["source_version"], "date": item["date"],
        "quantity": decimal_str(item["quantity"]), "rate": decimal_str(item["rate"]),
        "amount": money_str(item["amount"]), "currency": item["currency"],
        "description": item.get("description"), "external_id": external_id,
        "worker_id": item.get("worker_id"), "role": item.get("role"),
        "status": "UNBILLED", "billed_amount": "0.00", "held_amount": "0.00", "written_off_amount": "0.00",
        "credit_pending": False, "billings": [],
        "posting_period": posting.posted_period, "posting_note": posting.note,
        "reversal_reason": None, "reversal_source_version": None, "reversed_at": None, "write_off_reason": None,
    })
    if external_id is not None:
        indexes.remember(store, EXTERNAL_ID_INDEX, external_id, transaction["id"])
    request.emit("erp.billable_transaction.posted", transaction)
    if termination is not None and termination["unbilled_rule"] == "WRITE_OFF":
        transaction = write_off(request, transaction, "Posted after the contract was terminated with WRITE_OFF")
    return transaction


def write_off(request: Request, transaction: Record, reason: str) -> Record:
    """Write off what a transaction still holds unbilled."""
    remaining = available(transaction)
    transaction = request.store.update("billable_transactions", transaction["id"], {
        "status": "WRITTEN_OFF" if Decimal(transaction["billed_amount"]) == 0 else "BILLED",
        "held_amount": "0.00",
        "written_off_amount": money_str(Decimal(transaction["written_off_amount"]) + remaining),
        "write_off_reason": reason,
    })
    request.emit("erp.billable_transaction.written_off", transaction)
    return transaction


@operations("listBillableTransactions")
def list_billable_transactions(request: Request) -> Reply:
    """List billable transactions by contract, status or source."""
    filters = {name: request.query[name] for name in ("contract_id", "status", "source_system", "source_id",
                                                        "external_id") if name in request.query}
    store = request.store
    # The engine lists a contract's transactions (capacity) or looks one up by its external id (a lost
    # response): through the store's index, not a scan of every transaction ever posted.
    indexed = next((name for name in ("external_id", "source_id", "contract_id") if name in filters), None)
    records = store.all("billable_transactions") if indexed is None else store.where_equal(
        "billable_transactions", indexed, filters[indexed])
    return request.page([record for record in records
                         if all(record[name] == value for name, value in filters.items())])


@operations("createBillableTransaction")
def create_billable_transaction(request: Request) -> Reply:
    """Post one billable transaction."""
    transaction = post(request, request.body)
    return created(transaction, f"/billable-transactions/{transaction['id']}")


@operations("postBillableTransactionBatch")
def post_billable_transaction_batch(request: Request) -> Reply:
    """Post a batch of transactions, each on its own; report a result per item."""
    results: list[dict[str, Any]] = []
    for index, item in enumerate(request.body["items"]):
        try:
            with request.store.transaction():
                transaction = post(request, item, f"body/items/{index}")
            results.append({"index": index, "status": 201, "id": transaction["id"]})
        except ApiProblem as problem:
            results.append({"index": index, "status": problem.status, "problem": problem.to_dict()})
    return Reply(200, {"results": results})


@operations("getBillableTransaction")
def get_billable_transaction(request: Request) -> Reply:
    """Read a billable transaction."""
    return ok(request.store.get("billable_transactions", request.path["billable_transaction_id"]))


@operations("reverseBillableTransaction")
def reverse_billable_transaction(request: Request) -> Reply:
    """Take a transaction out of the billable pool; if it was billed, the next run credits it."""
    body = request.body or {}
    transaction = request.store.get("billable_transactions", request.path["billable_transaction_id"])
    request.check_if_match(transaction)
    if transaction["status"] in ("REVERSED", "WRITTEN_OFF"):
        raise invalid_transition("billable transaction", transaction["id"], transaction["status"], "reverse")
    transaction = request.store.update("billable_transactions", transaction["id"], {
        "status": "REVERSED",
        "held_amount": "0.00",
        "credit_pending": Decimal(transaction["billed_amount"]) != 0,
        "reversal_reason": body.get("reason"),
        "reversal_source_version": body.get("source_version"),
        "reversed_at": isoformat(request.now),
    })
    request.emit("erp.billable_transaction.reversed", transaction)
    return ok(transaction)


@operations("writeOffBillableTransaction")
def write_off_billable_transaction(request: Request) -> Reply:
    """Write off a transaction's unbilled or held remainder."""
    transaction = request.store.get("billable_transactions", request.path["billable_transaction_id"])
    request.check_if_match(transaction)
    if transaction["status"] not in ("UNBILLED", "HELD") or available(transaction) <= 0:
        raise invalid_transition("billable transaction", transaction["id"], transaction["status"], "write off")
    reason = (request.body or {}).get("reason") or "Written off"
    return ok(write_off(request, transaction, reason))
