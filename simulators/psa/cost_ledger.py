"""Approved cost per project, period and currency, kept as entries are approved and reopened.

Posting at approval (and reversing at reopen) keeps `getProjectCostActuals` one read instead of a
scan of every time entry and expense of the firm. Each period also keeps its figures by day, so the
cost to a day inside a period (`through`, the eve of a change order) is one read as well.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from simulators.common.api import Operations, Reply, Request
from simulators.common.errors import business_error
from simulators.common.store import Record, Store
from simulators.psa.values import ZERO, day, money

operations = Operations()
COMPONENTS = ("time", "expenses")
_EMPTY: Record = {"hours": money(ZERO), "time": {}, "expenses": {}}


def post(store: Store, project_id: str, on: str, hours: Decimal, component: str, currency: str,
         amount: Decimal) -> None:
    """Add approved hours and cost (negative to reverse) to the project's period and day of the date `on`."""
    period = on[:7]
    ledger = store.find("cost_ledgers", project_id)
    periods = dict(ledger["periods"]) if ledger else {}
    new_period = period not in periods
    figures = _added(periods.get(period, _EMPTY), hours, component, currency, amount)
    days = dict(figures.get("days", {}))
    new_day = on not in days
    days[on] = _added(days.get(on, _EMPTY), hours, component, currency, amount)
    # kept in date order; only a new period or day moves (an existing key keeps its place)
    periods[period] = {**figures, "days": dict(sorted(days.items())) if new_day else days}
    changes = {"project_id": project_id, "periods": dict(sorted(periods.items())) if new_period else periods}
    if ledger is None:
        store.insert("cost_ledgers", changes, record_id=project_id)
    else:
        store.update("cost_ledgers", project_id, changes)


def _added(figures: Record, hours: Decimal, component: str, currency: str, amount: Decimal) -> Record:
    by_currency = dict(figures[component])
    by_currency[currency] = money(Decimal(by_currency.get(currency, "0")) + amount)
    return {**figures, "hours": money(Decimal(figures["hours"]) + hours), component: dict(sorted(by_currency.items()))}


def _add(totals: dict[str, dict[str, Decimal]], figures: Record) -> None:
    for component in COMPONENTS:
        for currency, amount in figures[component].items():
            line = totals.setdefault(currency, {name: ZERO for name in COMPONENTS})
            line[component] += Decimal(amount)


def _figures(line: dict[str, Decimal] | None) -> Record:
    time, expenses = (line["time"], line["expenses"]) if line else (ZERO, ZERO)
    return {"time": money(time), "expenses": money(expenses), "total": money(time + expenses)}


@operations("getProjectCostActuals")
def get_project_cost_actuals(request: Request) -> Reply:
    """Return the approved cost of a project in a period and cumulatively to its end (or `through`), by currency."""
    project = request.store.get("projects", request.path["project_id"])
    period = request.query["period"]
    year, month = int(period[:4]), int(period[5:])
    period_end = date(year, month, calendar.monthrange(year, month)[1])
    through = _through(request.query.get("through"), period, period_end)
    ledger = request.store.find("cost_ledgers", project["id"])
    in_period: dict[str, dict[str, Decimal]] = {}
    cumulative: dict[str, dict[str, Decimal]] = {}
    hours = {"in_period": ZERO, "cumulative": ZERO}
    for key, figures in (ledger["periods"] if ledger else {}).items():
        if key > period:
            continue
        counted = [figures] if key < period or through == period_end else \
            [day_figures for on, day_figures in figures.get("days", {}).items() if on <= through.isoformat()]
        for part in counted:
            _add(cumulative, part)
            hours["cumulative"] += Decimal(part["hours"])
            if key == period:
                _add(in_period, part)
                hours["in_period"] += Decimal(part["hours"])
    costs = [{"currency": currency, "in_period": _figures(in_period.get(currency)),
              "cumulative": _figures(cumulative[currency])} for currency in sorted(cumulative)]
    return Reply(200, {
        "project_id": project["id"], "period": period,
        "period_start": date(year, month, 1).isoformat(), "period_end": period_end.isoformat(),
        "through": through.isoformat(), "project_currency": project["currency"],
        "hours": {name: money(value) for name, value in hours.items()},
        "costs": costs,
    })


def _through(value: str | None, period: str, period_end: date) -> date:
    """Return the last day to count: `through` when given (refused outside the period), else the period's end."""
    if value is None:
        return period_end
    through = day(value)
    if through.isoformat()[:7] != period:
        raise business_error("invalid-date", "Date outside the period",
                             f"through {value} is not in period {period}", field="through")
    return through
