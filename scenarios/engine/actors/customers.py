"""Customers: accept milestones, dispute a few invoices, and pay the rest after the payment behaviour.

Each customer has its own habit of days to pay (a few pay on receipt, most around the scenario's
distribution on the firm's standard terms, some always late), drawn once and moved by its own terms
(scenarios.engine.actors.credit: net 60 pays a month later than net 30); an invoice is paid on a
working day near that habit, what the invoice still owes then (less the credit notes sent since and
any customer credit finance applied to it);
some customers pay part first and the rest a few weeks later; a disputed invoice is not paid (finance
reverses it and the work is billed again). A customer chased by finance's reminder pays in one of its
payment runs a few days later, unless it always pays a month or more late.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.state import Project
from scenarios.engine.values import (
    bounded_gauss,
    chance,
    is_workday,
    monday_of,
    money,
    pick,
    text,
    workday_on_or_after,
    workday_on_or_before,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
PROMPT_PAYERS = 0.1  # of customers, who pay within three weeks of the invoice date whatever the terms
PROMPT_DAYS = 20  # the most days a prompt payer takes; every other customer takes longer
HABIT_SHARE = 0.8  # of the variance of days to pay that is between customers (the rest: invoice to invoice)
CHASED_PAY_DAYS = (3.0, 10.0)  # from a reminder to the payment run that pays it
CHRONIC_LATE_DAYS = 30  # a customer whose habit is this far past the firm's terms ignores reminders
DISPUTE_REASONS = ("Rates differ from the SOW", "Hours not agreed with our project lead", "Duplicate charge",
                   "Work not accepted yet")


def accept_milestone(env: simpy.Environment, firm: Firm, project: Project, milestone_id: str) -> Process:
    """Accept a completed milestone after the customer's review."""
    rng = firm.rng("customers")
    days = bounded_gauss(rng, float(firm.params["delivery"]["milestone_acceptance_days"]), 2.0, 1.0, 30.0)
    yield firm.in_office_hours(days, rng)
    accepted_on = workday_on_or_before(firm.today)
    result = yield from firm.call("psa", "POST", f"/milestones/{milestone_id}/accept", purpose="milestone-accept",
                                  body={"accepted_on": accepted_on.isoformat(),
                                        "accepted_by": project.deal.account.contact or "Customer"},
                                  expect=(409, 422))
    if result.ok:
        firm.record("milestone_accepted", milestone_id=milestone_id, project_id=project.project_id,
                    opportunity_id=project.deal.opportunity_id, accepted_on=accepted_on.isoformat())


def _pay(firm: Firm, invoice: dict[str, Any], amount: Decimal) -> Process:
    received_on = firm.today
    body = {"customer_id": invoice["customer_id"], "legal_entity": invoice["legal_entity"], "amount": text(amount),
            "currency": invoice["currency"], "received_on": received_on.isoformat(),
            "reference": f"Remittance {invoice['id']}",
            "allocations": [{"invoice_id": invoice["id"], "amount": text(amount)}]}
    # the money is in the bank whatever the ERP's state: while the ERP is down, the receipt waits for it
    # (Firm.call) and is posted with the day it was received, never dropped
    result = yield from firm.call("erp", "POST", "/payments", body=body, purpose="payment", expect=(409, 422))
    if result.ok:
        firm.record("payment_made", payment_id=result.body["id"], customer_id=invoice["customer_id"],
                    invoice_id=invoice["id"], amount=text(amount), currency=invoice["currency"],
                    received_on=received_on.isoformat())
    elif result.status == 422:  # it owes less than the remittance says (credit applied meanwhile): pay what is left
        owed = yield from _owed(firm, invoice)
        if 0 < owed < amount:
            yield from _pay(firm, invoice, owed)


def payment_habit(firm: Firm, customer_id: str) -> float:
    """Return a customer's usual days to pay: its accounts-payable habit, drawn once from the scenario's spread."""
    habit = firm.payment_habits.get(customer_id)
    if habit is None:
        rng = firm.rng("customers")
        days = firm.params["finance"]["payment_days"]
        if chance(rng, PROMPT_PAYERS):
            habit = rng.uniform(7, PROMPT_DAYS)  # pays as soon as the invoice is approved
        else:
            habit = bounded_gauss(rng, float(days["mean"]), float(days["sd"]) * math.sqrt(HABIT_SHARE),
                                  PROMPT_DAYS + 1, 150)
        firm.payment_habits[customer_id] = habit
    return habit


def usual_days(firm: Firm, invoice: dict[str, Any]) -> float:
    """Return a customer's usual days from an invoice's date to paying it: its habit on the firm's standard
    terms, moved by as many days as the invoice's own terms differ (a prompt payer pays on receipt anyway)."""
    habit = payment_habit(firm, invoice["customer_id"])
    if habit <= PROMPT_DAYS or not invoice.get("due_date"):
        return habit
    terms = (date.fromisoformat(invoice["due_date"]) - date.fromisoformat(invoice["invoice_date"])).days
    return max(habit + terms - int(firm.params["finance"]["payment_terms_days"]), PROMPT_DAYS + 1)


def _payment_run(firm: Firm, rng: Any, day: date) -> simpy.Event:
    if not is_workday(day):
        day = monday_of(day) + timedelta(days=int(rng.random() * 5))
    return firm.until(workday_on_or_after(max(day, firm.today)), 8 + 8 * rng.random())


def _payment_day(firm: Firm, rng: Any, day: date) -> Process:
    """Wait for the customer's payment run of the week of `day`, in office hours.

    A day that falls on a weekend becomes one of that week's working days (not always the Monday
    after: a payments clerk spreads the runs over the week), never earlier than today.
    """
    yield _payment_run(firm, rng, day)


def reminded(firm: Firm, invoice_id: str) -> None:
    """Pass finance's payment reminder for an invoice to its customer."""
    reminder = firm.reminders.get(invoice_id)
    if reminder is not None and not reminder.triggered:
        reminder.succeed()


def _payment_day_or_chased(firm: Firm, rng: Any, invoice: dict[str, Any], day: date, habit: float) -> Process:
    """Wait for the payment run of `day`; a customer chased before then pays in a payment run soon after the
    reminder, unless it always pays months late (those are left to the credit-hold rule)."""
    planned = _payment_run(firm, rng, day)
    terms = int(firm.params["finance"]["payment_terms_days"])
    if habit > terms + CHRONIC_LATE_DAYS:
        yield planned
        return
    reminder = firm.reminders.setdefault(invoice["id"], firm.env.event())
    yield planned | reminder
    firm.reminders.pop(invoice["id"], None)
    if not planned.processed:  # chased: a run soon after, or the run it was planned for if that comes first
        yield planned | _payment_run(firm, rng, firm.today + timedelta(days=round(rng.uniform(*CHASED_PAY_DAYS))))


def _settle(env: simpy.Environment, firm: Firm, invoice: dict[str, Any]) -> Process:
    rng = firm.rng("customers")
    finance = firm.params["finance"]
    invoice_date = date.fromisoformat(invoice["invoice_date"])
    habit = usual_days(firm, invoice)
    days = bounded_gauss(rng, habit, float(finance["payment_days"]["sd"]) * math.sqrt(1 - HABIT_SHARE), 3,
                          180)
    yield from _payment_day_or_chased(firm, rng, invoice, invoice_date + timedelta(days=round(days)),
                                      payment_habit(firm, invoice["customer_id"]))
    if firm.invoice_disputed(invoice["id"]):
        return
    total = yield from _owed(firm, invoice)
    if total <= 0:
        return
    if chance(rng, float(finance["partial_payment_rate"])):
        first = money(total * Decimal(str(rng.choice((0.4, 0.5, 0.6, 0.75)))))
        yield from _pay(firm, invoice, first)
        yield from _payment_day(firm, rng, firm.today + timedelta(days=round(rng.uniform(14, 45))))
        rest = yield from _owed(firm, invoice)
        if rest > 0:
            yield from _pay(firm, invoice, rest)
    else:
        yield from _pay(firm, invoice, total)


def _owed(firm: Firm, invoice: dict[str, Any]) -> Generator[simpy.Event, Any, Decimal]:
    """Return what is still owed on an invoice today: its total less the credit notes and payments since.

    The accounts-payable clerk pays the invoice less any credit note the firm sent meanwhile (a billing
    run credits corrected time on the invoice it was billed on), never the stale original amount.
    """
    result = yield from firm.call("erp", "GET", f"/invoices/{invoice['id']}")
    if not result.ok or result.body["status"] != "POSTED":
        return Decimal(0)
    return money(result.body["open_amount"])


def _dispute(env: simpy.Environment, firm: Firm, invoice: dict[str, Any]) -> Process:
    from scenarios.engine.actors.finance import reverse_disputed

    rng = firm.rng("customers")
    yield firm.in_office_hours(rng.uniform(3, 12), rng)
    reason = pick(rng, DISPUTE_REASONS)
    firm.disputed.add(invoice["id"])
    firm.record("invoice_disputed", invoice_id=invoice["id"], customer_id=invoice["customer_id"],
                contract_id=invoice["contract_id"], reason=reason)
    firm.note("customers", f"{invoice['customer_id']} disputes {invoice['id']}: {reason}")
    yield from reverse_disputed(env, firm, invoice, reason)


def invoice_received(firm: Firm, invoice: dict[str, Any]) -> None:
    """Handle a new invoice as its customer would: dispute it now and then, otherwise pay it."""
    if money(invoice["total"]) <= 0:
        return
    if chance(firm.rng("customers"), float(firm.params["finance"]["dispute_rate"])):
        firm.env.process(_dispute(firm.env, firm, invoice))
    else:
        firm.env.process(_settle(firm.env, firm, invoice))
