"""Customers: accept milestones, dispute a few invoices, and pay the rest after the payment behaviour.

Payment time is drawn from the scenario's distribution (days after the invoice date); some
customers pay part first and the rest a few weeks later; a disputed invoice is not paid (finance
reverses it and the work is billed again).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.clock import DAY
from scenarios.engine.state import Project
from scenarios.engine.values import bounded_gauss, chance, money, pick, text, workday_on_or_before

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
DISPUTE_REASONS = ("Rates differ from the SOW", "Hours not agreed with our project lead", "Duplicate charge",
                   "Work not accepted yet")


def accept_milestone(env: simpy.Environment, firm: Firm, project: Project, milestone_id: str) -> Process:
    """Accept a completed milestone after the customer's review."""
    rng = firm.rng("customers")
    days = bounded_gauss(rng, float(firm.params["delivery"]["milestone_acceptance_days"]), 2.0, 1.0, 30.0)
    yield env.timeout(days * DAY)
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
    result = yield from firm.call("erp", "POST", "/payments", body=body, purpose="payment", expect=(409, 422))
    if result.ok:
        firm.record("payment_made", payment_id=result.body["id"], customer_id=invoice["customer_id"],
                    invoice_id=invoice["id"], amount=text(amount), currency=invoice["currency"],
                    received_on=received_on.isoformat())


def _settle(env: simpy.Environment, firm: Firm, invoice: dict[str, Any]) -> Process:
    rng = firm.rng("customers")
    finance = firm.params["finance"]
    invoice_date = date.fromisoformat(invoice["invoice_date"])
    days = bounded_gauss(rng, float(finance["payment_days"]["mean"]), float(finance["payment_days"]["sd"]), 3, 180)
    yield firm.until(invoice_date + timedelta(days=round(days)), 8 + 8 * rng.random())
    if firm.invoice_disputed(invoice["id"]):
        return
    total = money(invoice["open_amount"])
    if total <= 0:
        return
    if chance(rng, float(finance["partial_payment_rate"])):
        first = money(total * Decimal(str(rng.choice((0.4, 0.5, 0.6, 0.75)))))
        yield from _pay(firm, invoice, first)
        yield env.timeout(rng.uniform(14, 45) * DAY)
        yield from _pay(firm, invoice, total - first)
    else:
        yield from _pay(firm, invoice, total)


def _dispute(env: simpy.Environment, firm: Firm, invoice: dict[str, Any]) -> Process:
    from scenarios.engine.actors.finance import reverse_disputed

    rng = firm.rng("customers")
    yield env.timeout(rng.uniform(3, 12) * DAY)
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
