"""What the CRM and the PSA show of billing and receivables, against the ERP's documents.

Part of `ar-ties-out`: the ERP is the book of record for invoices, credits and cash; the CRM and the
PSA carry a copy the sync engine writes back. Once the run has converged the copy must equal the
book, as the oracle reads it (never through the engine's arithmetic). The book itself is tied to
truth by the rest of the invariant, so a copy that passes here equals truth too, and a defect is
reported once, on the system that has it:

- per won deal, the CRM opportunity's `billing_status` {invoiced_amount, credited_amount,
  paid_amount, currency} and the PSA project's `billing_status` {invoiced, credited, paid,
  currency} are, over the ERP invoices of the deal's contracts (its own and any booked from its
  change orders): the sum of their totals, of the credit memos against them, and of the payments
  applied to them (in the invoice currency). Customer credit applied to an invoice from another
  invoice's credit memo, and bad debt written off, settle the invoice without being cash paid or a
  credit of the deal's work: they count in neither figure (the customer's balance below shows
  them). A deal nothing was invoiced on may show no status, or zeros in any currency;
- per CRM account linked to an ERP customer (`erp_customer_number`), `ar_status.balance` is the
  customer's balance in the ERP (open invoices - unapplied credits - unapplied cash) in the currency
  the status names, shown as zero when the customer is in credit (the CRM's `Balance` is never
  negative). A customer owing something must show it.

Not checked: `overdue_amount` and `as_of` (aging moves with the calendar while no event asks for a
refresh, so they are a snapshot of the last refresh, not of the end state), and the credit hold
(`credit-status-aligned`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record, opportunity_of_contract, opportunity_of_project
from harness.oracle.values import ZERO, BadValue, decimal, money_text

CRM_FIELDS = ("invoiced_amount", "credited_amount", "paid_amount", "currency")
PSA_FIELDS = ("invoiced", "credited", "paid", "currency")
Balances = Mapping[tuple[str, str], Decimal]


@dataclass(slots=True)
class DealBilling:
    """What the ERP invoiced, credited and collected on one deal's invoices."""

    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    currency: str | None = None

    def row(self) -> list[str | None]:
        """Return [invoiced, credited, paid, currency] as the APIs write them."""
        return [money_text(self.invoiced), money_text(self.credited), money_text(self.paid), self.currency]


def _deal_billing(evidence: Evidence, figures: Mapping[str, tuple[Decimal, Decimal]]) -> dict[str, DealBilling]:
    """Sum the ERP's invoices per deal (found through the contract they bill), with their credits and cash."""
    erp = evidence.systems.erp
    deals: dict[str, DealBilling] = {}
    for invoice in erp.all("invoices"):
        invoice_id = str(invoice.get("id"))
        contract = erp.get("contracts", str(invoice.get("contract_id")))
        opportunity_id = None if contract is None else opportunity_of_contract(contract)
        if opportunity_id is None:
            continue  # a contract of no deal is opportunity-to-project's to report
        deal = deals.setdefault(opportunity_id, DealBilling())
        credited, paid = figures.get(invoice_id, (ZERO, ZERO))
        deal.invoiced += decimal(invoice.get("total", "0"), f"{invoice_id}/total")
        deal.credited += credited
        deal.paid += paid
        currency = str(invoice.get("currency"))
        deal.currency = currency if deal.currency in (None, currency) else "several currencies"
    return deals


def _same(expected: list[str | None], shown: list[object], check_currency: bool) -> bool:
    for index, (want, have) in enumerate(zip(expected, shown, strict=True)):
        if index == len(expected) - 1:
            if check_currency and have != want:
                return False
            continue
        try:
            if not isinstance(have, str) or decimal(have) != decimal(want):
                return False
        except BadValue:
            return False
    return True


def _check_status(result: InvariantResult, system: str, record: Record, deal: DealBilling | None,
                  fields: tuple[str, ...], opportunity_id: str) -> None:
    status = record.get("billing_status")
    written = isinstance(status, dict) and any(status.get(name) is not None for name in fields[:3])
    if deal is None and not written:
        return
    result.checked += 1
    expected = (deal or DealBilling()).row()
    shown: list[object] | None = [status.get(name) for name in fields] if isinstance(status, dict) and written \
        else None
    if shown is not None and _same(expected, shown, check_currency=deal is not None):
        return
    if deal is None and shown is not None:
        expected[-1] = str(shown[-1])
    noun = "opportunity" if system == "crm" else f"project of {opportunity_id}"
    result.violate(system, str(record.get("id")), expected, shown,
                   f"{noun} billing status [{', '.join(fields)}] differs from what the ERP invoiced, credited and "
                   f"collected on the deal")


def _check_accounts(result: InvariantResult, evidence: Evidence, balances: Balances) -> None:
    owed: dict[str, dict[str, Decimal]] = {}
    for (customer, currency), balance in balances.items():
        owed.setdefault(customer, {})[currency] = max(balance, ZERO)
    for account in evidence.systems.crm.all("accounts"):
        customer_id = account.get("erp_customer_number")
        if not customer_id:
            continue
        result.checked += 1
        by_currency = owed.get(str(customer_id), {})
        owing = {currency: amount for currency, amount in sorted(by_currency.items()) if amount > 0}
        status = account.get("ar_status")
        shown = [status.get("balance"), status.get("currency")] if isinstance(status, dict) else None
        if shown is None:
            if owing:
                currency, amount = next(iter(owing.items()))
                result.violate("crm", str(account.get("id")), [money_text(amount), currency], None,
                               f"account shows no AR status; ERP customer {customer_id} owes {money_text(amount)} "
                               f"{currency}")
            continue
        currency = str(shown[1])
        want = by_currency.get(currency, ZERO)
        if want == 0 and owing:
            currency, want = next(iter(owing.items()))
        try:
            equal = isinstance(shown[0], str) and decimal(shown[0]) == want and shown[1] == currency
        except BadValue:
            equal = False
        if not equal:
            result.violate("crm", str(account.get("id")), [money_text(want), currency], shown,
                           f"account AR status [balance, currency] differs from ERP customer {customer_id}'s "
                           "balance (open invoices - unapplied credits - unapplied cash, zero when in credit)")


def check_shown(result: InvariantResult, evidence: Evidence, figures: Mapping[str, tuple[Decimal, Decimal]],
                balances: Balances) -> None:
    """Check the billing status of CRM opportunities and PSA projects and the AR status of CRM accounts.

    `figures` holds (credited, paid) per invoice id and `balances` the ERP's balance per (customer,
    currency), as the rest of ar-ties-out read them.
    """
    deals = _deal_billing(evidence, figures)
    for opportunity in evidence.systems.crm.all("opportunities"):
        opportunity_id = str(opportunity.get("id"))
        _check_status(result, "crm", opportunity, deals.get(opportunity_id), CRM_FIELDS, opportunity_id)
    for project in evidence.systems.psa.all("projects"):
        delivered = opportunity_of_project(project)
        if delivered is not None:
            _check_status(result, "psa", project, deals.get(delivered), PSA_FIELDS, delivered)
    _check_accounts(result, evidence, balances)
