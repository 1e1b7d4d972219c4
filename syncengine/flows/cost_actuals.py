"""PSA cost actuals to the ERP for cost-to-cost revenue on FIXED_FEE contracts, and the PSA's estimate
at completion to the ERP's.

Events: `psa.time_entry.{approved,reopened}` and `psa.expense.{approved,reopened}` (an approval adds
cost, a reopen takes it back), `psa.time_entry.recosted` (the PSA revalued approved time after HCM
changed a cost rate, a retroactive correction included: the change in cost of the entry's period and
every later one reaches the ERP, which remeasures progress as a change in estimate) and
`psa.project.estimate_changed`, keyed per project
(`project:<id>/cost`, apart from billing so a cost problem never holds billing back).

Cost: an approval or reopen dated in period P changes the cumulative cost of P and of every period
after it, so the handler reads `getProjectCostActuals` for P up to the current period and posts each
cumulative figure that differs from the ERP's (`postCostActual`, source version = the ERP's + 1).
The ERP also holds figures to a day inside a period, the eve of a change order (posted by the
change-order flow through `post_cost_through`): every such day from P on is re-read
(`through`) and re-posted the same way, so work approved late still lands before or after the
change as it was done. The ERP takes one figure per day in the contract's currency; cost the PSA
holds in another (a resource costed in its home entity's currency) is converted at the ERP's FX
rate on that day (`listFxRates`, direct else inverse), a missing rate being a business exception.
Reading cumulative figures makes the flow order-independent and idempotent: a late or repeated event
finds the ERP already right and posts nothing. A burst of approvals costs one read: the ledger keeps
how far the engine had read the PSA feed when the project's last complete read began, from which
period it read, and in which month (`cost-read-feed/from/month:<project>`); a change whose event lies
within that feed position, dated in a period the read covered, in the same month, is already posted
and is skipped. Projects whose contract is not cost-to-cost are skipped after one read
of the contract (its policy never changes, so the answer is kept). A run of a key's messages is
handled at once (`handle_costs_changed`, the dispatcher's batch): the same steps one message after
the other, the project's contract and last complete read asked for once.

Estimate: version-aware by the PSA project's version (ledger `estimate:<psa>:<project>`), so an
older estimate never overwrites a newer one.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from syncengine.domain import BusinessException, ConflictFailure, TransientFailure
from syncengine.domain.messages import SourceEvent
from syncengine.domain.ordering import by_field
from syncengine.flows.contract_lookup import contract_currency
from syncengine.flows.time_expense_billing import ERP, contract_fact, contract_of_project
from syncengine.mapping import erp_billing, psa_work
from syncengine.ports import Ports
from syncengine.runtime.registry import BatchFailure, Flow, Handler

STALE_VERSION = "stale-version"
READ_MARKS = ("feed", "from", "month")
PAGE_LIMIT = 500
EVE_ATTEMPTS = 5


def handle_cost_changed(message: SourceEvent, ports: Ports) -> None:
    """Post the project's cumulative cost to every day from the entry's period on whose figure changed."""
    _cost_changed(message, ports, _Run())


def handle_costs_changed(messages: Sequence[SourceEvent], ports: Ports) -> None:
    """Handle a key's cost messages in order, as `handle_cost_changed` would one by one, asking for the
    project's contract and its last complete read once: a bulk approval's hundred messages find the
    project read by the first and cost a ledger read or three each no more."""
    run = _Run()
    for index, message in enumerate(messages):
        try:
            _cost_changed(message, ports, run)
        except Exception as error:  # named as this message's: the dispatcher sorts it
            raise BatchFailure(index, error) from error


class _Run:
    """What the messages of one run (one unit of work) share: each project's cost-to-cost contract, and
    its last complete read as the ledger holds it (only this flow writes it, so it is kept as written)."""

    def __init__(self) -> None:
        self.contracts: dict[tuple[str, str], str | None] = {}
        self.reads: dict[str, dict[str, int | None]] = {}

    def contract(self, ports: Ports, system: str, project_id: str) -> str | None:
        """Return the project's contract when it is cost-to-cost (else None)."""
        if (system, project_id) not in self.contracts:
            contract_id = contract_of_project(ports, system, project_id)
            cost_to_cost = contract_id is not None and contract_fact(ports, contract_id, "cost-to-cost")
            self.contracts[(system, project_id)] = contract_id if cost_to_cost else None
        return self.contracts[(system, project_id)]

    def read(self, ports: Ports, marker: str) -> dict[str, int | None]:
        """Return the project's last complete read: feed position, from which month, in which month."""
        if marker not in self.reads:
            self.reads[marker] = {name: ports.ledger.applied_version(f"cost-read-{name}:{marker}")
                                  for name in READ_MARKS}
        return self.reads[marker]

    def record_read(self, ports: Ports, marker: str, read: dict[str, int]) -> None:
        """Record a complete read of the project."""
        for name, value in read.items():
            ports.ledger.set_applied_version(f"cost-read-{name}:{marker}", value)
        self.reads[marker] = dict(read)


def _cost_changed(message: SourceEvent, ports: Ports, run: _Run) -> None:
    entry = psa_work.work_entry_of(message)  # billing's reading of it, if it read it first
    if not entry.approvals:
        return
    contract_id = run.contract(ports, entry.system, entry.project_id)
    if contract_id is None:
        return
    changed_on = entry.approvals[-1].date
    marker = f"{entry.system}:{entry.project_id}"
    if _read_since(ports, run.read(ports, marker), changed_on, message.sequence):
        return
    feed_read = _feed_position(ports, entry.system)
    cost = _ProjectCost(ports, message, entry.system, entry.project_id, contract_id)
    posted = cost.posted()
    days = {_month_end(period) for period in _periods(changed_on, max(changed_on, ports.now().date()))}
    # figures to the eve of a change order inside a period: kept right like the period's own
    days |= {day for day in posted if _month(day) >= _month(changed_on)}
    for day in sorted(days):
        amount = cost.psa(day)
        current = posted.get(day)
        if (current.cumulative_cost if current else 0) == amount:
            continue
        try:
            cost.post(day, amount, current)
        except ConflictFailure as error:
            if error.reason != STALE_VERSION:
                raise
            # A newer figure for the day got there first; it was read later than this one.
    if feed_read is not None:
        run.record_read(ports, marker, {"feed": feed_read, "from": _month(changed_on), "month": _month(ports.now())})


def post_cost_through(message: SourceEvent, ports: Ports, system: str, project_id: str, contract_id: str,
                      day: date) -> None:
    """Post a project's cumulative cost to a day inside a period (the eve of a change order), a zero included.

    Read again after posting until a read made while the ERP held the figure agrees: an approval made
    after that read finds the day among the ERP's figures and re-posts it (`handle_cost_changed`).
    """
    cost = _ProjectCost(ports, message, system, project_id, contract_id)
    current = cost.posted().get(day)
    for _ in range(EVE_ATTEMPTS):
        amount = cost.psa(day)
        if current is not None and current.cumulative_cost == amount:
            return
        try:
            current = cost.post(day, amount, current)
        except ConflictFailure as error:
            if error.reason != STALE_VERSION:
                raise
            current = cost.posted().get(day)
    raise TransientFailure("cost-unsettled", f"{system} project {project_id}: its cost to {day.isoformat()} kept "
                                             f"changing while it was posted to ERP contract {contract_id}")


class _ProjectCost:
    """A project's cost to a day as the PSA counts it and as its ERP contract holds it."""

    def __init__(self, ports: Ports, message: SourceEvent, system: str, project_id: str, contract_id: str) -> None:
        self.ports, self.message, self.system = ports, message, system
        self.project_id, self.contract_id = project_id, contract_id
        self.currency = contract_currency(ports, contract_id)
        self.rates = _Rates(ports, self.currency)

    def posted(self) -> dict[date, erp_billing.PostedCost]:
        """Return the ERP contract's cumulative cost figures by the day they count to."""
        return {cost.as_of: cost for cost in map(erp_billing.posted_cost, self.ports.client(ERP).pages(
            f"/contracts/{self.contract_id}/cost-actuals", {"limit": PAGE_LIMIT}))}

    def psa(self, day: date) -> Decimal:
        """Return the PSA's cumulative cost to `day` in the contract's currency."""
        params = {"period": f"{day.year:04d}-{day.month:02d}"}
        if day != _month_end(params["period"]):
            params["through"] = day.isoformat()
        answer = self.ports.client(self.system).get(f"/projects/{self.project_id}/cost-actuals", params)
        cost = psa_work.project_cost(answer.body)
        return cost.cumulative_in(self.currency, {code: self.rates.on(code, cost.through)
                                                  for code in cost.foreign_currencies(self.currency)})

    def post(self, day: date, amount: Decimal, current: erp_billing.PostedCost | None) -> erp_billing.PostedCost:
        """Post a figure as the next source version of the day's; return it as the ERP now holds it."""
        version = (current.source_version if current else 0) + 1
        body = erp_billing.cost_actual_body(day, amount, self.currency, erp_billing.source_system(self.system),
                                            self.project_id, version)
        self.ports.client(ERP).post(f"/contracts/{self.contract_id}/cost-actuals", body,
                                    idempotency_key=self.ports.idempotency_key(
                                        self.message, f"cost:{day.isoformat()}:v{version}:{amount}"))
        return erp_billing.PostedCost(day, amount, version)


def _feed_position(ports: Ports, system: str) -> int | None:
    """Return the sequence up to which the engine has read the system's feed (None if unknown).

    Every event up to it was committed before the feed page holding it was read, so before any read
    a handler makes afterwards (the feed's cursor is the last sequence read, `_common.yaml` /events).
    """
    cursor = ports.ledger.cursor(system)
    return int(cursor) if cursor is not None and cursor.isdigit() else None


def _read_since(ports: Ports, read: dict[str, int | None], changed_on: date, sequence: int) -> bool:
    """Tell whether the project's last complete read already includes this change: made after the
    event's feed position, from a period no later than its own, in the current month."""
    return (read["feed"] is not None and read["from"] is not None and sequence <= read["feed"]
            and _month(changed_on) >= read["from"] and read["month"] == _month(ports.now()))


def _month(day: date) -> int:
    return day.year * 100 + day.month


def handle_estimate_changed(message: SourceEvent, ports: Ports) -> None:
    """Post a project's revised estimate at completion to its cost-to-cost contract, newest only."""
    estimate = psa_work.estimate(message.system, message.data)
    if estimate is None:
        return
    contract_id = contract_of_project(ports, message.system, estimate.project_id)
    if contract_id is None or not contract_fact(ports, contract_id, "cost-to-cost"):
        return
    applied_key = estimate_key(message.system, estimate.project_id)
    if (ports.ledger.applied_version(applied_key) or 0) >= estimate.version:
        return
    if estimate.eac_cost <= 0:
        raise BusinessException("invalid-estimate", f"{message.system} project {estimate.project_id}: the estimate "
                                                    f"at completion must be positive, got {estimate.eac_cost}")
    body = erp_billing.estimate_body(estimate.eac_cost, estimate.currency, estimate.as_of,
                                     erp_billing.source_system(message.system), estimate.project_id, estimate.version)
    ports.client(ERP).post(f"/contracts/{contract_id}/estimates", body,
                           idempotency_key=ports.idempotency_key(message, "estimate"))
    ports.ledger.set_applied_version(applied_key, estimate.version)


def estimate_key(system: str, project_id: str) -> str:
    """Return the ledger key of the version of a project's estimate posted to the ERP (set once one is)."""
    return f"estimate:{system}:{project_id}"


class _Rates:
    """The ERP's FX rates into the contract's currency, read once per pair per message."""

    def __init__(self, ports: Ports, currency: str) -> None:
        self.ports = ports
        self.currency = currency
        self.pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def _table(self, source: str, target: str) -> list[dict[str, Any]]:
        if (source, target) not in self.pairs:
            self.pairs[(source, target)] = list(self.ports.client(ERP).pages(
                "/fx-rates", {"from_currency": source, "to_currency": target, "limit": PAGE_LIMIT}))
        return self.pairs[(source, target)]

    def on(self, source: str, day: date) -> Decimal:
        """Return one unit of `source` in the contract's currency on `day`: the direct rate, else the
        inverse of the reverse one (the ERP's own lookup rule); none is a business exception."""
        direct = erp_billing.fx_rate(self._table(source, self.currency), day)
        if direct is not None:
            return direct
        reverse = erp_billing.fx_rate(self._table(self.currency, source), day)
        if reverse is not None:
            return Decimal(1) / reverse
        raise BusinessException("missing-fx-rate", f"the ERP has no {source}/{self.currency} rate on or before "
                                                   f"{day} to convert cost actuals")


def _periods(first: date, last: date) -> list[str]:
    """Return the calendar months from `first`'s to `last`'s, as `YYYY-MM`."""
    periods = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def _month_end(period: str) -> date:
    year, month = int(period[:4]), int(period[5:])
    return date(year, month, calendar.monthrange(year, month)[1])


_BY_PROJECT = by_field("project_id", prefix="project")
_BY_ID = by_field("id", prefix="project")


def _cost_key(event: SourceEvent) -> str:
    key = _BY_ID if event.type.startswith("psa.project.") else _BY_PROJECT
    return f"{key(event)}/cost"


HANDLERS: dict[str, list[Handler]] = {
    **{f"{prefix}{verb}": [handle_cost_changed]
       for prefix in (psa_work.TIME_EVENTS, psa_work.EXPENSE_EVENTS) for verb in ("approved", "reopened")},
    f"{psa_work.TIME_EVENTS}recosted": [handle_cost_changed],
    "psa.project.estimate_changed": [handle_estimate_changed],
}
FLOW = Flow("cost_actuals", HANDLERS, ordering_key=_cost_key,
            batch_handlers={handle_cost_changed: handle_costs_changed})
