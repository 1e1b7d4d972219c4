"""The canonical model of delivered work and its money: time entries, expenses, milestones, billable
transactions, invoices, credit memos, payments, and the billing and AR status written back.

Frozen dataclasses without I/O. `syncengine.mapping.psa_work` and `syncengine.mapping.erp_billing`
read and write them in the systems' API shapes. Money is `Decimal` next to its ISO 4217 currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from syncengine.domain.money import quantize
from syncengine.domain.records import quick_init

ZERO = Decimal("0.00")
TRANSACTION_MODELS = frozenset({"TIME_AND_MATERIALS", "CAPPED_TM"})
"""Billing models billed from billable transactions. The ERP's spec (`createBillableTransaction`,
422 `not-billable`) refuses time and expenses on FIXED_FEE and RETAINER contracts: their fee covers
both."""


class EntryKind(StrEnum):
    """What a billable transaction bills."""

    TIME = "TIME"
    EXPENSE = "EXPENSE"


class EntryStatus(StrEnum):
    """Where a time entry or expense stands in its approval lifecycle."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    RETURNED = "RETURNED"
    RECALLED = "RECALLED"
    REOPENED = "REOPENED"


@quick_init
@dataclass(frozen=True, slots=True)
class Valuation:
    """What one approved revision of an entry is worth: quantity x rate = amount, in `currency`."""

    revision: int
    date: date
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    currency: str
    billable: bool


@dataclass(frozen=True, slots=True)
class WorkEntry:
    """A time entry or expense as the PSA last showed it (the base of `TimeEntry` and `Expense`).

    Each approval cycle is a revision: revision r is approved at most once, and an entry seen at a
    later revision has left every earlier one behind (reopened, then resubmitted).
    """

    KIND: ClassVar[EntryKind]
    KEY_PREFIX: ClassVar[str]

    system: str
    entry_id: str
    version: int
    project_id: str
    worker_id: str
    status: EntryStatus
    revision: int
    approvals: tuple[Valuation, ...]
    description: str | None
    role: str | None = None
    """The role the work was done in (time entries)."""

    @property
    def kind(self) -> EntryKind:
        """Return what the entry bills (time or expense)."""
        return self.KIND

    @property
    def current_approval(self) -> Valuation | None:
        """Return the valuation of the current revision while the entry is APPROVED, else None."""
        if self.status is not EntryStatus.APPROVED:
            return None
        for valuation in reversed(self.approvals):
            if valuation.revision == self.revision:
                return valuation
        return None

    def posting_key(self, revision: int) -> str:
        """Return the canonical key of one revision's posting (`time:<id>:<revision>`)."""
        return self.posting_key_of(self.entry_id, revision)

    @classmethod
    def posting_key_of(cls, entry_id: str, revision: int) -> str:
        """Return the canonical key of one revision's posting of the entry of this kind with id `entry_id`."""
        return f"{cls.KEY_PREFIX}:{entry_id}:{revision}"

    def external_id(self, revision: int) -> str:
        """Return the ERP `external_id` of one revision's posting, unique across system instances."""
        return f"{self.system}:{self.entry_id}:v{revision}"


@quick_init
@dataclass(frozen=True, slots=True)
class TimeEntry(WorkEntry):
    """Hours a resource worked on a project."""

    KIND: ClassVar[EntryKind] = EntryKind.TIME
    KEY_PREFIX: ClassVar[str] = "time"


@quick_init
@dataclass(frozen=True, slots=True)
class Expense(WorkEntry):
    """An out-of-pocket cost of a resource on a project, rebilled when billable."""

    KIND: ClassVar[EntryKind] = EntryKind.EXPENSE
    KEY_PREFIX: ClassVar[str] = "expense"

    category: str = "OTHER"


@dataclass(frozen=True, slots=True)
class PlanMilestone:
    """One milestone of an ERP contract's billing plan, as far as the engine needs it."""

    milestone_id: str
    status: str
    requires_acceptance: bool


@dataclass(frozen=True, slots=True)
class BillingTerms:
    """What the money flows need to know of an ERP contract."""

    contract_id: str
    version: int
    customer_id: str
    billing_model: str
    revenue_policy: str
    currency: str
    status: str
    milestones: tuple[PlanMilestone, ...] = ()
    terminated_on: date | None = None
    """The termination's effective date: nothing dated after it is billed."""

    @property
    def bills_transactions(self) -> bool:
        """Tell whether approved time becomes billable transactions on this contract (billable expenses always do)."""
        return self.billing_model in TRANSACTION_MODELS

    @property
    def measures_cost(self) -> bool:
        """Tell whether revenue follows cost-to-cost (a fixed fee measured by cost actuals)."""
        return self.billing_model == "FIXED_FEE" and self.revenue_policy == "COST_TO_COST"

    def milestone(self, milestone_id: str) -> PlanMilestone | None:
        """Return a billing-plan milestone by its id."""
        return next((item for item in self.milestones if item.milestone_id == milestone_id), None)


@quick_init
@dataclass(frozen=True, slots=True)
class BillableTransaction:
    """One approved revision of a billable entry, as posted to the ERP's unbilled pool."""

    contract_id: str
    kind: EntryKind
    source_system: str
    source_id: str
    source_version: int
    date: date
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    currency: str
    external_id: str
    description: str | None = None
    worker_id: str | None = None
    role: str | None = None

    @classmethod
    def of(cls, entry: WorkEntry, valuation: Valuation, contract_id: str, source_system: str) -> BillableTransaction:
        """Return the posting of one approved revision of an entry to a contract."""
        # by position, in the fields' order: a third cheaper than by keyword, once per posting
        return cls(contract_id, entry.kind, source_system, entry.entry_id, valuation.revision, valuation.date,
                   valuation.quantity, valuation.rate, valuation.amount, valuation.currency,
                   entry.external_id(valuation.revision), entry.description, entry.worker_id, entry.role)


@dataclass(frozen=True, slots=True)
class Milestone:
    """A PSA billing milestone: completed by delivery, accepted by the customer where required."""

    milestone_id: str
    version: int
    project_id: str
    status: str
    requires_acceptance: bool
    completed_on: date | None
    accepted_on: date | None


@dataclass(frozen=True, slots=True)
class ProjectCost:
    """A project's approved cost to a day (its period's end, or the eve of a change order), by currency
    (PSA cost actuals)."""

    project_id: str
    period: str
    through: date
    cumulative: tuple[tuple[str, Decimal], ...]

    def foreign_currencies(self, currency: str) -> list[str]:
        """Return the other currencies that hold cost (the ERP takes one figure in the contract's)."""
        return [code for code, amount in self.cumulative if code != currency and amount != 0]

    def cumulative_in(self, currency: str, rates: Mapping[str, Decimal] | None = None) -> Decimal:
        """Return the cumulative cost in `currency`, other currencies converted at `rates` (one unit of
        each in `currency`), rounded half up once."""
        total = ZERO
        for code, amount in self.cumulative:
            if code == currency:
                total += amount
            elif amount != 0:
                total += amount * (rates or {})[code]
        return quantize(total, currency)


@dataclass(frozen=True, slots=True)
class Invoice:
    """A posted ERP invoice and what became of it (credits, payments)."""

    invoice_id: str
    version: int
    customer_id: str
    contract_id: str
    currency: str
    due_date: date
    total: Decimal
    credited_total: Decimal
    amount_paid: Decimal
    open_amount: Decimal
    status: str


@dataclass(frozen=True, slots=True)
class CreditMemo:
    """A posted ERP credit memo, crediting (part of) one invoice."""

    credit_memo_id: str
    version: int
    customer_id: str
    contract_id: str
    invoice_id: str
    currency: str
    total: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    """A customer payment received by the ERP, and the invoices it was applied to."""

    payment_id: str
    version: int
    customer_id: str
    currency: str
    amount: Decimal
    invoice_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BillingStatus:
    """What the ERP invoiced, credited and collected on one contract (gross of tax)."""

    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    currency: str
    credit_hold: bool
    as_of: datetime

    @classmethod
    def of(cls, invoices: Iterable[Invoice], currency: str, credit_hold: bool, as_of: datetime) -> BillingStatus:
        """Sum a contract's invoices into its billing status."""
        invoiced = credited = paid = ZERO
        for invoice in invoices:
            invoiced += invoice.total
            credited += invoice.credited_total
            paid += invoice.amount_paid
        return cls(quantize(invoiced, currency), quantize(credited, currency), quantize(paid, currency), currency,
                   credit_hold, as_of)


@dataclass(frozen=True, slots=True)
class ArStatus:
    """A customer's receivables as the ERP sees them: balance (open items less unapplied cash, negative
    when the customer is in credit), what of it is past due, and the credit hold."""

    balance: Decimal
    overdue: Decimal
    currency: str
    credit_hold: bool
    as_of: datetime
