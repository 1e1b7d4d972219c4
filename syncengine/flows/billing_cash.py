"""Billing to revenue and cash: what the ERP invoiced, credited and collected goes back to the CRM
opportunity (`setOpportunityBillingStatus`) and the PSA project (`setProjectBillingStatus`) of each
deal, and the customer's receivables and credit hold to its CRM accounts (`setAccountArStatus`).

Events: `erp.invoice.{posted,reversed,written_off}`, `erp.credit_memo.{posted,applied,refunded}` (a customer's
credit applied to its open invoices or paid back moves its AR balance and what is overdue), `erp.payment.*`
(received, applied), `erp.customer.{credit_hold_set,credit_hold_released}`, and `crm.account.erp_linked` (an
account newly billed as a customer, e.g. a division whose deal was matched to its parent's customer, shows what
the customer already owes and its hold without waiting for the customer's next document), keyed per ERP
customer (`erp-customer:<id>`), since a payment or a hold touches every deal of its customer.

Each event re-reads the ERP's current figures (the customer, its invoices, its aging line) and
writes them whole, per deal over all its ERP contracts (its own and any separate contract booked
from its change orders: the CRM opportunity and the PSA project stand for both), so the targets
converge on the ERP's latest state whatever the order events arrive in; handling is serialized
per customer, so the figures written never go back in time.
Version-aware on top: an event whose record (invoice, credit memo, payment, customer) is at a version
already applied is skipped, so a late or replayed older event never triggers a write.

Batching: a run of a customer's document events (a billing run's invoices), or of its payment events
(a payment received, then applied), is handled at once (`handle_documents_changed`,
`handle_payments_changed`, the dispatcher's batch): each event is checked as it would be alone, then
one refresh covers the deals of them all. One read of the customer, its invoices and its aging, and
one write per deal and account, instead of one of each per event; the figures written are the same,
since each refresh writes the ERP's current state whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from syncengine.domain import BusinessException, MalformedEvent
from syncengine.domain.messages import SourceEvent
from syncengine.domain.work import ArStatus, BillingStatus, CreditMemo, Invoice
from syncengine.flows.time_expense_billing import ERP
from syncengine.mapping import erp_billing, psa_work
from syncengine.mapping.psa_work import Fields
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow, Handler

CRM = "crm"
PSA = "psa"
PAGE_LIMIT = 500


def handle_document_changed(message: SourceEvent, ports: Ports) -> None:
    """An invoice or credit memo was posted, reversed, written off, applied or refunded: refresh its deal and
    its customer's AR."""
    handle_documents_changed([message], ports)


def handle_documents_changed(messages: Sequence[SourceEvent], ports: Ports) -> None:
    """Handle a customer's document events as `handle_document_changed` would one by one, with one refresh."""
    by_customer: dict[str, list[str]] = {}
    for message in messages:
        if _stale(message, ports):
            continue
        document: Invoice | CreditMemo = (erp_billing.invoice(message.data) if message.type.startswith("erp.invoice.")
                                          else erp_billing.credit_memo(message.data))
        if ports.ledger.canonical_key("contract", ERP, document.contract_id) is None:
            raise BusinessException("unknown-contract", f"ERP contract {document.contract_id} ({message.type} "
                                                        f"{message.subject}) is linked to no deal")
        by_customer.setdefault(document.customer_id, []).append(document.contract_id)
    for customer_id, contract_ids in by_customer.items():
        _refresh(ports, customer_id, contract_ids)


def handle_payment_changed(message: SourceEvent, ports: Ports) -> None:
    """A payment was received or applied: refresh the deals of the invoices it paid, and the AR."""
    handle_payments_changed([message], ports)


def handle_payments_changed(messages: Sequence[SourceEvent], ports: Ports) -> None:
    """Handle a customer's payment events as `handle_payment_changed` would one by one, with one refresh."""
    by_customer: dict[str, list[str]] = {}
    for message in messages:
        if _stale(message, ports):
            continue
        payment = erp_billing.payment(message.data)
        by_customer.setdefault(payment.customer_id, []).extend(payment.invoice_ids)
    for customer_id, invoice_ids in by_customer.items():
        _refresh(ports, customer_id, [], paid=invoice_ids)


def handle_credit_hold_changed(message: SourceEvent, ports: Ports) -> None:
    """A customer's credit hold was set or released: refresh every deal of the customer, and the AR."""
    if _stale(message, ports):
        return
    customer_id = Fields(message.data, f"{message.type} {message.subject}").text("id")
    contracts = [str(contract["id"]) for contract in ports.client(ERP).pages(
        "/contracts", {"customer_id": customer_id, "limit": PAGE_LIMIT})]
    _refresh(ports, customer_id, [contract_id for contract_id in contracts
                                  if ports.ledger.canonical_key("contract", ERP, contract_id) is not None])


def handle_account_linked(message: SourceEvent, ports: Ports) -> None:
    """A CRM account was linked to an ERP customer: write the customer's current AR and hold to it."""
    if _stale(message, ports):
        return
    fields = Fields(message.data, f"{message.type} {message.subject}")
    account_id, customer_id = fields.text("id"), fields.text("erp_customer_number")
    erp = ports.client(ERP)
    customer = Fields(erp.get(f"/customers/{customer_id}").body, f"ERP customer {customer_id}")
    now = ports.now()
    report = erp.get("/receivables/aging", {"customer_id": customer_id, "as_of": now.date().isoformat()}).body
    status = erp_billing.ar_status(report, customer_id, customer.currency("currency"), customer.flag("credit_hold"),
                                   now)
    ports.client(CRM).put(f"/accounts/{account_id}/ar-status", erp_billing.crm_ar_status_body(status))


def show_hold_on_new_project(ports: Ports, customer_id: str, deal: str) -> None:
    """A deal's PSA project was just created: if its ERP customer is on credit hold, show it there now.

    A hold set before the project existed was written to the customer's deals of that time only, and
    the next hold event may never come: without this the new project would read "not on hold".
    """
    customer = Fields(ports.client(ERP).get(f"/customers/{customer_id}").body, f"ERP customer {customer_id}")
    if customer.flag("credit_hold"):
        _write_billing_status(ports, deal, BillingStatus.of([], customer.currency("currency"), True, ports.now()))


def _stale(message: SourceEvent, ports: Ports) -> bool:
    """Tell whether the event's record is at a version already applied; else record this version."""
    key = f"billing-source:{message.type.split('.')[1]}:{message.subject}"
    if (ports.ledger.applied_version(key) or 0) >= message.source_version:
        return True
    ports.ledger.set_applied_version(key, message.source_version)
    return False


def _refresh(ports: Ports, customer_id: str, contract_ids: Iterable[str], *, paid: Iterable[str] = ()) -> None:
    """Write the ERP's current billing status of some contracts (and of those of the `paid` invoices),
    and the customer's AR, to CRM and PSA."""
    erp = ports.client(ERP)
    customer = Fields(erp.get(f"/customers/{customer_id}").body, f"ERP customer {customer_id}")
    currency, credit_hold, now = customer.currency("currency"), customer.flag("credit_hold"), ports.now()
    wanted, paid_ids = set(contract_ids), set(paid)
    by_contract: dict[str, list[Invoice]] = {}
    if wanted or paid_ids:
        for raw in erp.pages("/invoices", {"customer_id": customer_id, "limit": PAGE_LIMIT}):
            invoice = erp_billing.invoice(raw)
            by_contract.setdefault(invoice.contract_id, []).append(invoice)
            if invoice.invoice_id in paid_ids:
                wanted.add(invoice.contract_id)
    deal_of = _DealOf(ports)
    for deal in sorted({deal for deal in map(deal_of, wanted) if deal is not None}):
        invoices = [invoice for contract_id, of_contract in sorted(by_contract.items()) if deal_of(contract_id) == deal
                    for invoice in of_contract]
        status = BillingStatus.of(invoices, invoices[0].currency if invoices else currency, credit_hold, now)
        _write_billing_status(ports, deal, status)
    report = erp.get("/receivables/aging", {"customer_id": customer_id, "as_of": now.date().isoformat()}).body
    _write_ar_status(ports, customer_id, customer.optional_text("crm_account_id"),
                     erp_billing.ar_status(report, customer_id, currency, credit_hold, now))


class _DealOf:
    """Find the deal an ERP contract bills: the deal it was made for, or for a contract booked from a
    change order (a separate contract, keyed by its amendment) the deal of the opportunity it names."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports
        self._found: dict[str, str | None] = {}

    def __call__(self, contract_id: str) -> str | None:
        if contract_id not in self._found:
            self._found[contract_id] = self._find(contract_id)
        return self._found[contract_id]

    def _find(self, contract_id: str) -> str | None:
        ledger = self._ports.ledger
        key = ledger.canonical_key("contract", ERP, contract_id)
        if key is None or ledger.external_id("opportunity", CRM, key) is not None:
            return key
        contract = self._ports.client(ERP).get(f"/contracts/{contract_id}").body
        opportunity_id = Fields(contract, f"ERP contract {contract_id}").optional_text("crm_opportunity_id")
        deal = ledger.canonical_key("opportunity", CRM, opportunity_id) if opportunity_id else None
        return deal or key


def _write_billing_status(ports: Ports, deal: str, status: BillingStatus) -> None:
    """Write a deal's billing status (all its contracts' invoices) to its CRM opportunity and PSA project."""
    opportunity_id = ports.ledger.external_id("opportunity", CRM, deal)
    if opportunity_id is not None:
        ports.client(CRM).put(f"/opportunities/{opportunity_id}/billing-status",
                              erp_billing.crm_billing_status_body(status))
    project_id = ports.ledger.external_id("project", PSA, deal)
    if project_id is not None:
        ports.client(PSA).put(f"/projects/{project_id}/billing-status", psa_work.project_billing_status_body(status))


def _write_ar_status(ports: Ports, customer_id: str, crm_account_id: str | None, status: ArStatus) -> None:
    """Write the AR status to every CRM account billed as the customer: the CRM's own ERP links (several
    accounts may share one ERP customer), the ledger's, and the account the customer was made from.

    An account holds one ERP customer number and shows that customer's AR: an account of a company
    billed by two legal entities (two ERP customers), linked in the CRM to the other one, is left alone.
    """
    crm = ports.client(CRM)
    accounts = {str(account["id"]) for account in crm.pages("/accounts", {"erp_customer_number": customer_id,
                                                                         "limit": PAGE_LIMIT})}
    others: set[str] = set()
    customer_key = ports.ledger.canonical_key("customer", ERP, customer_id)
    if customer_key is not None:
        others.update(entry.external_id for entry in ports.ledger.links(customer_key)
                      if entry.kind == "account" and entry.system == CRM)
    if crm_account_id:
        others.add(crm_account_id)
    for account_id in sorted(others - accounts):
        linked = crm.get(f"/accounts/{account_id}").body.get("erp_customer_number")
        if linked in (None, "", customer_id):
            accounts.add(account_id)
    body = erp_billing.crm_ar_status_body(status)
    for account_id in sorted(accounts):
        crm.put(f"/accounts/{account_id}/ar-status", body)


def _customer_key(event: SourceEvent) -> str:
    field = "id" if event.type.startswith("erp.customer.") else \
        "erp_customer_number" if event.type.startswith("crm.account.") else "customer_id"
    value = event.data.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedEvent("missing-ordering-key", f"{event.message_id} ({event.type}): data has no {field}")
    return f"erp-customer:{value}"


HANDLERS: dict[str, list[Handler]] = {
    "erp.invoice.posted": [handle_document_changed],
    "erp.invoice.reversed": [handle_document_changed],
    "erp.invoice.written_off": [handle_document_changed],
    "erp.credit_memo.posted": [handle_document_changed],
    "erp.credit_memo.applied": [handle_document_changed],
    "erp.credit_memo.refunded": [handle_document_changed],
    "erp.payment.*": [handle_payment_changed],
    "erp.customer.credit_hold_set": [handle_credit_hold_changed],
    "erp.customer.credit_hold_released": [handle_credit_hold_changed],
    "crm.account.erp_linked": [handle_account_linked],
}
FLOW = Flow("billing_cash", HANDLERS, ordering_key=_customer_key,
            batch_handlers={handle_document_changed: handle_documents_changed,
                            handle_payment_changed: handle_payments_changed})
