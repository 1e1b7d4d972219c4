"""AR ties out: per invoice, per customer, against truth, and in the copies the CRM and PSA show.

- Per invoice: `credited_total` is the sum of its credit memos, `amount_paid` the sum of the
  payments applied to it, `credit_applied` the sum of the customer credit the credit memos'
  `applications` put on it, `open_amount` = total - credited - paid - credit applied - written off
  (never below zero).
- Documents against truth: every invoice is one a billing run in truth produced (and each of those
  exists); every payment is one a customer made in truth, for its customer, amount and currency
  (and each of those exists).
- Per credit memo: `applied_amount` (what it took off its invoice's open amount) + its later
  `applications` to other invoices + `refunded_amount` + `open_amount` (the customer's unapplied
  credit) = its total, none below zero.
- Settlements against truth (`receivables_settled`): each application of a customer's credit to an
  invoice, each refund of it and each bad-debt write-off in the ERP is one finance made in truth, for
  the same amount, and each one finance made is in the ERP (a lost application, a write-off nobody
  decided or of another amount is a violation).
- Per customer and currency: open AR = invoices - credit memos - cash received + credit refunded -
  bad debt written off, where the invoices are truth's, the cash is truth's payments (for a payment
  in another currency, the ERP's converted amount net of its FX difference: truth has no FX rates),
  the refunds and write-offs truth's, and the ERP's side is its customer balance as NetSuite or SAP
  show it: open invoices - unapplied credits (open credit memos) - unapplied cash (applying a credit
  to an invoice moves neither side). So a customer in credit (an invoice credited after it was paid,
  an overpayment) has a negative balance on both sides; a credit the ERP does not show anywhere is a
  violation.
- In the CRM and PSA (`receivables_shown`): each won deal's billing status (invoiced, credited,
  paid) on its opportunity and project, and each linked account's AR balance, equal the ERP's
  documents as read here; with the ERP tied to truth above, they equal truth too. This belongs to
  ar-ties-out rather than credit-status-aligned: these are the AR figures themselves, copied where
  sales and delivery read them, while credit-status-aligned is about the ERP's hold decision.

ERP payment records are read as {id, customer_id, currency, amount, converted_amount (ledger
currency; defaults to amount), applications: [{invoice_id, amount | applied}], unapplied_amount,
fx_difference} (the last three default to nothing, zero and zero).
"""

from __future__ import annotations

from decimal import Decimal

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.receivables_settled import check_settlements, credit_applications
from harness.oracle.receivables_shown import check_shown
from harness.oracle.systems import Record
from harness.oracle.values import ZERO, decimal, money_text, same_money


def applications(payment: Record) -> list[tuple[str, Decimal]]:
    """Return (invoice id, amount applied in the ledger currency) of a payment."""
    applied = []
    for item in payment.get("applications") or []:
        if isinstance(item, dict):
            amount = item.get("amount", item.get("applied", item.get("applied_amount", "0")))
            applied.append((str(item.get("invoice_id")), decimal(amount, f"{payment.get('id')}/applications")))
    return applied


def _amount(record: Record, name: str, default: str = "0") -> Decimal:
    value = record.get(name)
    return decimal(default if value is None else value, f"{record.get('id')}/{name}")


def invoice_figures(evidence: Evidence) -> dict[str, tuple[Decimal, Decimal]]:
    """Return (credited, paid) per invoice id: its credit memos' totals and the payments applied to it."""
    erp = evidence.systems.erp
    credits: dict[str, Decimal] = {}
    for memo in erp.all("credit_memos"):
        credits[str(memo.get("invoice_id"))] = credits.get(str(memo.get("invoice_id")), ZERO) + _amount(memo, "total")
    paid: dict[str, Decimal] = {}
    for payment in erp.all("payments"):
        for invoice_id, amount in applications(payment):
            paid[invoice_id] = paid.get(invoice_id, ZERO) + amount
    return {invoice_id: (credits.get(invoice_id, ZERO), paid.get(invoice_id, ZERO))
            for invoice_id in sorted(set(credits) | set(paid))}


def _check_invoices(result: InvariantResult, evidence: Evidence, figures: dict[str, tuple[Decimal, Decimal]]) -> None:
    applied = {invoice_id: sum(amounts.values(), ZERO)
               for invoice_id, amounts in credit_applications(evidence.systems.erp).items()}
    for invoice in evidence.systems.erp.all("invoices"):
        result.checked += 1
        invoice_id = str(invoice.get("id"))
        credited, received = figures.get(invoice_id, (ZERO, ZERO))
        credit, written_off = applied.get(invoice_id, ZERO), _amount(invoice, "written_off_amount")
        settled = credited + received + credit + written_off
        expected = [money_text(credited), money_text(received), money_text(credit),
                    money_text(max(_amount(invoice, "total") - settled, ZERO))]
        actual = [invoice.get("credited_total"), invoice.get("amount_paid"), invoice.get("credit_applied", "0.00"),
                  invoice.get("open_amount")]
        if not all(same_money(have, decimal(want or "0")) for want, have in zip(expected, actual, strict=True)):
            result.violate("erp", invoice_id, expected, actual,
                           "invoice [credited_total, amount_paid, credit_applied, open_amount] do not tie to its "
                           "credit memos, payments, the customer credit applied to it and what was written off")


def _check_credit_memos(result: InvariantResult, evidence: Evidence) -> None:
    for memo in evidence.systems.erp.all("credit_memos"):
        if memo.get("open_amount") is None and memo.get("applied_amount") is None:
            continue  # an ERP that does not split its credit memos: only the customer balance is checked
        result.checked += 1
        applied, left = _amount(memo, "applied_amount"), _amount(memo, "open_amount")
        later = sum((amount for _, amount in _credit_items(memo)), ZERO)
        refunded = _amount(memo, "refunded_amount")
        if min(applied, later, refunded, left) < 0 or applied + later + refunded + left != _amount(memo, "total"):
            result.violate("erp", str(memo.get("id")), memo.get("total"),
                           [money_text(applied), money_text(later), money_text(refunded), money_text(left)],
                           "credit memo [applied_amount, applications, refunded_amount, open_amount] do not add up "
                           "to its total")


def _credit_items(memo: Record) -> list[tuple[str, Decimal]]:
    """Return (invoice id, amount) of the customer credit a credit memo applied to other invoices."""
    return [(str(item.get("invoice_id")), decimal(item.get("applied", "0"), f"{memo.get('id')}/applications"))
            for item in memo.get("applications") or [] if isinstance(item, dict)]


def _check_documents(result: InvariantResult, evidence: Evidence) -> None:
    erp, truth = evidence.systems.erp, evidence.truth
    invoices = erp.by_id("invoices")
    produced = {invoice_id: run for run in truth.billing_runs for invoice_id in run.invoice_ids}
    for invoice_id, run in sorted(produced.items()):
        if invoice_id not in invoices:
            result.violate("erp", invoice_id, "an invoice", None, f"billing run {run.billing_run_id} produced it; "
                           "the ERP does not have it")
    for invoice_id in invoices:
        if invoice_id not in produced:
            result.violate("erp", invoice_id, "no invoice", invoices[invoice_id].get("total"),
                           "invoice produced by no billing run in truth")
    payments = erp.by_id("payments")
    made = {payment.payment_id: payment for payment in truth.payments}
    for payment_id, fact in sorted(made.items()):
        result.checked += 1
        record = payments.get(payment_id)
        expected = [fact.customer_id, money_text(fact.amount), fact.currency]
        actual = None if record is None else [record.get("customer_id"), record.get("amount"), record.get("currency")]
        if actual is None or actual[0] != expected[0] or actual[2] != expected[2] or not same_money(
                actual[1], fact.amount):
            result.violate("erp", payment_id, expected, actual, "payment [customer, amount, currency] differs from "
                           "what the customer paid")
    for payment_id, record in sorted(payments.items()):
        if payment_id not in made:
            result.violate("erp", payment_id, "no payment", record.get("amount"), "payment no customer made in truth")


def expected_balances(result: InvariantResult, evidence: Evidence) -> dict[tuple[str, str], Decimal]:
    """Return open AR per (customer, currency) per truth: its invoices - their credit memos - its cash + the
    credit refunded to it - its bad debt written off."""
    erp, truth = evidence.systems.erp, evidence.truth
    expected: dict[tuple[str, str], Decimal] = {}
    invoices = erp.by_id("invoices")
    truth_invoices = {invoice_id for run in truth.billing_runs for invoice_id in run.invoice_ids}
    for invoice_id in sorted(truth_invoices):
        invoice = invoices.get(invoice_id)
        if invoice is not None:
            key = (str(invoice.get("customer_id")), str(invoice.get("currency")))
            expected[key] = expected.get(key, ZERO) + _amount(invoice, "total")
    for memo in erp.all("credit_memos"):
        if memo.get("invoice_id") in truth_invoices:
            key = (str(memo.get("customer_id")), str(memo.get("currency")))
            expected[key] = expected.get(key, ZERO) - _amount(memo, "total")
    payments = erp.by_id("payments")
    converted_by_erp: list[str] = []
    for fact in truth.payments:
        invoice = invoices.get(fact.invoice_id) or {}
        currency = str(invoice.get("currency", fact.currency))
        cash = fact.amount
        if fact.currency != currency:
            record = payments.get(fact.payment_id) or {}
            converted = _amount(record, "converted_amount", str(record.get("amount", "0")))
            cash = converted - _amount(record, "fx_difference")
            converted_by_erp.append(fact.payment_id)
        key = (fact.customer_id, currency)
        expected[key] = expected.get(key, ZERO) - cash
    for refund in truth.credit_refunds:
        key = (refund.customer_id, refund.currency)
        expected[key] = expected.get(key, ZERO) + refund.amount
    for write_off in truth.write_offs:
        key = (write_off.customer_id, write_off.currency)
        expected[key] = expected.get(key, ZERO) - write_off.amount
    if converted_by_erp:
        result.note(f"{len(converted_by_erp)} payments in another currency than their invoice's are taken at the "
                    f"ERP's converted amount (truth has no FX rates): {', '.join(converted_by_erp[:5])}"
                    + (" ..." if len(converted_by_erp) > 5 else ""))
    return expected


def erp_balances(evidence: Evidence) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
    """Return the ERP's customer balances (open invoices - unapplied credits - unapplied cash) per (customer,
    currency), and the credit each hides (paid invoices credited with no open credit memo to show it)."""
    erp = evidence.systems.erp
    actual: dict[tuple[str, str], Decimal] = {}
    hidden: dict[tuple[str, str], Decimal] = {}
    for invoice in erp.all("invoices"):
        key = (str(invoice.get("customer_id")), str(invoice.get("currency")))
        actual[key] = actual.get(key, ZERO) + _amount(invoice, "open_amount")
        owed_back = (_amount(invoice, "credited_total") + _amount(invoice, "amount_paid")
                     + _amount(invoice, "credit_applied") + _amount(invoice, "written_off_amount")
                     - _amount(invoice, "total"))
        if owed_back > 0:
            hidden[key] = hidden.get(key, ZERO) + owed_back
    for memo in erp.all("credit_memos"):
        key = (str(memo.get("customer_id")), str(memo.get("currency")))
        unapplied_credit = _amount(memo, "open_amount")
        actual[key] = actual.get(key, ZERO) - unapplied_credit
        settled_since = sum((amount for _, amount in _credit_items(memo)), _amount(memo, "refunded_amount"))
        hidden[key] = hidden.get(key, ZERO) - unapplied_credit - settled_since
    # each customer's currencies among the balances so far, kept up to date (a scan of them per payment was a
    # sixth of the whole check on full-year)
    currencies: dict[str, set[str]] = {}
    for customer, currency in actual:
        currencies.setdefault(customer, set()).add(currency)
    for payment in erp.all("payments"):
        customer_id = payment.get("customer_id")
        held = currencies.get(customer_id, set()) if isinstance(customer_id, str) else set()
        currency = next(iter(held)) if len(held) == 1 else str(payment.get("currency"))
        key = (str(customer_id), currency)
        actual[key] = actual.get(key, ZERO) - _amount(payment, "unapplied_amount")
        currencies.setdefault(key[0], set()).add(currency)
    return actual, hidden


def _check_customers(result: InvariantResult, expected: dict[tuple[str, str], Decimal],
                     actual: dict[tuple[str, str], Decimal], hidden: dict[tuple[str, str], Decimal]) -> None:
    for key in sorted(set(expected) | set(actual)):
        result.checked += 1
        want, have = expected.get(key, ZERO), actual.get(key, ZERO)
        if want != have:
            why = (f"; the ERP hides a credit balance of {money_text(hidden[key])}: invoices credited after they "
                   "were paid owe it back, but no credit memo shows it open"
                   if hidden.get(key, ZERO) > 0 and have - want == hidden[key] else "")
            result.violate("erp", key[0], money_text(want), money_text(have),
                           f"open AR of customer {key[0]} in {key[1]} (invoices - credits - payments per truth vs "
                           f"open invoices - unapplied credits - unapplied cash in the ERP){why}")


def ar_ties_out(evidence: Evidence) -> InvariantResult:
    """Open AR = invoices - credits - payments, per invoice and per customer, equal to truth, and shown as the
    ERP has it in the CRM and PSA."""
    result = InvariantResult("ar-ties-out")
    figures = invoice_figures(evidence)
    _check_invoices(result, evidence, figures)
    _check_credit_memos(result, evidence)
    _check_documents(result, evidence)
    check_settlements(result, evidence)
    balances, hidden = erp_balances(evidence)
    _check_customers(result, expected_balances(result, evidence), balances, hidden)
    check_shown(result, evidence, figures, balances)
    return result
