"""Customer payments: received (full, partial, over; foreign currency at the FX table), applied to invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import ApiProblem, business_error, invalid_transition
from simulators.erp.credit import open_invoices, review_credit
from simulators.erp.documents import open_amount
from simulators.erp.fx import fx_table
from simulators.erp.journals import posting_context, record_entry
from simulators.erp.ledger_postings import payment_received, unapplied_cash_applied
from simulators.erp.money import money_str, parse_date
from simulators.erp.receivables import (
    Allocation,
    MissingFxRateError,
    Payment,
    PaymentApplication,
    PaymentError,
    apply_payment,
)
from simulators.erp.records import customer_of

operations = Operations()

FX_TOLERANCE = Decimal("1.00")


def _apply(request: Request, payment: Payment, legal_entity: str, allocations: list[dict[str, Any]] | None,
           ledger_currency: str, on_account: bool = False) -> PaymentApplication:
    invoices = [] if on_account else open_invoices(request.store, {payment.customer_id}, legal_entity)
    try:
        return apply_payment(payment, invoices,
                             ledger_currency=ledger_currency, fx_table=fx_table(request.store),
                             allocations=None if allocations is None else [
                                 Allocation(a["invoice_id"], Decimal(a["amount"])) for a in allocations],
                             fx_tolerance=FX_TOLERANCE)
    except MissingFxRateError as error:
        raise business_error("missing-fx-rate", "Missing FX rate", str(error), field="body/currency") from error
    except PaymentError as error:
        raise business_error("invalid-payment", "Payment cannot be applied", str(error),
                             field="body/allocations") from error


def _pay_invoices(request: Request, application: PaymentApplication) -> None:
    for item in application.applications:
        invoice = request.store.get("invoices", item.invoice_id)
        paid = Decimal(invoice["amount_paid"]) + item.applied
        request.store.update("invoices", invoice["id"], {
            "amount_paid": money_str(paid),
            "open_amount": open_amount(invoice, Decimal(invoice["credited_total"]), paid)})


def _applications(application: PaymentApplication, on: date) -> list[dict[str, Any]]:
    return [{"invoice_id": item.invoice_id, "applied": money_str(item.applied), "remaining": money_str(item.remaining),
             "applied_on": on.isoformat()} for item in application.applications]


@operations("createPayment")
def create_payment(request: Request) -> Reply:
    """Receive a payment: applied to the invoices named (or oldest due first with auto_apply), else on account."""
    body = request.body
    store = request.store
    customer = customer_of(store, body["customer_id"])
    legal_entity = body.get("legal_entity", customer["legal_entity"])
    ledger_currency = store.get("legal_entities", legal_entity)["currency"]
    received_on = parse_date(body["received_on"], "body/received_on")
    payment_id = store.new_id("payments")
    allocations = body.get("allocations")
    on_account = allocations is None and not body.get("auto_apply", False)
    application = _apply(request, Payment(payment_id, customer["id"], body["currency"], Decimal(body["amount"]),
                                          received_on), legal_entity, allocations, ledger_currency, on_account)
    if application.converted_amount <= 0:
        raise business_error("invalid-payment", "Payment too small",
                             f"{body['amount']} {body['currency']} is {application.converted_amount} "
                             f"{ledger_currency} at the FX table's rate", field="body/amount")
    entry = payment_received(posting_context(store, legal_entity), payment_id=payment_id, received_on=received_on,
                             customer_id=customer["id"], cash_amount=application.converted_amount,
                             applied_amount=application.applied_amount,
                             unapplied_amount=application.unapplied_amount)
    journal_entry = record_entry(request, entry, "PAYMENT", payment_id)
    _pay_invoices(request, application)
    payment = store.insert("payments", {
        "customer_id": customer["id"], "legal_entity": legal_entity, "amount": money_str(body["amount"]),
        "currency": body["currency"], "received_on": body["received_on"], "reference": body.get("reference"),
        "ledger_currency": ledger_currency, "fx_rate": f"{application.rate:f}",
        "converted_amount": money_str(application.converted_amount),
        "applications": _applications(application, received_on),
        "applied_amount": money_str(application.applied_amount),
        "unapplied_amount": money_str(application.unapplied_amount),
        "fx_difference": money_str(application.fx_difference),
        "posting_date": journal_entry["posting_date"], "period": journal_entry["period"],
        "journal_entry_ids": [journal_entry["id"]],
    }, record_id=payment_id)
    request.emit("erp.payment.received", payment)
    if application.applications:
        request.emit("erp.payment.applied", payment)
    review_credit(request, [customer["id"]], request.today)
    return created(payment, f"/payments/{payment_id}")


@operations("applyPayment")
def apply_unapplied_cash(request: Request) -> Reply:
    """Apply a payment's unapplied cash to open invoices (those named, else oldest due first)."""
    body = request.body or {}
    store = request.store
    payment = store.get("payments", request.path["payment_id"])
    request.check_if_match(payment)
    unapplied = Decimal(payment["unapplied_amount"])
    if unapplied <= 0:
        raise invalid_transition("payment", payment["id"], "FULLY_APPLIED", "apply")
    cash = Payment(payment["id"], payment["customer_id"], payment["ledger_currency"], unapplied, request.today)
    application = _apply(request, cash, payment["legal_entity"], body.get("allocations"), payment["ledger_currency"])
    if not application.applications:
        raise ApiProblem(409, "invalid-transition", "Nothing to apply",
                         f"Customer {payment['customer_id']} has no open invoice to apply the cash to")
    entry = unapplied_cash_applied(posting_context(store, payment["legal_entity"]), applied_on=request.today,
                                   customer_id=payment["customer_id"], amount=application.applied_amount,
                                   invoice_ids=[item.invoice_id for item in application.applications])
    journal_entry = record_entry(request, entry, "PAYMENT", payment["id"])
    _pay_invoices(request, application)
    payment = store.update("payments", payment["id"], {
        "applications": [*payment["applications"], *_applications(application, request.today)],
        "applied_amount": money_str(Decimal(payment["applied_amount"]) + application.applied_amount),
        "unapplied_amount": money_str(unapplied - application.applied_amount),
        "journal_entry_ids": [*payment["journal_entry_ids"], journal_entry["id"]],
    })
    request.emit("erp.payment.applied", payment)
    review_credit(request, [payment["customer_id"]], request.today)
    return ok(payment)


@operations("listPayments")
def list_payments(request: Request) -> Reply:
    """List payments by customer or entity."""
    filters = {name: request.query[name] for name in ("customer_id", "legal_entity") if name in request.query}
    return request.page(request.store.where(
        "payments", lambda record: all(record[name] == value for name, value in filters.items())))


@operations("getPayment")
def get_payment(request: Request) -> Reply:
    """Read a payment."""
    return ok(request.store.get("payments", request.path["payment_id"]))
