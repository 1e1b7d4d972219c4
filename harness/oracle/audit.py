"""Audit trail complete: every ERP record another system fed names its source record and version, and
that source exists.

Checked: customers (a CRM account), contracts and contract versions (a CRM opportunity at a
version), estimates and cost actuals, billable transactions (a PSA time entry or expense, at a
revision it has had), every invoice and credit-memo line (source system, id and version, and the
billable transaction or plan milestone it bills), and billing-plan milestones once completed (the
PSA milestone). A source resolves when its system's export has a record with that id in one of the
collections below; a version must be a positive integer, and no later than a PSA entry's revision.
"""

from __future__ import annotations

from typing import Any

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record

SOURCE_COLLECTIONS = {
    "crm": ("opportunities", "accounts", "amendments"),
    "psa": ("time_entries", "expenses", "milestones", "projects"),
    "hcm": ("workers", "cost_rates"),
}
REVISED = {"TIME": "time_entries", "EXPENSE": "expenses"}


def _problem(evidence: Evidence, ref: dict[str, Any], revised: str | None = None) -> str | None:
    """Return what is wrong with a source reference, or None."""
    system, source_id, version = ref.get("source_system"), ref.get("source_id"), ref.get("source_version")
    if not system or not source_id or version is None:
        return "names no source record and version"
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"source version {version!r} is not a positive integer"
    state = getattr(evidence.systems, str(system), None) if system in SOURCE_COLLECTIONS else None
    if state is None:
        return f"source system {system!r} is not one the ERP is fed from"
    collections = (revised,) if revised else SOURCE_COLLECTIONS[str(system)]
    found = state.first_of(collections).get(source_id)
    if found is None:
        return f"source {system}/{source_id} does not exist in {'/'.join(collections)}"
    if revised and version > int(found.get("revision") or 0):
        return f"source version {version} is later than {source_id}'s revision {found.get('revision')}"
    return None


def _check(result: InvariantResult, evidence: Evidence, record_id: str, ref: dict[str, Any],
           revised: str | None = None) -> None:
    result.checked += 1
    problem = _problem(evidence, ref, revised)
    if problem is not None:
        actual = [ref.get("source_system"), ref.get("source_id"), ref.get("source_version")]
        result.violate("erp", record_id, "source_system, source_id, source_version of an existing record", actual,
                       problem)


def _customer_ref(customer: Record) -> dict[str, Any]:
    """Return a customer's source: its CRM account (the account's version is not required)."""
    return {"source_system": customer.get("source_system") or "crm",
            "source_id": customer.get("source_id") or customer.get("crm_account_id"),
            "source_version": customer.get("source_version") or 1}


def _lines(result: InvariantResult, evidence: Evidence, collection: str) -> None:
    erp = evidence.systems.erp
    transactions = erp.by_id("billable_transactions")
    for document in erp.all(collection):
        contract = erp.get("contracts", document.get("contract_id")) or {}
        plan_ids = {m.get("id") for m in (contract.get("billing_plan") or {}).get("milestones") or []
                    if isinstance(m, dict)}
        for line in document.get("lines") or []:
            if not isinstance(line, dict):
                continue
            line_id = f"{document.get('id')}/{line.get('line_no')}"
            _check(result, evidence, line_id, line)
            transaction_id = line.get("billable_transaction_id")
            if line.get("kind") in REVISED and transactions.get(str(transaction_id)) is None:
                result.violate("erp", line_id, "a billable transaction", transaction_id,
                               "line bills no billable transaction the ERP holds")
            if line.get("kind") == "MILESTONE" and line.get("milestone_id") not in plan_ids:
                result.violate("erp", line_id, "a milestone of the contract's billing plan", line.get("milestone_id"),
                               "line bills no milestone of its contract")


def audit_trail_complete(evidence: Evidence) -> InvariantResult:
    """Every ERP posting fed by another system names an existing source record and version."""
    result = InvariantResult("audit-trail-complete")
    erp = evidence.systems.erp
    for customer in erp.all("customers"):
        _check(result, evidence, str(customer.get("id")), _customer_ref(customer))
    for collection in ("contracts", "contract_versions", "estimates", "cost_actuals"):
        for record in erp.all(collection):
            _check(result, evidence, str(record.get("id")), record)
    for transaction in erp.all("billable_transactions"):
        _check(result, evidence, str(transaction.get("id")), transaction, REVISED.get(str(transaction.get("kind"))))
    _lines(result, evidence, "invoices")
    _lines(result, evidence, "credit_memos")
    for contract in erp.all("contracts"):
        for milestone in (contract.get("billing_plan") or {}).get("milestones") or []:
            if isinstance(milestone, dict) and milestone.get("status") in ("COMPLETED", "ACCEPTED", "BILLED"):
                _check(result, evidence, f"{contract.get('id')}/{milestone.get('id')}", milestone)
    return result
