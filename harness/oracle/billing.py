"""Approved time and expenses posted to the ERP exactly once, at the right amount, and reversals honoured.

For each time entry or expense, the revision approved in PSA and not reopened since must be exactly
one live (not REVERSED) ERP billable transaction with source psa / entry id / revision; anything else
live is a defect (a reopened revision not reversed, a duplicate, a stray). Time is billable on
TIME_AND_MATERIALS and CAPPED_TM deals only, at hours x the deal's agreed rate for the role, rounded
half up to the cent once per line; billable expenses on every billing model, at their amount. Work
dated after a cancellation's effective date is not billable. Written-off transactions are live:
they were posted once and a billing decision wrote them off.

On a capped T&M deal whose change orders were booked as separate capped contracts, a posting may be
on any of them in force on its date, and their capacity must be used (`capacity`).

Money already invoiced must follow: a live transaction is never invoiced for more than its amount,
and one reversed before the legal entity's last billing run must have been credited by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from harness.oracle.capacity import allowed_contracts, check_capacity
from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record
from harness.oracle.truth_facts import Deal
from harness.oracle.values import ZERO, BadValue, cents, decimal, money_text, same_money

TIME_BILLED_MODELS = ("TIME_AND_MATERIALS", "CAPPED_TM")
Key = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Expected:
    """The one posting an approved revision should have."""

    entry_id: str
    revision: int
    opportunity_id: str
    contract_id: str | None
    on: date
    currency: str
    amount: Decimal | None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    alternatives: tuple[str, ...] = ()
    """Other contracts the posting may be on: the deal's separate capped contracts in force on its date (`capacity`)."""


def _after_cancellation(evidence: Evidence, deal: Deal, on: date) -> bool:
    cancellation = evidence.truth.cancellations.get(deal.opportunity_id)
    return cancellation is not None and on > cancellation.effective


@dataclass(frozen=True, slots=True)
class Postings:
    """The postings truth expects, and what truth could not say about some of them (reason -> entry ids)."""

    expected: dict[Key, Expected]
    gaps: dict[str, list[str]]

    def note_gaps(self, result: InvariantResult) -> None:
        """Add one note per kind of gap to a result, naming a few of the entries."""
        for reason, entries in sorted(self.gaps.items()):
            shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
            result.note(f"{len(entries)} {reason}: {shown}")


def _expected_time(evidence: Evidence) -> Postings:
    expected: dict[Key, Expected] = {}
    gaps: dict[str, list[str]] = {}
    for line in evidence.truth.time_revisions().live.values():
        deal = evidence.truth.deals.get(line.opportunity_id)
        if deal is None:
            gaps.setdefault("time entries on a deal truth never won (not checked)", []).append(line.entry_id)
            continue
        if not line.billable or deal.billing_model not in TIME_BILLED_MODELS or _after_cancellation(
                evidence, deal, line.on):
            continue
        rate = deal.rate_card.get(line.role)
        if rate is None:
            rate = line.bill_rate
            gaps.setdefault("time entries in a role without an agreed rate (checked at the rate PSA valued them "
                            "at)", []).append(line.entry_id)
        amount = None if rate is None else cents(line.hours * rate)
        expected[(line.entry_id, line.revision)] = Expected(
            line.entry_id, line.revision, deal.opportunity_id, evidence.contract_id_of(deal), line.on, deal.currency,
            amount, line.hours, rate, allowed_contracts(evidence, deal, line.on))
    return Postings(expected, gaps)


def _expected_expenses(evidence: Evidence) -> Postings:
    expected: dict[Key, Expected] = {}
    gaps: dict[str, list[str]] = {}
    for line in evidence.truth.expense_revisions().live.values():
        deal = evidence.truth.deals.get(line.opportunity_id)
        if deal is None:
            gaps.setdefault("expenses on a deal truth never won (not checked)", []).append(line.entry_id)
            continue
        if not line.billable or _after_cancellation(evidence, deal, line.on):
            continue
        amount: Decimal | None = line.amount
        if line.currency != deal.currency:
            amount = None
            gaps.setdefault("expenses paid in another currency than their contract's (truth has no FX rate: their "
                            "one posting is checked, not its amount)", []).append(line.entry_id)
        expected[(line.entry_id, line.revision)] = Expected(
            line.entry_id, line.revision, deal.opportunity_id, evidence.contract_id_of(deal), line.on, deal.currency,
            amount, alternatives=allowed_contracts(evidence, deal, line.on))
    return Postings(expected, gaps)


def expected_time(evidence: Evidence) -> Postings:
    """Return the posting each live, billable time revision should have."""
    return evidence.memo("expected_time", _expected_time)


def expected_expenses(evidence: Evidence) -> Postings:
    """Return the posting each live, billable expense revision should have."""
    return evidence.memo("expected_expenses", _expected_expenses)


def _differences(expected: Expected, transaction: Record) -> tuple[dict[str, object], dict[str, object]]:
    """Return the fields of a posting that differ from the expected ones: (expected, actual).

    The expected value of a field is written out only when it differs (this runs once per posting).
    """
    wrong: dict[str, object] = {}
    if expected.contract_id is not None:
        allowed = (expected.contract_id, *expected.alternatives)
        if transaction.get("contract_id") not in allowed:
            wrong["contract_id"] = " or ".join(allowed)
    on = expected.on.isoformat()
    if transaction.get("date") != on:
        wrong["date"] = on
    if transaction.get("currency") != expected.currency:
        wrong["currency"] = expected.currency
    if expected.amount is not None and not same_money(transaction.get("amount"), expected.amount):
        wrong["amount"] = money_text(expected.amount)
    if expected.quantity is not None and not _same_decimal(transaction.get("quantity"), expected.quantity):
        wrong["quantity"] = f"{expected.quantity:f}"
    if expected.rate is not None and not _same_decimal(transaction.get("rate"), expected.rate):
        wrong["rate"] = f"{expected.rate:f}"
    return wrong, {name: transaction.get(name) for name in wrong}


def _same_decimal(actual: object, expected: Decimal) -> bool:
    try:
        return isinstance(actual, str | int) and decimal(actual) == expected
    except BadValue:
        return False


def check_postings(result: InvariantResult, evidence: Evidence, kind: str, expected: dict[Key, Expected],
                   voided: set[Key]) -> None:
    """Compare the live transactions of one kind (TIME or EXPENSE) with the expected postings."""
    transactions = [t for t in evidence.systems.erp.all("billable_transactions") if t.get("kind") == kind]
    live: dict[Key, list[Record]] = {}
    for transaction in transactions:
        result.checked += 1
        if transaction.get("status") != "REVERSED":
            key = (str(transaction.get("source_id")), _int(transaction.get("source_version")))
            live.setdefault(key, []).append(transaction)
    noun = "time entry" if kind == "TIME" else "expense"
    for key, posting in sorted(expected.items()):
        result.checked += 1
        found = live.get(key, [])
        label = f"{posting.entry_id} revision {posting.revision}"
        if not found:
            result.violate("erp", label, money_text(posting.amount) or "one posting", None,
                           f"approved {noun} {label} ({posting.opportunity_id}) was never posted")
            continue
        if len(found) > 1:
            result.violate("erp", str(found[1].get("id")), "1 live posting", [t.get("id") for t in found],
                           f"approved {noun} {label} is posted {len(found)} times")
        wanted, actual = _differences(posting, found[0])
        if wanted:
            result.violate("erp", str(found[0].get("id")), wanted, actual,
                           f"posting of {noun} {label} differs from truth ({', '.join(wanted)})")
    for key, found in sorted(live.items()):
        if key in expected:
            continue
        reason = (f"{noun} {key[0]} revision {key[1]} was reopened in PSA but its posting was not reversed"
                  if key in voided else f"no approved, billable {noun} {key[0]} revision {key[1]} in truth")
        for transaction in found:
            result.violate("erp", str(transaction.get("id")), "REVERSED or absent", transaction.get("status"), reason)
    _check_invoiced(result, evidence, transactions)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _check_invoiced(result: InvariantResult, evidence: Evidence, transactions: list[Record]) -> None:
    last_run: dict[str, str] = {}
    for run in evidence.systems.erp.all("billing_runs"):
        entity, created = str(run.get("legal_entity")), str(run.get("created_at") or "")
        last_run[entity] = max(last_run.get(entity, ""), created)
    for transaction in transactions:
        uncredited = sum((decimal(entry.get("net_amount", "0")) for entry in transaction.get("billings") or []
                          if isinstance(entry, dict) and entry.get("credit_memo_id") is None), ZERO)
        transaction_id = str(transaction.get("id"))
        if transaction.get("status") == "REVERSED":
            reversed_at = str(transaction.get("reversed_at") or "")
            if uncredited > 0 and reversed_at < last_run.get(str(transaction.get("legal_entity")), ""):
                result.violate("erp", transaction_id, "0.00 left invoiced", money_text(uncredited),
                               f"reversed {reversed_at}, before the last billing run, yet still invoiced and never "
                               "credited")
        elif uncredited > decimal(transaction.get("amount", "0")):
            result.violate("erp", transaction_id, f"at most {transaction.get('amount')} invoiced",
                           money_text(uncredited), "invoiced for more than its amount (billed twice)")


def time_billed_exactly_once(evidence: Evidence) -> InvariantResult:
    """Every approved billable hour on a T&M deal is posted once at hours x agreed rate; nothing else is live."""
    result = InvariantResult("time-billed-exactly-once")
    revisions = evidence.truth.time_revisions()
    voided = {(line.entry_id, line.revision) for line in revisions.voided}
    postings = expected_time(evidence)
    postings.note_gaps(result)
    check_postings(result, evidence, "TIME", postings.expected, voided)
    check_capacity(result, evidence)
    return result


def expenses_billed_exactly_once(evidence: Evidence) -> InvariantResult:
    """Every approved billable expense is posted once at its amount; nothing else is live."""
    result = InvariantResult("expenses-billed-exactly-once")
    revisions = evidence.truth.expense_revisions()
    voided = {(line.entry_id, line.revision) for line in revisions.voided}
    postings = expected_expenses(evidence)
    postings.note_gaps(result)
    check_postings(result, evidence, "EXPENSE", postings.expected, voided)
    return result
