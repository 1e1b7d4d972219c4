"""Finance: the monthly billing run per legal entity, revenue runs, dispute handling and period close.

Month-end is the first working days of the next month: on working day 2 finance runs billing for
the month just ended (invoices are dated the month's last day) and hands the invoices to the
customers; then runs revenue recognition; on the scenario's close day it closes the month. A
disputed invoice is reviewed and reversed (credit and rebill: the next billing run bills the work
again).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors import customers
from scenarios.engine.values import add_months, business_day, month_end, period_of

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
BILLING_DAY = 2
PAGE = 500


def invoices_of_run(firm: Firm, run_id: str) -> Generator[simpy.Event, Any, list[dict[str, Any]]]:
    """Read every invoice a billing run posted."""
    invoices: list[dict[str, Any]] = []
    params: dict[str, Any] = {"billing_run_id": run_id, "limit": PAGE}
    while True:
        result = yield from firm.call("erp", "GET", "/invoices", params=params)
        if not result.ok:
            return invoices
        invoices.extend(result.body["items"])
        cursor = result.body.get("next_cursor")
        if not cursor:
            return invoices
        params = {"billing_run_id": run_id, "limit": PAGE, "cursor": cursor}


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


def finance(env: simpy.Environment, firm: Firm) -> Process:
    """Run month-end for every month of the period."""
    month = firm.period_start.replace(day=1)
    while month <= firm.period_end:
        env.process(month_end_close(env, firm, month))
        month = add_months(month, 1)
    yield env.timeout(0)
