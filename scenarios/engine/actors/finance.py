"""Finance: the monthly billing run per legal entity, revenue runs, dispute handling and period close.

Month-end is the first working days of the next month: on working day 2 finance runs billing for
the month just ended (invoices are dated the month's last day) and hands the invoices to the
customers; then runs revenue recognition; on the scenario's close day it closes the month. A
disputed invoice is reviewed and reversed (credit and rebill: the next billing run bills the work
again). Every Monday the credit controller chases what is overdue (dunning): from the ERP's aging,
a reminder for each invoice a week or more past due, again a fortnight later, three at most; a
customer who keeps paying months late is left to the credit-hold rule. An invoice still unpaid 180
days past due, after every reminder, is written off as bad debt.

A credit memo on an invoice that was already paid leaves the customer in credit: after each billing
run finance applies it to the customer's open invoices (oldest due first), and pays back a credit
that has found nothing to settle two months after it was issued.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors import customers
from scenarios.engine.values import (
    add_months,
    business_day,
    money,
    month_end,
    next_monday,
    period_of,
    workday_on_or_after,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
BILLING_DAY = 2
PAGE = 500
REMIND_PAST_DUE_DAYS = 7  # the first reminder: a week past due
REMIND_AGAIN_DAYS = 14
REMINDERS = 3
WRITE_OFF_PAST_DUE_DAYS = 180  # dunning exhausted and half a year past due: the receivable is written off
REFUND_AFTER_DAYS = 60  # customer credit with nothing to settle this long after the credit memo is paid back
OVERDUE_BUCKETS = ("1-30", "31-60", "61-90", "90+")


def _listed(firm: Firm, path: str, filters: dict[str, Any]) -> Generator[simpy.Event, Any, list[dict[str, Any]]]:
    """Read every page of an ERP listing."""
    records: list[dict[str, Any]] = []
    params: dict[str, Any] = {**filters, "limit": PAGE}
    while True:
        result = yield from firm.call("erp", "GET", path, params=params)
        if not result.ok:
            return records
        records.extend(result.body["items"])
        cursor = result.body.get("next_cursor")
        if not cursor:
            return records
        params = {**filters, "limit": PAGE, "cursor": cursor}


def invoices_of_run(firm: Firm, run_id: str) -> Generator[simpy.Event, Any, list[dict[str, Any]]]:
    """Read every invoice a billing run posted."""
    return (yield from _listed(firm, "/invoices", {"billing_run_id": run_id}))


def billing_run(firm: Firm, entity: str, period_end: date) -> Process:
    """Run billing for one entity up to a month end and pass the invoices to the customers."""
    result = yield from firm.call("erp", "POST", "/billing-runs",
                                  body={"legal_entity": entity, "period_end": period_end.isoformat()},
                                  purpose="billing-run")
    if not result.ok:
        return
    run = result.body
    firm.record("billing_run", billing_run_id=run["id"], legal_entity=entity, period_end=period_end.isoformat(),
                invoice_ids=list(run["invoice_ids"]))
    total = f"{run['currency']} {float(run['invoiced_total']):,.2f}"
    firm.note("finance", f"billing run {run['id']} {entity} to {period_end}: {len(run['invoice_ids'])} invoices, "
                         f"{len(run['credit_memo_ids'])} credit memos, {total}"
                         + (f", {len(run['exceptions'])} exceptions" if run["exceptions"] else ""))
    invoices = yield from invoices_of_run(firm, run["id"])
    for invoice in invoices:
        customers.invoice_received(firm, invoice)


def apply_credit(firm: Firm, credit_memo: dict[str, Any]) -> Generator[simpy.Event, Any, bool]:
    """Apply a credit memo's open customer credit to the customer's open invoices; tell whether any was applied."""
    result = yield from firm.call("erp", "POST", f"/credit-memos/{credit_memo['id']}/apply",
                                  body={"date": firm.today.isoformat()}, purpose="credit-apply", expect=(409,))
    if not result.ok:
        return False
    for item in result.body["applications"][len(credit_memo["applications"]):]:
        firm.record("credit_applied", credit_memo_id=credit_memo["id"], customer_id=credit_memo["customer_id"],
                    invoice_id=item["invoice_id"], amount=item["applied"], currency=credit_memo["currency"],
                    applied_on=item["applied_on"])
        firm.note("finance", f"applied {credit_memo['currency']} {item['applied']} of {credit_memo['customer_id']}'s "
                             f"credit on {credit_memo['id']} to {item['invoice_id']}")
    return True


def refund_credit(firm: Firm, credit_memo: dict[str, Any]) -> Process:
    """Pay a customer back the credit left open on a credit memo."""
    result = yield from firm.call("erp", "POST", f"/credit-memos/{credit_memo['id']}/refund",
                                  body={"refunded_on": firm.today.isoformat(),
                                        "reference": f"Refund of {credit_memo['id']}"},
                                  purpose="credit-refund", expect=(409,))
    if result.ok:
        amount = result.body["refunds"][-1]["amount"]
        firm.record("credit_refunded", credit_memo_id=credit_memo["id"], customer_id=credit_memo["customer_id"],
                    amount=amount, currency=credit_memo["currency"], refunded_on=firm.today.isoformat())
        firm.note("finance", f"refunded {credit_memo['currency']} {amount} of credit on {credit_memo['id']} to "
                             f"{credit_memo['customer_id']}: nothing left to set it against")


def settle_credits(firm: Firm, entity: str) -> Process:
    """Apply every customer credit left open in an entity to the customer's open invoices; refund old ones."""
    memos = yield from _listed(firm, "/credit-memos", {"legal_entity": entity})
    for credit_memo in memos:
        if money(credit_memo["open_amount"]) <= 0:
            continue
        applied = yield from apply_credit(firm, credit_memo)
        age = (firm.today - date.fromisoformat(credit_memo["credit_date"])).days
        if not applied and age >= REFUND_AFTER_DAYS:
            yield from refund_credit(firm, credit_memo)


def revenue_run(firm: Firm, entity: str, period: str) -> Process:
    """Run revenue recognition for one entity and period."""
    result = yield from firm.call("erp", "POST", "/revenue-runs", body={"legal_entity": entity, "period": period},
                                  purpose="revenue-run")
    if result.ok:
        firm.record("revenue_run", revenue_run_id=result.body["id"], legal_entity=entity, period=period)


def credit_review(firm: Firm, as_of: date) -> Process:
    """Apply the ERP's credit-hold rule to every customer as of a date (the credit controller's monthly job)."""
    result = yield from firm.call("erp", "POST", "/receivables/credit-review", body={"as_of": as_of.isoformat()},
                                  purpose="credit-review")
    for change in result.body.get("changes", []) if result.ok else []:
        firm.note("finance", f"{change['customer_id']} {'on' if change['credit_hold'] else 'off'} credit hold: "
                             f"balance {change['balance']}, limit {change['credit_limit']}, "
                             f"{change['max_days_past_due']} days past due")


def close_period(firm: Firm, entity: str, period: str) -> Process:
    """Close one entity's month."""
    result = yield from firm.call("erp", "POST", f"/periods/{period}/close", body={"legal_entity": entity},
                                  purpose="period-close", expect=(409,))
    if result.ok:
        firm.record("period_closed", legal_entity=entity, period=period)
        firm.note("finance", f"closed {period} for {entity}")


def month_end_close(env: simpy.Environment, firm: Firm, month: date) -> Process:
    """Bill, recognise revenue and close one month for every entity."""
    following = add_months(month, 1)
    yield firm.until(business_day(following.year, following.month, BILLING_DAY), 9)
    entities = list(firm.params["firm"]["legal_entities"])
    for entity in entities:
        yield from billing_run(firm, entity, month_end(month))
    for entity in entities:
        yield from settle_credits(firm, entity)
    for entity in entities:
        yield from revenue_run(firm, entity, period_of(month))
    yield from credit_review(firm, firm.today)
    close_day = int(firm.params["finance"]["close_day"])
    yield firm.until(business_day(following.year, following.month, max(close_day, BILLING_DAY + 1)), 17)
    for entity in entities:
        yield from close_period(firm, entity, period_of(month))


def reverse_disputed(env: simpy.Environment, firm: Firm, invoice: dict[str, Any], reason: str) -> Process:
    """Review a disputed invoice and reverse it; the work is billed again in the next run."""
    rng = firm.rng("finance")
    yield firm.in_office_hours(rng.uniform(2, 6), rng)
    result = yield from firm.call("erp", "POST", f"/invoices/{invoice['id']}/reverse",
                                  body={"reason": f"Customer dispute: {reason}", "date": firm.today.isoformat()},
                                  purpose="invoice-reverse", expect=(409,))
    if result.ok:
        firm.note("finance", f"reversed {invoice['id']} after a dispute ({reason}); credit memo {result.body['id']}")


def _overdue_customers(firm: Firm) -> Generator[simpy.Event, Any, list[str]]:
    result = yield from firm.call("erp", "GET", "/receivables/aging", params={"as_of": firm.today.isoformat()},
                                  purpose="aging")
    items = result.body.get("items", []) if result.ok else []
    return sorted({item["customer_id"] for item in items
                   if any(money(item["buckets"].get(bucket, "0")) > 0 for bucket in OVERDUE_BUCKETS)})


def write_off(firm: Firm, invoice: dict[str, Any], past_due: int, reminders: int) -> Process:
    """Write off what a customer never paid of an invoice, as bad debt."""
    reason = f"Uncollectible: {past_due} days past due after {reminders} reminders"
    result = yield from firm.call("erp", "POST", f"/invoices/{invoice['id']}/write-off",
                                  body={"reason": reason, "date": firm.today.isoformat()}, purpose="write-off",
                                  expect=(409,))
    if result.ok:
        amount = result.body["written_off_amount"]
        firm.record("invoice_written_off", invoice_id=invoice["id"], customer_id=invoice["customer_id"],
                    amount=amount, currency=invoice["currency"], written_off_on=result.body["write_off"]["date"],
                    reason=reason)
        firm.note("finance", f"wrote off {invoice['currency']} {amount} of {invoice['id']} ({invoice['customer_id']}) "
                             f"as bad debt: {past_due} days past due after {reminders} reminders")


def chase(firm: Firm, customer_id: str, sent: dict[str, tuple[int, date]]) -> Process:
    """Send a reminder for each of a customer's invoices far enough past due and not chased lately; write off
    what is still unpaid half a year past due after every reminder."""
    result = yield from firm.call("erp", "GET", "/invoices", params={"customer_id": customer_id, "status": "POSTED",
                                                                      "open": "true", "limit": PAGE})
    for invoice in result.body.get("items", []) if result.ok else []:  # most posted invoices are settled: not listed
        past_due = (firm.today - date.fromisoformat(invoice["due_date"])).days
        count, last = sent.get(invoice["id"], (0, date.min))
        if past_due >= WRITE_OFF_PAST_DUE_DAYS and count >= REMINDERS:
            yield from write_off(firm, invoice, past_due, count)
            continue
        if past_due < REMIND_PAST_DUE_DAYS or count >= REMINDERS or (firm.today - last).days < REMIND_AGAIN_DAYS:
            continue
        sent[invoice["id"]] = (count + 1, firm.today)
        firm.note("finance", f"reminder {count + 1} to {customer_id} for {invoice['id']}: {invoice['currency']} "
                             f"{invoice['open_amount']} open, {past_due} days past due")
        customers.reminded(firm, invoice["id"])


def collections(env: simpy.Environment, firm: Firm) -> Process:
    """Chase overdue invoices every Monday morning of the period (the credit controller's dunning run)."""
    sent: dict[str, tuple[int, date]] = {}
    monday = next_monday(firm.period_start)
    while monday <= firm.period_end:
        yield firm.until(workday_on_or_after(monday), 10)
        customer_ids = yield from _overdue_customers(firm)
        for customer_id in customer_ids:
            yield from chase(firm, customer_id, sent)
        monday += timedelta(days=7)


def finance(env: simpy.Environment, firm: Firm) -> Process:
    """Run month-end for every month of the period, and the weekly collections."""
    month = firm.period_start.replace(day=1)
    while month <= firm.period_end:
        env.process(month_end_close(env, firm, month))
        month = add_months(month, 1)
    env.process(collections(env, firm))
    yield env.timeout(0)
