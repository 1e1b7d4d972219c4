"""Read and write the ERP's billing shapes (contracts' billing terms, billable transactions, milestone
events, cost actuals, invoices, credit memos, payments), and the billing and AR status the engine
writes back to the CRM. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from syncengine.domain.errors import PermanentFailure
from syncengine.domain.messages import format_instant
from syncengine.domain.money import format_amount
from syncengine.domain.records import quick_init
from syncengine.domain.work import (
    ArStatus,
    BillableTransaction,
    BillingStatus,
    BillingTerms,
    CreditMemo,
    Invoice,
    Payment,
    PlanMilestone,
)
from syncengine.mapping.psa_work import Fields

SOURCE_SYSTEMS = ("crm", "psa", "hcm", "erp")
DESCRIPTION_MAX = 500
REASON_MAX = 500
DUPLICATE_EXTERNAL_ID = "duplicate-external-id"
OVERDUE_BUCKETS = ("1-30", "31-60", "61-90", "90+")


def source_system(instance: str) -> str:
    """Return the system kind the ERP records as `source_system` for an instance (`psa-legacy` -> `psa`)."""
    kind = instance.split("-", 1)[0]
    if kind not in SOURCE_SYSTEMS:
        raise ValueError(f"system instance {instance!r} is not one of {', '.join(SOURCE_SYSTEMS)}")
    return kind


def _number(value: Decimal) -> str:
    """Write a quantity or rate as a plain decimal string (never an exponent)."""
    text = str(value)  # the `:f` format's text unless str chose an exponent; a fifth of its cost
    return f"{value:f}" if "E" in text else text


def billing_terms(body: Any) -> BillingTerms:
    """Read an ERP contract (`Contract` schema) as the money flows need it."""
    fields = Fields(body, "ERP contract")
    plan = Fields(fields.raw.get("billing_plan"), "ERP contract billing_plan")
    milestones = tuple(PlanMilestone(item.text("id"), item.text("status"), item.flag("requires_acceptance"))
                       for item in plan.objects("milestones"))
    termination = fields.raw.get("termination")
    terminated_on = None if termination is None else Fields(termination, "ERP contract termination").day(
        "effective_date")
    return BillingTerms(contract_id=fields.text("id"), version=fields.integer("version"),
                        customer_id=fields.text("customer_id"), billing_model=fields.text("billing_model"),
                        revenue_policy=fields.text("revenue_policy"), currency=fields.currency("currency"),
                        status=fields.text("status"), milestones=milestones, terminated_on=terminated_on)


def transaction_item(transaction: BillableTransaction) -> dict[str, Any]:
    """Write one billable transaction as `BillableTransactionCreate`."""
    item: dict[str, Any] = {
        "contract_id": transaction.contract_id, "kind": str(transaction.kind),
        "source_system": transaction.source_system, "source_id": transaction.source_id,
        "source_version": transaction.source_version, "date": transaction.date.isoformat(),
        "quantity": _number(transaction.quantity), "rate": _number(transaction.rate),
        "amount": format_amount(transaction.amount, transaction.currency), "currency": transaction.currency,
        "external_id": transaction.external_id,
    }
    if transaction.description:
        item["description"] = transaction.description[:DESCRIPTION_MAX]
    if transaction.worker_id:
        item["worker_id"] = transaction.worker_id
    if transaction.role:
        item["role"] = transaction.role
    return item


def batch_body(transactions: Sequence[BillableTransaction]) -> dict[str, Any]:
    """Write transactions as a `postBillableTransactionBatch` body (1 to 500 items)."""
    if not 1 <= len(transactions) <= 500:
        raise ValueError(f"a batch holds 1 to 500 transactions, not {len(transactions)}")
    return {"items": [transaction_item(transaction) for transaction in transactions]}


@quick_init
@dataclass(frozen=True, slots=True)
class ItemResult:
    """The ERP's answer to one item of a batch: its transaction id when it is posted (now or before)."""

    index: int
    status: int
    transaction_id: str | None
    problem_type: str

    @property
    def posted(self) -> bool:
        """Tell whether the item's transaction exists in the ERP (created now, or a duplicate)."""
        return self.transaction_id is not None


def batch_results(body: Any, count: int) -> list[ItemResult]:
    """Read `BatchResults`: one result per item, in order; a duplicate external id names the existing one."""
    fields = Fields(body, "ERP batch results")
    raw_items = fields.raw.get("results")
    if type(raw_items) is not list or not all(type(raw) is dict for raw in raw_items):
        raw_items = [item.raw for item in fields.objects("results")]  # refuses what is not a list of objects
    results = []
    for position, raw in enumerate(raw_items):
        status, index = (raw.get("status"), raw.get("index")) if type(raw) is dict else (None, None)
        if type(status) is not int or type(index) is not int:  # read field by field: refused, naming it
            item = Fields(raw, f"ERP batch results: results[{position}]")
            status, index = item.integer("status"), item.integer("index")
        raw_problem = raw.get("problem")
        slug = ""
        problem: dict[str, Any] = {}
        if isinstance(raw_problem, dict) and raw_problem:
            problem = raw_problem
            slug = str(problem.get("type", "")).rstrip("/").rsplit("/", 1)[-1]
        transaction_id = raw.get("id") if status == 201 else None
        if status == 409 and slug == DUPLICATE_EXTERNAL_ID:
            transaction_id = problem.get("existing_id")
        results.append(ItemResult(index, status, transaction_id if isinstance(transaction_id, str) else None, slug))
    if len(results) == count and all(result.index == position for position, result in enumerate(results)):
        return results  # in order, one per item: the ERP's usual answer
    if sorted(result.index for result in results) != list(range(count)):
        raise PermanentFailure("malformed-response", f"ERP batch results: expected one result per item of {count}")
    return sorted(results, key=lambda result: result.index)


def reversal_body(reason: str, source_version: int) -> dict[str, Any]:
    """Write a `TransactionReversal`: why, and the source version that caused it."""
    return {"reason": reason[:REASON_MAX], "source_version": source_version}


def milestone_event_body(on: date, source: str, source_id: str, source_version: int) -> dict[str, Any]:
    """Write a `MilestoneEvent` (completion or acceptance on a date, with its source reference)."""
    return {"date": on.isoformat(), "source_system": source, "source_id": source_id, "source_version": source_version}


def cost_actual_body(as_of: date, cumulative_cost: Decimal, currency: str, source: str, source_id: str,
                     source_version: int) -> dict[str, Any]:
    """Write a `CostActualCreate`: the cumulative cost to a day (a period's last, or one inside it)."""
    return {"period": f"{as_of.year:04d}-{as_of.month:02d}", "as_of": as_of.isoformat(),
            "cumulative_cost": format_amount(cumulative_cost, currency), "source_system": source,
            "source_id": source_id, "source_version": source_version}


def estimate_body(eac: Decimal, currency: str, effective: date, source: str, source_id: str,
                  source_version: int) -> dict[str, Any]:
    """Write an `EstimateCreate`: a revised estimate at completion from a date."""
    return {"eac": format_amount(eac, currency), "effective_date": effective.isoformat(), "source_system": source,
            "source_id": source_id, "source_version": source_version}


@dataclass(frozen=True, slots=True)
class PostedCost:
    """A cumulative cost to a day as the ERP holds it, with the source version that set it."""

    as_of: date
    cumulative_cost: Decimal
    source_version: int


def posted_cost(item: Any) -> PostedCost:
    """Read a `CostActual`."""
    fields = Fields(item, "ERP cost actual")
    currency = fields.currency("currency")
    return PostedCost(fields.day("as_of"), fields.amount("cumulative_cost", currency),
                      fields.integer("source_version"))


def fx_rate(items: Iterable[Any], on: date) -> Decimal | None:
    """Return the rate of the latest `FxRate` effective on or before `on` (None when there is none)."""
    rates = [(fields.day("effective_date"), fields.decimal("rate"))
             for fields in (Fields(item, "ERP FX rate") for item in items)]
    effective = [rate for rate in rates if rate[0] <= on and rate[1] > 0]
    return max(effective)[1] if effective else None


def invoice(data: Any) -> Invoice:
    """Read an ERP invoice (`Invoice` schema)."""
    fields = Fields(data, "ERP invoice")
    currency = fields.currency("currency")
    return Invoice(invoice_id=fields.text("id"), version=fields.integer("version"),
                   customer_id=fields.text("customer_id"), contract_id=fields.text("contract_id"),
                   currency=currency, due_date=fields.day("due_date"), total=fields.amount("total", currency),
                   credited_total=fields.amount("credited_total", currency),
                   amount_paid=fields.amount("amount_paid", currency),
                   open_amount=fields.amount("open_amount", currency), status=fields.text("status"))


def credit_memo(data: Any) -> CreditMemo:
    """Read an ERP credit memo (`CreditMemo` schema)."""
    fields = Fields(data, "ERP credit memo")
    currency = fields.currency("currency")
    return CreditMemo(credit_memo_id=fields.text("id"), version=fields.integer("version"),
                      customer_id=fields.text("customer_id"), contract_id=fields.text("contract_id"),
                      invoice_id=fields.text("invoice_id"), currency=currency, total=fields.amount("total", currency))


def payment(data: Any) -> Payment:
    """Read an ERP customer payment and the invoices it was applied to."""
    fields = Fields(data, "ERP payment")
    currency = fields.currency("currency")
    invoice_ids = sorted({item.text("invoice_id") for item in fields.objects("applications")})
    return Payment(payment_id=fields.text("id"), version=fields.integer("version"),
                   customer_id=fields.text("customer_id"), currency=currency, amount=fields.amount("amount", currency),
                   invoice_ids=tuple(invoice_ids))


def ar_status(report: Any, customer_id: str, currency: str, credit_hold: bool, as_of: datetime) -> ArStatus:
    """Read a customer's line of `getAgingReport` as its AR status: the line in `currency`, else its
    first line in another; no line means nothing is open."""
    lines = [line for line in Fields(report, "ERP aging report").objects("items")
             if line.text("customer_id") == customer_id]
    lines.sort(key=lambda line: (line.currency("currency") != currency, line.currency("currency")))
    if not lines:
        return ArStatus(Decimal("0.00"), Decimal("0.00"), currency, credit_hold, as_of)
    line = lines[0]
    code = line.currency("currency")
    buckets = Fields(line.raw.get("buckets"), f"{line.where}.buckets")
    overdue = sum((buckets.amount(name, code) for name in OVERDUE_BUCKETS), Decimal(0))
    return ArStatus(line.amount("balance", code), overdue, code, credit_hold, as_of)


def crm_billing_status_body(status: BillingStatus) -> dict[str, Any]:
    """Write a billing status as the CRM's `setOpportunityBillingStatus` takes it."""
    return {"billing_status": {
        "invoiced_amount": format_amount(status.invoiced, status.currency),
        "credited_amount": format_amount(status.credited, status.currency),
        "paid_amount": format_amount(status.paid, status.currency),
        "currency": status.currency, "as_of": format_instant(status.as_of)}}


def crm_ar_status_body(status: ArStatus) -> dict[str, Any]:
    """Write an AR status as the CRM's `setAccountArStatus` takes it.

    The CRM's `Balance` cannot be negative, so a customer in credit (unapplied cash, open credit
    memos) shows a balance of zero there.
    """
    return {"ar_status": {"balance": format_amount(max(status.balance, Decimal(0)), status.currency),
                          "overdue_amount": format_amount(max(status.overdue, Decimal(0)), status.currency),
                          "currency": status.currency, "as_of": format_instant(status.as_of)},
            "credit_hold": status.credit_hold}
