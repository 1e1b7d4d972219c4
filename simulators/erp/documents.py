"""Invoices and credit memos: lines with tax, totals as sums of rounded lines, posting.

A posted invoice is never edited: its lines and totals are fixed; only what is credited and paid
against it (`credited_total`, `amount_paid`, `open_amount`) and its status move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from simulators.common.api import Request
from simulators.common.store import Record
from simulators.erp.journals import position_of, posting_context, record_entry
from simulators.erp.ledger import SourceRef
from simulators.erp.ledger_postings import credit_memo_posted, invoice_posted
from simulators.erp.money import add_days, money, money_str, total
from simulators.erp.periods import posting_for
from simulators.erp.revenue import RevenuePolicy, has_unconditional_right
from simulators.erp.revenue_inputs import passed_through
from simulators.erp.tax import TaxTreatment, line_tax


@dataclass(frozen=True, slots=True)
class Charge:
    """One thing to bill, traceable to the record that fed the ERP."""

    kind: str
    description: str
    quantity: str
    rate: str
    net: Decimal
    source_system: str
    source_id: str
    source_version: int
    billable_transaction_id: str | None = None
    milestone_id: str | None = None
    service_period: str | None = None


def invoice_lines(charges: list[Charge], treatment: TaxTreatment) -> list[dict[str, Any]]:
    """Return invoice lines: net and tax each rounded half up to cents."""
    lines = []
    for number, charge in enumerate(charges, start=1):
        net = money(charge.net)
        tax = line_tax(net, treatment.rate_percent)
        lines.append({
            "line_no": number, "kind": charge.kind, "description": charge.description,
            "billable_transaction_id": charge.billable_transaction_id, "milestone_id": charge.milestone_id,
            "service_period": charge.service_period, "source_system": charge.source_system,
            "source_id": charge.source_id, "source_version": charge.source_version,
            "quantity": charge.quantity, "rate": charge.rate, "net_amount": money_str(net),
            "tax_code": treatment.code, "tax_rate_percent": f"{treatment.rate_percent:f}",
            "tax_amount": money_str(tax), "gross_amount": money_str(net + tax),
        })
    return lines


def totals(lines: list[dict[str, Any]]) -> dict[str, str]:
    """Return a document's totals, the sums of its rounded lines."""
    net = total(line["net_amount"] for line in lines)
    tax = total(line["tax_amount"] for line in lines)
    return {"net_total": money_str(net), "tax_total": money_str(tax), "total": money_str(net + tax)}


def open_amount(invoice: Record, credited: Decimal, paid: Decimal, credit_applied: Decimal | None = None) -> str:
    """Return what the customer still owes on an invoice (never below zero; an excess credit stays open on
    the credit memo as the customer's credit): its total less credits, payments, customer credit applied
    from other credit memos and what was written off."""
    applied = Decimal(invoice["credit_applied"]) if credit_applied is None else credit_applied
    settled = credited + paid + applied + Decimal(invoice["written_off_amount"])
    return money_str(max(Decimal(invoice["total"]) - settled, Decimal(0)))


def _contract_ref(contract: Record) -> SourceRef:
    return SourceRef(contract["source_system"], contract["source_id"], contract["source_version"])


def post_invoice(request: Request, contract: Record, treatment: TaxTreatment, charges: list[Charge],
                 billing_run_id: str, invoice_date: date) -> Record:
    """Post an invoice for a contract's charges, with its journal entry."""
    store = request.store
    entity = store.get("legal_entities", contract["legal_entity"])
    customer = store.get("customers", contract["customer_id"])
    lines = invoice_lines(charges, treatment)
    sums = totals(lines)
    invoice_id = store.new_id("invoices")
    journal_entry_id = None
    if Decimal(sums["total"]) != 0:
        entry = invoice_posted(posting_context(store, contract["legal_entity"]), invoice_id=invoice_id,
                               invoice_date=invoice_date, customer_id=customer["id"], contract_id=contract["id"],
                               net_amount=Decimal(sums["net_total"]), tax_amount=Decimal(sums["tax_total"]),
                               position=position_of(store, contract["id"]), source_refs=[_contract_ref(contract)])
        journal_entry_id = record_entry(request, entry, "INVOICE", invoice_id,
                                        pass_through=-passed_through(contract, lines))["id"]
    posting = posting_for(store, contract["legal_entity"], invoice_date)
    invoice = store.insert("invoices", {
        "legal_entity": contract["legal_entity"], "customer_id": customer["id"], "contract_id": contract["id"],
        "contract_source_version": contract["source_version"], "billing_run_id": billing_run_id,
        "currency": contract["currency"], "invoice_date": invoice_date.isoformat(),
        "due_date": add_days(invoice_date, customer["payment_terms_days"]).isoformat(),
        "posting_date": posting.posting_date.isoformat(), "period": posting.posted_period,
        "posting_note": posting.note, "supplier_tax_registration": entity["tax_registration"],
        "customer_tax_registration": customer["tax_registration"], "tax_note": treatment.note,
        "lines": lines, **sums, "status": "POSTED", "reversed_by": None,
        "credited_total": "0.00", "amount_paid": "0.00", "credit_applied": "0.00", "written_off_amount": "0.00",
        "write_off": None, "open_amount": sums["total"],
        "journal_entry_id": journal_entry_id,
    }, record_id=invoice_id)
    request.emit("erp.invoice.posted", invoice)
    return invoice


def post_credit_memo(request: Request, invoice: Record, line_nos: list[int], reason: str, memo: str | None,
                     billing_run_id: str | None, credit_date: date) -> tuple[Record, Record]:
    """Credit lines of an invoice at their original tax; return the credit memo and the invoice after it.

    The credit is applied to what is still open on the invoice; any excess (the invoice was paid)
    stays open on the credit memo as the customer's credit.
    """
    store = request.store
    contract = store.get("contracts", invoice["contract_id"])
    originals = {line["line_no"]: line for line in invoice["lines"]}
    lines = [{**originals[number], "line_no": index, "invoice_line_no": number}
             for index, number in enumerate(sorted(line_nos), start=1)]
    sums = totals(lines)
    credit_memo_id = store.new_id("credit_memos")
    journal_entry_id = None
    if Decimal(sums["total"]) != 0:
        entry = credit_memo_posted(
            posting_context(store, invoice["legal_entity"]), credit_memo_id=credit_memo_id,
            original_invoice_id=invoice["id"], memo_date=credit_date, customer_id=invoice["customer_id"],
            contract_id=contract["id"], net_amount=Decimal(sums["net_total"]), tax_amount=Decimal(sums["tax_total"]),
            position=position_of(store, contract["id"]),
            unconditional=has_unconditional_right(RevenuePolicy(contract["revenue_policy"])),
            source_refs=[_contract_ref(contract)])
        journal_entry_id = record_entry(request, entry, "CREDIT_MEMO", credit_memo_id,
                                        pass_through=passed_through(contract, lines))["id"]
    posting = posting_for(store, invoice["legal_entity"], credit_date)
    applied = min(Decimal(sums["total"]), Decimal(invoice["open_amount"]))
    credit_memo = store.insert("credit_memos", {
        "legal_entity": invoice["legal_entity"], "customer_id": invoice["customer_id"],
        "contract_id": invoice["contract_id"], "invoice_id": invoice["id"], "billing_run_id": billing_run_id,
        "reason": reason, "memo": memo, "currency": invoice["currency"], "credit_date": credit_date.isoformat(),
        "posting_date": posting.posting_date.isoformat(), "period": posting.posted_period,
        "posting_note": posting.note, "tax_note": invoice["tax_note"],
        "lines": lines, **sums, "status": "POSTED", "applied_amount": money_str(applied), "applications": [],
        "refunds": [], "refunded_amount": "0.00", "open_amount": money_str(Decimal(sums["total"]) - applied),
        "journal_entry_id": journal_entry_id,
    }, record_id=credit_memo_id)
    credited = Decimal(invoice["credited_total"]) + Decimal(credit_memo["total"])
    invoice = store.update("invoices", invoice["id"], {
        "credited_total": money_str(credited),
        "open_amount": open_amount(invoice, credited, Decimal(invoice["amount_paid"])),
    })
    request.emit("erp.credit_memo.posted", credit_memo)
    return credit_memo, invoice
