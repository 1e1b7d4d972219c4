"""What revenue recognition needs to know about a contract, read from the ERP's records.

Version 1 of a contract gives the base figures; each later version is a modification: not distinct
-> cumulative catch-up, distinct but not at standalone price -> prospective (a distinct change at
standalone price is refused upstream: it is booked as its own contract). Cost actuals arrive as
cumulative figures to a day (a period's last day, or the eve of a change order inside the period) and
become the cost incurred between one figure and the next, dated on the later figure's day.

Billable expenses on a fixed-fee or retainer contract are passed through outside the fee: they form a
second stream of the contract, recognized by the right-to-invoice expedient like T&M work. Both streams
post to the contract's one ledger position, where approved expenses not yet invoiced are an unbilled
receivable and only the fee nets to a contract asset or liability (`ledger_postings.netted_position`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, TypeVar

from simulators.common.store import Record, Store
from simulators.erp.money import add_months, period_end, period_of
from simulators.erp.revenue import (
    BillableValue,
    Billing,
    ContractModification,
    CostActual,
    EstimateRevision,
    Milestone,
    ModificationKind,
    RetainerTerm,
    RevenueContract,
    RevenuePolicy,
)

ZERO = Decimal(0)
T = TypeVar("T")
PASS_THROUGH_MODELS = ("FIXED_FEE", "RETAINER")


# per store: what revenue made of a record, by (kind, record id), with the very record it was made from
_DERIVED: weakref.WeakKeyDictionary[Store, dict[tuple[str, str], tuple[Record, Any]]] = weakref.WeakKeyDictionary()
# per store: a contract's revenue streams by contract id, with the contract and input records they were made from
_STREAMS: weakref.WeakKeyDictionary[Store, dict[str, tuple[Record, tuple[list[Record], ...], Any]]] = \
    weakref.WeakKeyDictionary()


class ContractRecords:
    """The records revenue reads of a contract, through the store's index by contract.

    A run reads its own entity's contracts only (grouping every collection of the store, every entity's
    records, was a scan of the whole history on every run); a run writes none of these collections.
    """

    COLLECTIONS = ("contract_versions", "estimates", "cost_actuals", "billable_transactions", "invoices",
                   "credit_memos")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._read: dict[tuple[str, str], list[Record]] = {}
        self._derived = _DERIVED.setdefault(store, {})
        self.streams = _STREAMS.setdefault(store, {})

    def of(self, collection: str, contract_id: str) -> list[Record]:
        """Return a contract's records of a collection, in id order."""
        key = (collection, contract_id)
        records = self._read.get(key)
        if records is None:
            records = self._read[key] = self._store.where_equal(collection, "contract_id", contract_id)
        return records

    def derived(self, kind: str, record: Record, make: Callable[[Record], T]) -> T:
        """Return `make(record)`, made once per version of a record (what every monthly run reads again).

        Records are never changed in place (a write stores a new dict), so the value made from this
        very dict still holds; one per record id is kept, the value of its latest version read.
        """
        key = (kind, record["id"])
        known = self._derived.get(key)
        if known is not None and known[0] is record:
            value: T = known[1]
            return value
        value = make(record)
        self._derived[key] = (record, value)
        return value


def versions_of(records: ContractRecords, contract_id: str) -> list[Record]:
    """Return a contract's versions, oldest first."""
    return sorted(records.of("contract_versions", contract_id), key=lambda v: v["source_version"])


def modification_kind(version: Record) -> ModificationKind:
    """Return how a change order is accounted for (ASC 606-10-25-10..13)."""
    if version["distinct"] and version["priced_at_standalone"]:
        return ModificationKind.SEPARATE_CONTRACT
    return ModificationKind.PROSPECTIVE if version["distinct"] else ModificationKind.CUMULATIVE_CATCH_UP


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _estimates(records: ContractRecords, contract_id: str) -> tuple[EstimateRevision, ...]:
    by_date = {e["effective_date"]: Decimal(e["eac"]) for e in records.of("estimates", contract_id)}
    return tuple(EstimateRevision(date.fromisoformat(day), eac) for day, eac in sorted(by_date.items()))


def _costs(records: ContractRecords, contract_id: str) -> tuple[CostActual, ...]:
    actuals = sorted(records.of("cost_actuals", contract_id), key=lambda a: a["as_of"])
    costs, before = [], ZERO
    for actual in actuals:
        cumulative = Decimal(actual["cumulative_cost"])
        costs.append(CostActual(date.fromisoformat(actual["as_of"]), cumulative - before, reference=actual["id"]))
        before = cumulative
    return tuple(costs)


def _billable_value(transaction: Record) -> BillableValue:
    return BillableValue(date.fromisoformat(transaction["date"]),
                         Decimal(transaction["amount"]) - Decimal(transaction["written_off_amount"]), transaction["id"])


def _billable_values(records: ContractRecords, contract_id: str, expenses_only: bool) -> tuple[BillableValue, ...]:
    derived = records.derived
    return tuple(derived("billable_value", t, _billable_value)
                 for t in records.of("billable_transactions", contract_id)
                 if t["status"] != "REVERSED" and (not expenses_only or t["kind"] == "EXPENSE"))


def _billed(lines: list[dict[str, Any]], expenses: bool | None) -> Decimal:
    return sum((Decimal(line["net_amount"]) for line in lines
                if expenses is None or (line["kind"] == "EXPENSE") == expenses), ZERO)


def passed_through(contract: Record, lines: list[dict[str, Any]]) -> Decimal:
    """Return the reimbursable expenses among a document's lines (none unless the contract passes them through)."""
    return _billed(lines, True) if contract["billing_model"] in PASS_THROUGH_MODELS else ZERO


def _billings(records: ContractRecords, contract_id: str, expenses: bool | None) -> tuple[Billing, ...]:
    """Return the contract's invoices (+) and credit memos (-), net of tax; `expenses` picks a stream's lines."""
    kind = f"billing-{expenses}"
    billings = [records.derived(kind, i, lambda i: Billing(date.fromisoformat(i["invoice_date"]),
                                                           _billed(i["lines"], expenses), i["id"]))
                for i in records.of("invoices", contract_id)]
    billings += [records.derived(kind, c, lambda c: Billing(date.fromisoformat(c["credit_date"]),
                                                            -_billed(c["lines"], expenses), c["id"]))
                 for c in records.of("credit_memos", contract_id)]
    return tuple(billing for billing in billings if billing.amount != 0)


def _milestone(plan_milestone: dict[str, Any], amount: str) -> Milestone:
    return Milestone(plan_milestone["id"], Decimal(amount), _day(plan_milestone["completed_on"]),
                     _day(plan_milestone["accepted_on"]), plan_milestone["requires_acceptance"])


def _retainer_terms(contract: Record, versions: list[Record]) -> tuple[RetainerTerm, ...]:
    """Fee segments: a catch-up reprices the whole service, a prospective change applies from its date."""
    base = versions[0]["billing_plan"]["retainer"]
    start = date.fromisoformat(base["start_date"])
    breakpoints: list[tuple[date, Decimal]] = [(start, Decimal(base["monthly_fee"]))]
    term_months = base["term_months"]
    for version in versions[1:]:
        retainer = version["billing_plan"]["retainer"]
        fee = Decimal(retainer["monthly_fee"])
        term_months = retainer["term_months"]
        effective = date.fromisoformat(version["effective_date"])
        if version["distinct"] and effective > start:
            breakpoints = [point for point in breakpoints if point[0] < effective] + [(effective, fee)]
        else:
            breakpoints = [(day, fee) for day, _ in breakpoints]
    last_month = add_months(period_of(start), term_months - 1)
    end = period_end(last_month) if last_month is not None else date.max
    if contract["termination"] is not None:
        end = min(end, date.fromisoformat(contract["termination"]["effective_date"]))
    terms = []
    for index, (day, fee) in enumerate(breakpoints):
        following = breakpoints[index + 1][0] - timedelta(days=1) if index + 1 < len(breakpoints) else end
        if day <= min(following, end):
            terms.append(RetainerTerm(day, min(following, end), fee))
    return tuple(terms) or (RetainerTerm(start, start, ZERO),)


def _modifications(policy: RevenuePolicy, contract: Record, versions: list[Record]) -> tuple[ContractModification, ...]:
    if policy is RevenuePolicy.STRAIGHT_LINE:
        return ()
    if policy is RevenuePolicy.RIGHT_TO_INVOICE and contract["billing_model"] != "CAPPED_TM":
        return ()
    known = {m["id"] for m in versions[0]["billing_plan"]["milestones"]}
    current = {m["id"]: m for m in contract["billing_plan"]["milestones"]}
    modifications = []
    for previous, version in pairwise(versions):
        kind = modification_kind(version)
        if policy is RevenuePolicy.RIGHT_TO_INVOICE:
            added = Decimal(version["billing_plan"]["cap_amount"]) - Decimal(previous["billing_plan"]["cap_amount"])
        else:
            added = Decimal(version["total_price"]) - Decimal(previous["total_price"])
        fields: dict[str, Any] = {}
        if policy is RevenuePolicy.POINT_IN_TIME:
            before = {m["id"]: m["amount"] for m in previous["billing_plan"]["milestones"]}
            new = [m for m in version["billing_plan"]["milestones"] if m["id"] not in known]
            if kind is ModificationKind.PROSPECTIVE:
                fields["added_milestones"] = tuple(_milestone(current.get(m["id"], m), m["amount"]) for m in new)
                known |= {m["id"] for m in new}
            else:
                changed = [m["id"] for m in version["billing_plan"]["milestones"]
                           if m["id"] in known and before.get(m["id"]) != m["amount"]]
                if added == 0 and not changed:
                    continue
                fields["milestone_id"] = changed[0] if changed else version["billing_plan"]["milestones"][-1]["id"]
        modifications.append(ContractModification(version["id"], date.fromisoformat(version["effective_date"]),
                                                  kind, added, **fields))
    return tuple(modifications)


def _contract_stream(records: ContractRecords, contract: Record, versions: list[Record],
                     pass_through: bool) -> RevenueContract:
    policy = RevenuePolicy(contract["revenue_policy"])
    base = versions[0]
    fields: dict[str, Any] = {}
    if policy is RevenuePolicy.COST_TO_COST:
        fields = {"transaction_price": Decimal(base["total_price"]), "estimates": _estimates(records, contract["id"]),
                  "costs": _costs(records, contract["id"])}
    elif policy is RevenuePolicy.RIGHT_TO_INVOICE:
        cap = base["billing_plan"]["cap_amount"]
        fields = {"transaction_price": None if cap is None else Decimal(cap),
                  "billable_values": _billable_values(records, contract["id"], expenses_only=False)}
    elif policy is RevenuePolicy.POINT_IN_TIME:
        current = {m["id"]: m for m in contract["billing_plan"]["milestones"]}
        fields = {"milestones": tuple(_milestone(current.get(m["id"], m), m["amount"])
                                      for m in base["billing_plan"]["milestones"])}
    else:
        fields = {"retainer_terms": _retainer_terms(contract, versions)}
    billings = _billings(records, contract["id"], False if pass_through else None)
    return RevenueContract(contract["id"], contract["currency"], policy, billings=billings,
                           modifications=_modifications(policy, contract, versions), **fields)


def revenue_streams(records: ContractRecords, contract: Record) -> list[tuple[str, RevenueContract]]:
    """Return a contract's revenue streams as revenue recognition sees them (raises RevenueInputError).

    CONTRACT is the contract under its policy; PASS_THROUGH_EXPENSES, on fixed-fee and retainer
    contracts that bill expenses, is those expenses by the right-to-invoice expedient.

    The streams are made again only when the contract or one of its input records changed since the
    last run made them (a finished contract is read by every later run): the records are compared by
    identity first, and a record equal to the one they were made from makes the same streams.
    """
    inputs = tuple(records.of(collection, contract["id"]) for collection in ContractRecords.COLLECTIONS)
    known = records.streams.get(contract["id"])
    if known is not None and known[0] is contract and known[1] == inputs:
        made: list[tuple[str, RevenueContract]] = known[2]
        return made
    streams = _revenue_streams(records, contract)
    records.streams[contract["id"]] = (contract, inputs, streams)
    return streams


def _revenue_streams(records: ContractRecords, contract: Record) -> list[tuple[str, RevenueContract]]:
    versions = versions_of(records, contract["id"])
    pass_through = contract["billing_model"] in PASS_THROUGH_MODELS
    streams = [("CONTRACT", _contract_stream(records, contract, versions, pass_through))]
    if pass_through:
        values = _billable_values(records, contract["id"], expenses_only=True)
        billings = _billings(records, contract["id"], True)
        if values or billings:
            streams.append(("PASS_THROUGH_EXPENSES", RevenueContract(
                contract["id"], contract["currency"], RevenuePolicy.RIGHT_TO_INVOICE, billable_values=values,
                billings=billings)))
    return streams
