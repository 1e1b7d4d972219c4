"""A contract's billing balance: billed, credited, unbilled, held, written off."""

from __future__ import annotations

from decimal import Decimal

from simulators.common.api import Operations, Reply, Request
from simulators.erp.money import money_str, total

operations = Operations()


@operations("getContractBalance")
def get_contract_balance(request: Request) -> Reply:
    """Read what a contract has billed and holds."""
    store = request.store
    contract = store.get("contracts", request.path["contract_id"])
    transactions = store.where("billable_transactions", lambda t: t["contract_id"] == contract["id"])
    live = [t for t in transactions if t["status"] != "REVERSED"]
    reversed_billed = [t for t in transactions if t["status"] == "REVERSED"]
    invoices = store.where("invoices", lambda i: i["contract_id"] == contract["id"])
    credit_memos = store.where("credit_memos", lambda c: c["contract_id"] == contract["id"])
    unbilled = total(Decimal(t["amount"]) - Decimal(t["billed_amount"]) - Decimal(t["held_amount"])
                     - Decimal(t["written_off_amount"]) for t in live)
    invoiced = total(i["net_total"] for i in invoices)
    credited = total(c["net_total"] for c in credit_memos)
    return Reply(200, {
        "contract_id": contract["id"], "currency": contract["currency"],
        "billable_total": money_str(total(t["amount"] for t in live)),
        "transactions_billed": money_str(total(t["billed_amount"] for t in live)),
        "unbilled": money_str(unbilled),
        "held": money_str(total(t["held_amount"] for t in live)),
        "written_off": money_str(total(t["written_off_amount"] for t in live)),
        "pending_credit": money_str(total(t["billed_amount"] for t in reversed_billed)),
        "invoiced_net": money_str(invoiced), "credited_net": money_str(credited),
        "billed_net": money_str(invoiced - credited),
        "invoiced_tax": money_str(total(i["tax_total"] for i in invoices)),
        "credited_tax": money_str(total(c["tax_total"] for c in credit_memos)),
        "invoice_count": len(invoices), "credit_memo_count": len(credit_memos),
    })
