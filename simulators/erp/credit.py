"""Receivables as the ERP reports them: open items, the aging report and the credit-hold rule.

Credit-hold rule (receivables_aging): a customer goes on hold when an invoice is more than 60 days
past due or its balance (open items less unapplied cash, in its legal entity's currency) is above
its credit limit, and is released when neither holds. The rule is applied after every billing run,
payment, invoice reversal and write-off and every application or refund of customer credit, and to
everyone by `POST /receivables/credit-review`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request
from simulators.common.store import Record, Store
from simulators.erp.money import money_str, parse_date
from simulators.erp.receivables import OpenInvoice
from simulators.erp.receivables_aging import CreditProfile, aging_by_customer, credit_hold_changes
from simulators.erp.records import customer_of

operations = Operations()


def _of_customers(store: Store, collection: str, customer_ids: set[str] | None) -> list[Record]:
    """Return a collection's records (of some customers through the customer index), in id order."""
    if customer_ids is None:
        return store.all(collection)
    return store.where_equal_any(collection, "customer_id", customer_ids)


def _wanted(record: Record, customer_ids: set[str] | None, legal_entity: str | None) -> bool:
    return ((customer_ids is None or record["customer_id"] in customer_ids)
            and (legal_entity is None or record["legal_entity"] == legal_entity))


def open_invoices(store: Store, customer_ids: set[str] | None = None,
                  legal_entity: str | None = None) -> list[OpenInvoice]:
    """Return the invoices with something still open, in id order."""
    return [OpenInvoice(i["id"], i["customer_id"], i["currency"], date.fromisoformat(i["invoice_date"]),
                        date.fromisoformat(i["due_date"]), Decimal(i["open_amount"]))
            for i in _of_customers(store, "invoices", customer_ids)
            if _wanted(i, customer_ids, legal_entity) and i["open_amount"] != "0.00"]


def open_items(store: Store, legal_entity: str | None = None,
               customer_ids: set[str] | None = None) -> list[OpenInvoice]:
    """Return open invoices and open credit memos (negative) for aging."""
    credits = [OpenInvoice(c["id"], c["customer_id"], c["currency"], date.fromisoformat(c["credit_date"]),
                           date.fromisoformat(c["credit_date"]), -Decimal(c["open_amount"]))
               for c in _of_customers(store, "credit_memos", customer_ids)
               if _wanted(c, customer_ids, legal_entity) and c["open_amount"] != "0.00"]
    return open_invoices(store, customer_ids, legal_entity) + credits


def unapplied_cash(store: Store, legal_entity: str | None = None,
                   customer_ids: set[str] | None = None) -> dict[tuple[str, str], Decimal]:
    """Return unapplied cash per (customer, ledger currency)."""
    cash: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for payment in (p for p in _of_customers(store, "payments", customer_ids)
                    if _wanted(p, customer_ids, legal_entity) and p["unapplied_amount"] != "0.00"):
        cash[(payment["customer_id"], payment["ledger_currency"])] += Decimal(payment["unapplied_amount"])
    return dict(cash)


def review_credit(request: Request, customer_ids: list[str] | None, as_of: date) -> list[dict[str, Any]]:
    """Apply the credit-hold rule; set or release holds that change, one event each."""
    store = request.store
    wanted = None if customer_ids is None else set(customer_ids)
    if wanted is None:
        customers = store.all("customers")
    else:
        customers = [customer for customer in (store.find("customers", cid) for cid in sorted(wanted))
                     if customer is not None]
    if not customers:
        return []
    currency_of = {e["id"]: e["currency"] for e in store.all("legal_entities")}
    profiles = [CreditProfile(c["id"], currency_of[c["legal_entity"]],
                              None if c["credit_limit"] is None else Decimal(c["credit_limit"]), c["credit_hold"])
                for c in customers]
    cash = unapplied_cash(store, customer_ids=wanted)
    by_customer = {p.customer_id: cash.get((p.customer_id, p.currency), Decimal(0)) for p in profiles}
    changes = []
    for change in credit_hold_changes(profiles, open_items(store, customer_ids=wanted), as_of, by_customer):
        decision = change.decision
        customer = store.update("customers", change.customer_id, {
            "credit_hold": decision.on_hold, "credit_hold_reasons": [reason.value for reason in decision.reasons]})
        request.emit("erp.customer.credit_hold_set" if decision.on_hold else "erp.customer.credit_hold_released",
                     customer)
        changes.append({"customer_id": customer["id"], "credit_hold": decision.on_hold,
                        "reasons": [reason.value for reason in decision.reasons],
                        "balance": money_str(decision.balance),
                        "credit_limit": None if decision.credit_limit is None else money_str(decision.credit_limit),
                        "max_days_past_due": decision.max_days_past_due})
    return changes


@operations("getAgingReport")
def get_aging_report(request: Request) -> Reply:
    """Age open receivables per customer and currency: current, 1-30, 31-60, 61-90, 90+ days past due."""
    query = request.query
    as_of = parse_date(query["as_of"], "as_of") if "as_of" in query else request.today
    entity = query.get("legal_entity")
    wanted = query.get("customer_id")
    customers = None if wanted is None else {wanted}  # one customer's report needs only its own items
    reports = aging_by_customer(open_items(request.store, entity, customers), as_of,
                                unapplied_cash(request.store, entity, customers))
    items = [{"customer_id": report.customer_id, "currency": report.currency,
              "buckets": {bucket.value: money_str(amount) for bucket, amount in report.buckets},
              "total_open": money_str(report.total_open), "unapplied_cash": money_str(report.unapplied_cash),
              "balance": money_str(report.balance)}
             for report in reports if wanted is None or report.customer_id == wanted]
    return Reply(200, {"as_of": as_of.isoformat(), "legal_entity": entity, "items": items})


@operations("reviewCredit")
def review_credit_holds(request: Request) -> Reply:
    """Apply the credit-hold rule to every customer (or one) as of a date."""
    body = request.body or {}
    as_of = parse_date(body["as_of"], "body/as_of") if "as_of" in body else request.today
    customer_ids = [body["customer_id"]] if "customer_id" in body else None
    if customer_ids is not None:
        customer_of(request.store, customer_ids[0])
    return Reply(200, {"as_of": as_of.isoformat(), "changes": review_credit(request, customer_ids, as_of)})


def customers_of(records: list[Record]) -> list[str]:
    """Return the distinct customers of some documents, in id order."""
    return sorted({record["customer_id"] for record in records})
