"""Which event types each system emits, and which record schema of its spec their `data` is.

Every committed change appends one CloudEvents-shaped event whose `data` is the record after the
change (contracts/openapi/CONVENTIONS.md "Events"). This table names, per event type, the component
schema of the system's spec that the record conforms to; `generate.py` turns it into one versioned
JSON Schema per event type.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# system -> ((record schema, (event types...)), ...)
_FAMILIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "crm": (
        ("Account", ("crm.account.created", "crm.account.updated", "crm.account.erp_linked",
                     "crm.account.ar_status_changed")),
        ("Contact", ("crm.contact.created", "crm.contact.updated")),
        ("Opportunity", ("crm.opportunity.created", "crm.opportunity.updated", "crm.opportunity.stage_changed",
                         "crm.opportunity.sow_submitted", "crm.opportunity.sow_approved",
                         "crm.opportunity.sow_rejected", "crm.opportunity.closed_won", "crm.opportunity.closed_lost",
                         "crm.opportunity.cancelled", "crm.opportunity.delivery_linked",
                         "crm.opportunity.billing_status_changed")),
        ("Amendment", ("crm.amendment.created", "crm.amendment.updated", "crm.amendment.submitted",
                       "crm.amendment.approved", "crm.amendment.rejected")),
    ),
    "psa": (
        ("Project", ("psa.project.created", "psa.project.updated", "psa.project.activated", "psa.project.completed",
                     "psa.project.cancelled", "psa.project.budget_changed", "psa.project.estimate_changed",
                     "psa.project.billing_status_changed", "psa.project.dimensions_changed")),
        ("RateCard", ("psa.rate_card.created", "psa.rate_card.updated")),
        ("Task", ("psa.task.created",)),
        ("Milestone", ("psa.milestone.created", "psa.milestone.completed", "psa.milestone.accepted")),
        ("Resource", ("psa.resource.upserted", "psa.resource.cost_rates_changed")),
        ("Assignment", ("psa.assignment.created", "psa.assignment.updated")),
        ("TimeEntry", ("psa.time_entry.created", "psa.time_entry.updated", "psa.time_entry.deleted",
                       "psa.time_entry.submitted", "psa.time_entry.approved", "psa.time_entry.returned",
                       "psa.time_entry.recalled", "psa.time_entry.reopened", "psa.time_entry.recosted")),
        ("Expense", ("psa.expense.created", "psa.expense.updated", "psa.expense.deleted", "psa.expense.submitted",
                     "psa.expense.approved", "psa.expense.returned", "psa.expense.recalled",
                     "psa.expense.reopened")),
    ),
    "hcm": (
        ("Worker", ("hcm.worker.hired", "hcm.worker.updated", "hcm.worker.role_changed", "hcm.worker.terminated",
                    "hcm.worker.rehired")),
        ("Skill", ("hcm.skill.added", "hcm.skill.updated")),
        ("CostRate", ("hcm.cost_rate.created", "hcm.cost_rate.corrected")),
        ("TimeOff", ("hcm.time_off.requested", "hcm.time_off.approved", "hcm.time_off.rejected",
                     "hcm.time_off.cancelled")),
    ),
    "erp": (
        ("Customer", ("erp.customer.created", "erp.customer.updated", "erp.customer.credit_hold_set",
                      "erp.customer.credit_hold_released")),
        ("Contract", ("erp.contract.created", "erp.contract.version_added", "erp.contract.terminated",
                      "erp.contract.estimate_revised")),
        ("MilestoneRecord", ("erp.milestone.completed", "erp.milestone.accepted")),
        ("CostActual", ("erp.cost_actual.posted",)),
        ("BillableTransaction", ("erp.billable_transaction.posted", "erp.billable_transaction.reversed",
                                 "erp.billable_transaction.written_off")),
        ("BillingRun", ("erp.billing_run.completed",)),
        ("Invoice", ("erp.invoice.posted", "erp.invoice.reversed", "erp.invoice.written_off")),
        ("CreditMemo", ("erp.credit_memo.posted", "erp.credit_memo.applied", "erp.credit_memo.refunded")),
        ("RevenueRun", ("erp.revenue.recognized",)),
        ("FxRate", ("erp.fx_rate.created",)),
        ("Payment", ("erp.payment.received", "erp.payment.applied")),
        ("Ledger", ("erp.period.closed", "erp.period.reopened")),
    ),
}

EVENT_RECORDS: dict[str, tuple[str, str]] = {
    event_type: (system, record)
    for system, families in _FAMILIES.items()
    for record, event_types in families
    for event_type in event_types
}
"""event type -> (system kind, record schema name in that system's spec)."""


def event_types(system: str | None = None) -> list[str]:
    """Return the known event types (of one system kind, or all), in catalog order."""
    return [event_type for event_type, (kind, _) in EVENT_RECORDS.items() if system in (None, kind)]


def schema_file_name(event_type: str, version: int = SCHEMA_VERSION) -> str:
    """Return the file name of an event type's schema (`psa.time_entry.approved.v1.json`)."""
    return f"{event_type}.v{version}.json"
