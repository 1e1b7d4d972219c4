"""Recosting: approved time is revalued when the HCM changes its resource's cost rate on its date.

Approval values an entry at the cost rate in force on its date. When the rate history is replaced
(a retroactive correction, a backdated rate), every APPROVED entry of the resource whose rate on its
date is now different is recosted, as Kantata and Certinia do: the current revision's valuation takes
the new rate and amount, keeps the previous ones in `cost_adjustments`, the project's cost ledger
takes the difference in the period of the entry's date, and `psa.time_entry.recosted` is emitted
(a consumer re-reads the project's cost actuals from that period). Reopened and returned entries hold
no cost, and an entry whose date the new history no longer covers keeps its valuation.
"""

from __future__ import annotations

from decimal import Decimal

from simulators.common.api import Request
from simulators.common.clock import isoformat
from simulators.common.store import Record
from simulators.psa import cost_ledger
from simulators.psa.rates import effective_on
from simulators.psa.values import day, money

APPROVED = "APPROVED"


def recost_resource(request: Request, resource: Record) -> int:
    """Revalue the resource's approved time at its cost rates as they now stand; return how many changed."""
    store = request.store
    entries = [entry for entry in store.where_equal("time_entries", "resource_id", resource["id"])
               if entry["status"] == APPROVED]
    recosted = 0
    for entry in entries:
        approval = entry["approvals"][-1]
        rate = effective_on(resource["cost_rates"], day(approval["date"]))
        if rate is None or (rate["hourly_cost"], rate["currency"]) == (approval["cost_rate"],
                                                                      approval["cost_currency"]):
            continue
        revised = _revalued(approval, rate, isoformat(request.now))
        cost_ledger.post(store, entry["project_id"], approval["date"], Decimal(0), "time",
                         approval["cost_currency"], -Decimal(approval["cost_amount"]))
        cost_ledger.post(store, entry["project_id"], approval["date"], Decimal(0), "time",
                         revised["cost_currency"], Decimal(revised["cost_amount"]))
        updated = store.update("time_entries", entry["id"], {
            "cost_rate": revised["cost_rate"], "cost_amount": revised["cost_amount"],
            "cost_currency": revised["cost_currency"], "approvals": [*entry["approvals"][:-1], revised]})
        request.emit("psa.time_entry.recosted", updated)
        recosted += 1
    return recosted


def _revalued(approval: Record, rate: Record, stamp: str) -> Record:
    """Return an approval valued at a new cost rate, the valuation it replaces kept as an adjustment."""
    cost_amount = money(Decimal(approval["hours"]) * Decimal(rate["hourly_cost"]))
    adjustment = {
        "previous_cost_rate": approval["cost_rate"], "previous_cost_amount": approval["cost_amount"],
        "previous_cost_currency": approval["cost_currency"], "cost_rate": rate["hourly_cost"],
        "cost_amount": cost_amount, "cost_currency": rate["currency"],
        "rate_source_version": rate["source_version"], "adjusted_at": stamp,
    }
    return {**approval, "cost_rate": rate["hourly_cost"], "cost_amount": cost_amount,
            "cost_currency": rate["currency"], "cost_adjustments": [*approval.get("cost_adjustments", []), adjustment]}
