"""The canonical model of the deal side: customer, contract terms by version, project, worker, cost rate.

Pure (no I/O): frozen dataclasses and the canonical keys the ledger links them under. The rules
(customer identity, the checks a deal must pass) are in `deal_rules`; mapping to and from each
system's API shapes lives in `syncengine.mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WON = "WON"
CANCELLED = "CANCELLED"
SOW_APPROVED = "APPROVED"
MAX_HIERARCHY_DEPTH = 20


# -- canonical keys (shared with the money flows) -----------------------------------------------

def deal_key(opportunity_id: str) -> str:
    """Return the canonical key of a deal (`deal:<crm opportunity id>`)."""
    return f"deal:{opportunity_id}"


def contract_version_key(opportunity_id: str) -> str:
    """Return the applied-version key of a deal's contract (`contract:<crm opportunity id>`)."""
    return f"contract:{opportunity_id}"


def milestone_key(opportunity_id: str, index: int) -> str:
    """Return the canonical key of a deal's billing milestone (index in billing_milestones, from 0)."""
    return f"milestone:{opportunity_id}:{index}"


def customer_key(identity: str, legal_entity: str) -> str:
    """Return the canonical key of a company as one legal entity bills it (`customer:<identity>@<entity>`)."""
    return f"customer:{identity}@{legal_entity}"


def company_of(key: str) -> str:
    """Return the company identity a customer key names, whatever entity bills it."""
    return key.removeprefix("customer:").rsplit("@", 1)[0]


def worker_key(worker_id: str) -> str:
    """Return the canonical key (and applied-version key) of an HCM worker."""
    return f"worker:{worker_id}"


# -- the deal ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BillingMilestone:
    """One billing milestone of a fixed-fee deal, by its position in the deal's list."""

    index: int
    name: str
    amount: Decimal
    due_date: date
    requires_acceptance: bool

    @property
    def code(self) -> str:
        """Return the milestone's id in the ERP billing plan (`M1`, `M2` ...)."""
        return f"M{self.index + 1}"


@dataclass(frozen=True, slots=True)
class RateLine:
    """The hourly bill rate the deal sells a role at."""

    role: str
    hourly_rate: Decimal


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """A deal's contract terms at one contract version (1 at close, +1 per approved change order)."""

    version: int
    total_price: Decimal
    estimated_hours: Decimal | None
    service_start: date | None
    service_end: date | None
    milestones: tuple[BillingMilestone, ...] = ()
    monthly_fee: Decimal | None = None
    cap_amount: Decimal | None = None
    rate_card: tuple[RateLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Cancellation:
    """The customer cancelled a won deal: from when, and what happens to unbilled work."""

    effective_date: date
    unbilled_rule: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Deal:
    """A CRM opportunity as the engine sees it; `terms` is None until it is closed won."""

    opportunity_id: str
    record_version: int
    account_id: str
    name: str
    status: str
    sow_status: str
    currency: str
    billing_model: str | None
    legal_entity: str | None
    practice: str | None
    close_date: date
    terms: ContractTerms | None
    cancellation: Cancellation | None = None

    @property
    def key(self) -> str:
        """Return the deal's canonical key."""
        return deal_key(self.opportunity_id)


@dataclass(frozen=True, slots=True)
class ChangeOrder:
    """An approved CRM amendment: the contract version it made and how the ERP should account for it."""

    amendment_id: str
    opportunity_id: str
    status: str
    contract_version: int | None
    effective_date: date
    distinct: bool
    priced_at_standalone: bool
    description: str
    amount_change: Decimal = Decimal(0)
    milestones_added: int = 0
    hours_change: Decimal | None = None

    @property
    def separate_contract(self) -> bool:
        """Tell whether the change is a separate contract (R5 branch 1: distinct services at their standalone price)."""
        return self.distinct and self.priced_at_standalone


# -- the customer --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Account:
    """A CRM account (one node of the account hierarchy)."""

    account_id: str
    version: int
    name: str
    parent_account_id: str | None
    country: str
    us_state: str | None
    tax_id: str | None
    currency: str
    erp_customer_number: str | None


@dataclass(frozen=True, slots=True)
class Customer:
    """A company as one legal entity bills it (an ERP customer belongs to one entity).

    The company is deduplicated across CRM accounts by `identity`: the tax id of the account or
    its nearest ancestor (`tax:<id>`), else its normalised name and country (`name:<name>|<country>`).
    """

    identity: str
    legal_entity: str
    name: str
    country: str
    us_state: str | None
    tax_registration: str | None
    currency: str
    region: str
    account_id: str
    account_version: int

    @property
    def key(self) -> str:
        """Return the customer's canonical key (`customer:<identity>@<legal entity>`)."""
        return customer_key(self.identity, self.legal_entity)


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """A delivering legal entity as the ERP defines it."""

    code: str
    country: str
    currency: str
    tax_regime: str


# -- the project ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Project:
    """The PSA project a won deal is delivered in, with the ERP's financial dimensions."""

    opportunity_id: str
    name: str
    practice: str
    project_type: str
    customer_name: str
    billing_model: str
    currency: str
    legal_entity: str
    start_date: date
    end_date: date
    contract_version: int
    budget_hours: Decimal
    budget_amount: Decimal
    rates: tuple[RateLine, ...]
    rates_from: date
    erp_contract_id: str
    erp_customer_number: str
    service_line: str
    cost_center: str


# -- the workforce -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Worker:
    """An HCM worker as the PSA staffs it."""

    worker_id: str
    version: int
    name: str
    email: str | None
    role: str
    legal_entity: str
    practice: str | None
    worker_type: str
    active: bool

    @property
    def key(self) -> str:
        """Return the worker's canonical key."""
        return worker_key(self.worker_id)


@dataclass(frozen=True, slots=True)
class CostRate:
    """An effective-dated hourly cost of a worker (HCM owns them, corrections included)."""

    effective_from: date
    hourly_cost: Decimal
    currency: str
    source_version: int
