"""What finance settled in receivables, in the ERP against truth: customer credit applied or refunded,
bad debt written off.

Part of `ar-ties-out`. The ERP's own arithmetic (an invoice's `credit_applied` is the sum of the
credit memos' applications to it, a credit memo adds up to its total) is checked with the documents
in `receivables`; here each settlement is matched to the decision finance made in truth:

- credit applied: per credit memo and invoice, the `applications` of the credit memo to the invoice
  add up to the `credit_applied` facts for them. An application in truth the ERP does not have (lost)
  and one the ERP has that finance never made are both violations;
- refunds: a credit memo's `refunded_amount` is the sum of its `credit_refunded` facts;
- write-offs: an invoice's `written_off_amount` is the amount of its `invoice_written_off` fact (zero
  without one), and an invoice written off in truth has the status WRITTEN_OFF.
"""

from __future__ import annotations

from decimal import Decimal

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import SystemState
from harness.oracle.values import ZERO, decimal, money_text


def credit_applications(erp: SystemState) -> dict[str, dict[str, Decimal]]:
    """Return, per invoice id, the customer credit applied to it per credit memo id (the memos' applications)."""
    applied: dict[str, dict[str, Decimal]] = {}
    for memo in erp.all("credit_memos"):
        memo_id = str(memo.get("id"))
        for item in memo.get("applications") or []:
            if isinstance(item, dict):
                by_memo = applied.setdefault(str(item.get("invoice_id")), {})
                amount = decimal(item.get("applied", "0"), f"{memo_id}/applications")
                by_memo[memo_id] = by_memo.get(memo_id, ZERO) + amount
    return applied


def _check_applications(result: InvariantResult, evidence: Evidence) -> None:
    in_erp = {(memo_id, invoice_id): amount
              for invoice_id, by_memo in credit_applications(evidence.systems.erp).items()
              for memo_id, amount in by_memo.items()}
    in_truth: dict[tuple[str, str], Decimal] = {}
    for fact in evidence.truth.credit_applications:
        key = (fact.credit_memo_id, fact.invoice_id)
        in_truth[key] = in_truth.get(key, ZERO) + fact.amount
    for key in sorted(set(in_erp) | set(in_truth)):
        result.checked += 1
        memo_id, invoice_id = key
        want, have = in_truth.get(key), in_erp.get(key)
        if want == have:
            continue
        if have is None:
            why = f"finance applied credit memo {memo_id}'s credit to {invoice_id}; the ERP lost the application"
        elif want is None:
            why = f"customer credit of {memo_id} applied to {invoice_id} in the ERP, but finance never applied it"
        else:
            why = f"customer credit of {memo_id} applied to {invoice_id} differs from what finance applied"
        result.violate("erp", memo_id, [invoice_id, money_text(want)], [invoice_id, money_text(have)], why)


def _check_refunds(result: InvariantResult, evidence: Evidence) -> None:
    refunded: dict[str, Decimal] = {}
    for fact in evidence.truth.credit_refunds:
        refunded[fact.credit_memo_id] = refunded.get(fact.credit_memo_id, ZERO) + fact.amount
    memos = evidence.systems.erp.by_id("credit_memos")
    for memo_id in sorted(set(refunded) | {memo_id for memo_id, memo in memos.items()
                                           if decimal(memo.get("refunded_amount") or "0") != 0}):
        result.checked += 1
        memo = memos.get(memo_id)
        have = None if memo is None else decimal(memo.get("refunded_amount") or "0", f"{memo_id}/refunded_amount")
        want = refunded.get(memo_id, ZERO)
        if have != want:
            result.violate("erp", memo_id, money_text(want), money_text(have),
                           "credit memo refunded_amount differs from the customer credit finance paid back")


def _check_write_offs(result: InvariantResult, evidence: Evidence) -> None:
    written_off: dict[str, Decimal] = {}
    for fact in evidence.truth.write_offs:
        written_off[fact.invoice_id] = written_off.get(fact.invoice_id, ZERO) + fact.amount
    invoices = evidence.systems.erp.by_id("invoices")
    for invoice_id in sorted(set(written_off) | {invoice_id for invoice_id, invoice in invoices.items()
                                                 if decimal(invoice.get("written_off_amount") or "0") != 0
                                                 or invoice.get("status") == "WRITTEN_OFF"}):
        result.checked += 1
        invoice = invoices.get(invoice_id)
        want = written_off.get(invoice_id)
        expected = [money_text(want or ZERO), "WRITTEN_OFF" if want is not None else "POSTED or REVERSED"]
        if invoice is None:
            result.violate("erp", invoice_id, expected, None, "finance wrote off an invoice the ERP does not have")
            continue
        have = decimal(invoice.get("written_off_amount") or "0", f"{invoice_id}/written_off_amount")
        status = invoice.get("status")
        if have == (want or ZERO) and (status == "WRITTEN_OFF") == (want is not None):
            continue
        why = ("invoice written off as bad debt in the ERP, but finance never wrote it off" if want is None else
               "finance wrote the invoice off as bad debt; the ERP does not show that write-off" if have == 0 else
               "invoice [written_off_amount, status] differ from the bad debt finance wrote off")
        result.violate("erp", invoice_id, expected, [money_text(have), status], why)


def check_settlements(result: InvariantResult, evidence: Evidence) -> None:
    """Check the ERP's credit applications, refunds and write-offs against finance's decisions in truth."""
    _check_applications(result, evidence)
    _check_refunds(result, evidence)
    _check_write_offs(result, evidence)
