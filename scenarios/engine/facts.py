"""The kinds of fact the actors record in truth, and the fields each carries.

This is the contract between the firm model (which records facts as it acts) and the oracle (which
recomputes what the systems should hold from them). `Truth.record` refuses a fact whose fields
differ from its kind's. Ids are the systems' own ids the actor got back (CRM, PSA, HCM, ERP);
amounts are decimal strings; dates are ISO dates.

How the firm model fills them (scenarios/engine/actors):
- `*_approved.revision` is the revision the approver approved; `*_reopened.revision` is the revision
  that was approved and is now withdrawn (the entry comes back, if corrected, as revision + 1).
- `time_approved.bill_rate` is the deal's rate for the assignment's role: the sold rate card for
  TIME_AND_MATERIALS and CAPPED_TM, the rates the deal was priced at for FIXED_FEE and RETAINER
  (informational: those bill milestones and fees). `amount` = hours x bill_rate, 0 when not billable.
- `deal_won.rate_card` is that rate card for every billing model; `milestones` are the deal's
  billing milestones in the order the CRM holds them (index = position); `expected_exception` is
  the bad master data kind injected on the deal (`missing_tax_registration`, ...), else None.
- `master_data_fixed`: a missing tax registration is added to the account; a deal with an unknown
  practice or a currency its entity cannot bill is cancelled (a `deal_cancelled` fact, WRITE_OFF)
  and booked again as a new, clean deal.
- `cost_rate_set.retroactive` is HCM's flag (a correction of a date in force, or a backdated rate).
- `payment_made.amount` is allocated in full to `invoice_id`.
- `credit_applied`: finance applied `amount` of the customer credit left open on `credit_memo_id` (a
  credit memo against an invoice already paid) to the open invoice `invoice_id`; `credit_refunded`:
  finance paid `amount` of it back to the customer. `invoice_written_off.amount` is what was still open
  on the invoice when finance wrote it off as bad debt.
"""

from __future__ import annotations

FACT_FIELDS: dict[str, tuple[str, ...]] = {
    # HR (HCM)
    "worker_hired": ("worker_id", "legal_entity", "role", "worker_type", "practice", "hire_date",
                     "weekly_capacity_hours"),
    "cost_rate_set": ("worker_id", "cost_rate_id", "effective_from", "hourly_cost", "currency", "reason",
                      "retroactive"),
    "worker_terminated": ("worker_id", "termination_date"),
    # Sales (CRM). customer_key names the real-world company: duplicate CRM accounts share it.
    "account_created": ("account_id", "customer_key", "name", "country", "tax_id", "parent_account_id"),
    "deal_won": ("opportunity_id", "account_id", "customer_key", "legal_entity", "currency", "billing_model",
                 "practice", "amount", "service_start", "service_end", "rate_card", "milestones", "monthly_fee",
                 "cap_amount", "expected_exception"),
    "deal_lost": ("opportunity_id",),
    "master_data_fixed": ("opportunity_id", "account_id", "kind"),
    "contract_amended": ("opportunity_id", "amendment_id", "contract_version", "contract_amount", "amount_change",
                         "effective_date", "distinct", "priced_at_standalone"),
    "deal_cancelled": ("opportunity_id", "effective_date", "unbilled_rule"),
    # Delivery (PSA). rate is the deal's agreed bill rate for the role; cost is from the worker's HCM rate.
    "project_staffed": ("project_id", "opportunity_id", "resource_id", "role", "start_date", "end_date"),
    "time_approved": ("time_entry_id", "revision", "project_id", "opportunity_id", "resource_id", "role", "date",
                      "hours", "billable", "bill_rate", "amount", "currency"),
    "time_reopened": ("time_entry_id", "revision", "project_id", "opportunity_id"),
    "expense_approved": ("expense_id", "revision", "project_id", "opportunity_id", "resource_id", "date", "amount",
                         "currency", "billable"),
    "expense_reopened": ("expense_id", "revision", "project_id", "opportunity_id"),
    "milestone_completed": ("milestone_id", "project_id", "opportunity_id", "name", "amount", "requires_acceptance",
                            "completed_on"),
    "milestone_accepted": ("milestone_id", "project_id", "opportunity_id", "accepted_on"),
    "estimate_set": ("project_id", "opportunity_id", "eac_cost", "as_of"),
    "project_completed": ("project_id", "opportunity_id", "completed_on"),
    # Finance and customers (ERP)
    "billing_run": ("billing_run_id", "legal_entity", "period_end", "invoice_ids"),
    "revenue_run": ("revenue_run_id", "legal_entity", "period"),
    "invoice_disputed": ("invoice_id", "customer_id", "contract_id", "reason"),
    "payment_made": ("payment_id", "customer_id", "invoice_id", "amount", "currency", "received_on"),
    "credit_applied": ("credit_memo_id", "customer_id", "invoice_id", "amount", "currency", "applied_on"),
    "credit_refunded": ("credit_memo_id", "customer_id", "amount", "currency", "refunded_on"),
    "invoice_written_off": ("invoice_id", "customer_id", "amount", "currency", "written_off_on", "reason"),
    "period_closed": ("legal_entity", "period"),
}
