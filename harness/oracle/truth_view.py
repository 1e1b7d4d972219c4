"""Truth read for checking: the facts of scenarios/engine/facts.py as typed records, and their timelines.

Everything here is derived from truth alone (never from a system): which deals should exist in the
systems, each contract's versions, which time and expense revisions are approved and not reopened,
which cost rate applied to a worker on a date (the latest correction wins), and so on. `before`
arguments take a fact sequence number: the view as it stood just before that fact (e.g. a revenue run).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any, Generic, TypeVar

from harness.oracle.truth_facts import (
    AccountFact,
    Amendment,
    BillingRun,
    Cancellation,
    CostRate,
    CreditApplied,
    CreditRefunded,
    Deal,
    Dispute,
    Estimate,
    ExpenseLine,
    MilestoneFact,
    PaymentFact,
    RevenueRun,
    TimeLine,
    Worker,
    WriteOff,
    read_fact,
)
from harness.oracle.values import BadValue
from scenarios.engine.truth import Fact

EVERYTHING = 1 << 62
SETTLE = timedelta(hours=2)
"""How long the sync engine may take to carry a fact to its target before a run must see it.

A billing or revenue run started less than this after a fact may or may not include it (the fact
can still be in flight, e.g. retried after a 503); either is accepted, and a later run must include it.
"""
Line = TypeVar("Line", TimeLine, ExpenseLine)
Step = tuple[int, str, Line | None]


@dataclass(frozen=True, slots=True)
class Revisions(Generic[Line]):
    """Where each entry stands: its approved and not reopened revision, and the revisions voided since."""

    live: dict[str, Line]
    voided: list[Line]
    by_opportunity: dict[str, list[Line]]


class TruthView:
    """Truth's facts, typed and indexed by the ids the systems use."""

    def __init__(self, facts: Iterable[Fact]) -> None:
        self.deals: dict[str, Deal] = {}
        self.lost: set[str] = set()
        self.fixed: dict[str, int] = {}
        self.accounts: dict[str, AccountFact] = {}
        self.amendments: dict[str, list[Amendment]] = {}
        self.cancellations: dict[str, Cancellation] = {}
        self.time: list[TimeLine] = []
        self.time_reopens: list[tuple[int, str]] = []
        self.expenses: list[ExpenseLine] = []
        self.expense_reopens: list[tuple[int, str]] = []
        self.milestones: dict[str, MilestoneFact] = {}
        self.workers: dict[str, Worker] = {}
        self.cost_rates: list[CostRate] = []
        self.estimates: dict[str, list[Estimate]] = {}
        self.billing_runs: list[BillingRun] = []
        self.revenue_runs: list[RevenueRun] = []
        self.payments: list[PaymentFact] = []
        self.disputes: list[Dispute] = []
        self.credit_applications: list[CreditApplied] = []
        self.credit_refunds: list[CreditRefunded] = []
        self.write_offs: list[WriteOff] = []
        self.last_sequence = 0
        self._time_cache: dict[int, Revisions[TimeLine]] = {}
        self._expense_cache: dict[int, Revisions[ExpenseLine]] = {}
        self._time_steps: list[Step[TimeLine]] | None = None
        self._expense_steps: list[Step[ExpenseLine]] | None = None
        self._rates_by_worker: dict[str, list[CostRate]] = {}
        self._expense_ids: dict[str, frozenset[str]] | None = None
        self._sequences: list[int] = []
        self._instants: list[datetime] = []
        for fact in sorted(facts, key=lambda f: f.sequence):
            self._add(fact.sequence, fact.kind, read_fact(fact))
            self._sequences.append(fact.sequence)
            self._instants.append(_instant(fact))
            self.last_sequence = fact.sequence

    # -- time --------------------------------------------------------------------------------------

    def instant(self, sequence: int) -> datetime:
        """Return when a fact was recorded."""
        return self._instants[bisect_right(self._sequences, sequence) - 1]

    def settled_before(self, sequence: int) -> int:
        """Return the first sequence recorded less than SETTLE before a fact (facts before it had settled)."""
        cutoff = self.instant(sequence) - SETTLE
        index = bisect_right(self._instants, cutoff)
        return self._sequences[index] if index < len(self._sequences) else EVERYTHING

    def settled(self, earlier: int, later: int) -> bool:
        """Tell whether a fact had settled (was recorded at least SETTLE before) by a later one."""
        return self.instant(later) - self.instant(earlier) >= SETTLE

    def _add(self, sequence: int, kind: str, record: Any) -> None:
        if isinstance(record, Deal):
            self.deals[record.opportunity_id] = record
        elif kind == "deal_lost":
            self.lost.add(record)
        elif kind == "master_data_fixed":
            self.fixed.setdefault(record, sequence)
        elif isinstance(record, AccountFact):
            self.accounts[record.account_id] = record
        elif isinstance(record, Amendment):
            self.amendments.setdefault(record.opportunity_id, []).append(record)
        elif isinstance(record, Cancellation):
            self.cancellations[record.opportunity_id] = record
        elif isinstance(record, TimeLine):
            self.time.append(record)
        elif kind == "time_reopened":
            self.time_reopens.append((sequence, record))
        elif isinstance(record, ExpenseLine):
            self.expenses.append(record)
        elif kind == "expense_reopened":
            self.expense_reopens.append((sequence, record))
        elif isinstance(record, MilestoneFact):
            self.milestones[record.milestone_id] = record
        elif kind == "milestone_accepted":
            milestone_id, accepted_on = record
            if milestone_id in self.milestones:
                self.milestones[milestone_id] = self.milestones[milestone_id].accepted(accepted_on, sequence)
        elif isinstance(record, Worker):
            self.workers[record.worker_id] = record
        elif isinstance(record, CostRate):
            self.cost_rates.append(record)
            self._rates_by_worker.setdefault(record.worker_id, []).append(record)
        elif isinstance(record, Estimate):
            self.estimates.setdefault(record.opportunity_id, []).append(record)
        elif isinstance(record, BillingRun):
            self.billing_runs.append(record)
        elif isinstance(record, RevenueRun):
            self.revenue_runs.append(record)
        elif isinstance(record, PaymentFact):
            self.payments.append(record)
        elif isinstance(record, Dispute):
            self.disputes.append(record)
        elif isinstance(record, CreditApplied):
            self.credit_applications.append(record)
        elif isinstance(record, CreditRefunded):
            self.credit_refunds.append(record)
        elif isinstance(record, WriteOff):
            self.write_offs.append(record)

    # -- deals -------------------------------------------------------------------------------------

    def reaches_systems(self, deal: Deal) -> bool:
        """Tell whether a won deal should have reached ERP and PSA: clean, or its bad data fixed in place.

        A bad deal cancelled before its fix was rebooked as a new deal (the fix of a wrong practice or
        currency): the bad one itself never reaches the systems.
        """
        return deal.expected_exception is None or (deal.opportunity_id in self.fixed
                                                    and not self.rebooked(deal.opportunity_id))

    def rebooked(self, opportunity_id: str) -> bool:
        """Tell whether a bad deal was fixed by cancelling it (and booking a new one)."""
        cancellation = self.cancellations.get(opportunity_id)
        fixed = self.fixed.get(opportunity_id)
        return cancellation is not None and fixed is not None and cancellation.sequence < fixed

    def delivered_deals(self) -> list[Deal]:
        """Return the won deals that should exist in ERP and PSA, in the order they were won."""
        return sorted((deal for deal in self.deals.values() if self.reaches_systems(deal)),
                      key=lambda deal: deal.sequence)

    def amendments_of(self, opportunity_id: str, before: int = EVERYTHING) -> list[Amendment]:
        """Return a deal's approved change orders recorded before a sequence, oldest version first."""
        found = [a for a in self.amendments.get(opportunity_id, []) if a.sequence < before]
        return sorted(found, key=lambda a: (a.version, a.sequence))

    def latest_version(self, deal: Deal) -> tuple[int, Decimal]:
        """Return a deal's latest approved contract version and its contract amount."""
        amendments = self.amendments_of(deal.opportunity_id)
        if not amendments:
            return 1, deal.amount
        latest = amendments[-1]
        return latest.version, latest.contract_amount

    def customer_key_of(self, account_id: str | None) -> str | None:
        """Return the real-world company an account stands for."""
        account = self.accounts.get(account_id or "")
        return None if account is None else account.customer_key

    # -- time and expenses -------------------------------------------------------------------------

    def time_revisions(self, before: int = EVERYTHING) -> Revisions[TimeLine]:
        """Return each time entry's approved, not reopened revision, and the revisions voided, before a sequence."""
        if before not in self._time_cache:
            if self._time_steps is None:
                self._time_steps = _steps(self.time, self.time_reopens)
            self._time_cache[before] = _revisions(self._time_steps, before)
        return self._time_cache[before]

    def expense_revisions(self, before: int = EVERYTHING) -> Revisions[ExpenseLine]:
        """Return each expense's approved, not reopened revision, and the revisions voided, before a sequence."""
        if before not in self._expense_cache:
            if self._expense_steps is None:
                self._expense_steps = _steps(self.expenses, self.expense_reopens)
            self._expense_cache[before] = _revisions(self._expense_steps, before)
        return self._expense_cache[before]

    def expense_ids_of(self, opportunity_id: str) -> frozenset[str]:
        """Return the ids of every expense recorded on a deal (any revision, reopened or not)."""
        if self._expense_ids is None:
            ids: dict[str, set[str]] = {}
            for expense in self.expenses:
                ids.setdefault(expense.opportunity_id, set()).add(expense.entry_id)
            self._expense_ids = {opportunity: frozenset(found) for opportunity, found in ids.items()}
        return self._expense_ids.get(opportunity_id, frozenset())

    # -- workforce and estimates -------------------------------------------------------------------

    def cost_rate(self, worker_id: str, on: date, before: int = EVERYTHING) -> CostRate | None:
        """Return the worker's cost rate on a date: for each start date the last fact wins, then the latest start."""
        by_start: dict[date, CostRate] = {}
        for rate in self._rates_by_worker.get(worker_id, []):
            if rate.sequence < before:
                by_start[rate.effective_from] = rate
        starts = [start for start in by_start if start <= on]
        return by_start[max(starts)] if starts else None

    def cost_schedule(self, worker_id: str) -> list[CostRate]:
        """Return a worker's effective cost rates at the end (corrections applied), by start date."""
        by_start = {rate.effective_from: rate for rate in self._rates_by_worker.get(worker_id, [])}
        return [by_start[start] for start in sorted(by_start)]

    def estimates_of(self, opportunity_id: str, before: int = EVERYTHING) -> list[Estimate]:
        """Return a deal's estimates at completion recorded before a sequence, in recording order."""
        return [e for e in self.estimates.get(opportunity_id, []) if e.sequence < before]

    # -- finance -----------------------------------------------------------------------------------

    def last_billing_run(self, legal_entity: str) -> BillingRun | None:
        """Return the last billing run recorded for a legal entity."""
        runs = [run for run in self.billing_runs if run.legal_entity == legal_entity]
        return runs[-1] if runs else None

    def last_revenue_run(self, legal_entity: str) -> RevenueRun | None:
        """Return the last revenue run recorded for a legal entity."""
        runs = [run for run in self.revenue_runs if run.legal_entity == legal_entity]
        return runs[-1] if runs else None


def _instant(fact: Fact) -> datetime:
    try:
        instant = datetime.fromisoformat(str(fact.at).replace("Z", "+00:00"))
    except ValueError as error:
        raise BadValue(f"truth fact #{fact.sequence} ({fact.kind}): `at` {fact.at!r} is not an ISO instant") from error
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _steps(approvals: list[Line], reopens: list[tuple[int, str]]) -> list[Step[Line]]:
    """Return approvals (the line) and reopens (None) of entries in fact order."""
    steps: list[Step[Line]] = [(line.sequence, line.entry_id, line) for line in approvals]
    steps += [(sequence, entry_id, None) for sequence, entry_id in reopens]
    steps.sort(key=itemgetter(0))
    return steps


def _revisions(steps: list[Step[Line]], before: int) -> Revisions[Line]:
    """Replay approvals and reopens in fact order: a reopen voids the entry's approved revision."""
    live: dict[str, Line] = {}
    voided: list[Line] = []
    for sequence, entry_id, line in steps:
        if sequence >= before:
            break
        if entry_id in live:
            voided.append(live.pop(entry_id))
        if line is not None:
            live[entry_id] = line
    by_opportunity: dict[str, list[Line]] = {}
    for line in live.values():
        by_opportunity.setdefault(line.opportunity_id, []).append(line)
    return Revisions(live, voided, by_opportunity)
