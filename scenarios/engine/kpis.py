"""Business KPIs of a run, from truth (what really happened) and the ERP's end state (what was billed).

utilization      billable approved hours / capacity hours of the people employed (DOMAIN.md: 65-78 %)
DSO              receivables at the last month-end close / invoiced up to it x its days (35-70 days)
win rate         deals won / deals closed in the period (25-50 %)
pricing mix      share of the firm's contracts by billing model (T&M 40-60 %)
project months   planned service length of the contracts (most 1-9 months)
setup days       closed won -> first person staffed on the PSA project
unbilled value   approved billable value the ERP still holds unbilled, per currency
margin           sold (price vs planned cost) and delivered (value delivered vs cost of approved time)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from scenarios.engine.holidays import office_days
from scenarios.engine.truth import Fact, Truth

# For summing figures of three currencies into one (display only, never for money the systems hold).
USD_PER = {"USD": Decimal(1), "GBP": Decimal("1.27"), "EUR": Decimal("1.08")}


@dataclass(frozen=True, slots=True)
class Kpis:
    """The business KPIs of one run's period."""

    utilization: float | None
    utilization_by_entity: dict[str, float]
    dso_days: float | None
    win_rate: float | None
    deals_won: int
    deals_lost: int
    pricing_mix: dict[str, float]
    project_months_median: float | None
    projects_1_to_9_months: float | None
    setup_days_median: float | None
    setup_days_p90: float | None
    unbilled_value: dict[str, str]
    margin_sold: float | None
    margin_delivered: float | None
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the KPIs as JSON-ready values."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def render(self) -> str:
        """Return the KPIs as a short text table."""

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1%}"

        def num(value: float | None, unit: str = "") -> str:
            return "n/a" if value is None else f"{value:.1f}{unit}"

        entities = ", ".join(f"{entity} {value:.1%}" for entity, value in self.utilization_by_entity.items())
        mix = ", ".join(f"{model} {share:.0%}" for model, share in self.pricing_mix.items())
        unbilled = ", ".join(f"{currency} {amount}" for currency, amount in self.unbilled_value.items()) or "n/a"
        rows = [
            ("billable utilization", f"{pct(self.utilization)} ({entities})"),
            ("DSO", num(self.dso_days, " days")),
            ("win rate", f"{pct(self.win_rate)} ({self.deals_won} won, {self.deals_lost} lost)"),
            ("pricing mix", mix or "n/a"),
            ("project length", f"median {num(self.project_months_median, ' months')}, "
                               f"{pct(self.projects_1_to_9_months)} within 1-9 months"),
            ("project setup", f"median {num(self.setup_days_median, ' days')}, "
                              f"p90 {num(self.setup_days_p90, ' days')}"),
            ("unbilled approved value", unbilled),
            ("margin sold / delivered", f"{pct(self.margin_sold)} / {pct(self.margin_delivered)}"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _day(instant: str) -> date:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).date()


def _in(day: date, start: date, end: date) -> bool:
    return start <= day <= end


def _approved_time(truth: Truth) -> dict[str, dict[str, Any]]:
    """Return each time entry's approved revision still in force (reopened ones drop out until re-approved)."""
    current: dict[str, dict[str, Any]] = {}
    for fact in truth:
        if fact.kind == "time_approved":
            current[fact.data["time_entry_id"]] = fact.data
        elif fact.kind == "time_reopened":
            approved = current.get(fact.data["time_entry_id"])
            if approved is not None and approved["revision"] == fact.data["revision"]:
                del current[fact.data["time_entry_id"]]
    return current


def _cost_rates(truth: Truth) -> dict[str, list[tuple[str, Decimal]]]:
    rates: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for fact in truth.of("cost_rate_set"):
        rates[fact.data["worker_id"]][fact.data["effective_from"]] = Decimal(fact.data["hourly_cost"])
    return {worker: sorted(by_date.items()) for worker, by_date in rates.items()}


def _cost_on(rates: list[tuple[str, Decimal]], day: str) -> Decimal:
    cost = rates[0][1] if rates else Decimal(0)
    for effective_from, hourly in rates:
        if effective_from <= day:
            cost = hourly
    return cost


def _utilization(truth: Truth, approved: Iterable[dict[str, Any]], start: date, end: date
                 ) -> tuple[float | None, dict[str, float]]:
    entity_of: dict[str, str] = {}
    capacity: dict[str, float] = defaultdict(float)
    terminated = {fact.data["worker_id"]: date.fromisoformat(fact.data["termination_date"])
                  for fact in truth.of("worker_terminated")}
    for fact in truth.of("worker_hired"):
        data = fact.data
        entity_of[data["worker_id"]] = data["legal_entity"]
        first = max(start, date.fromisoformat(data["hire_date"]))
        last = min(end, terminated.get(data["worker_id"], end))
        days = len(office_days(data["legal_entity"], first, last))
        capacity[data["legal_entity"]] += float(data["weekly_capacity_hours"]) / 5 * days
    billable: dict[str, float] = defaultdict(float)
    for entry in approved:
        if entry["billable"] and _in(date.fromisoformat(entry["date"]), start, end):
            billable[entity_of.get(entry["resource_id"], "?")] += float(entry["hours"])
    by_entity = {entity: billable[entity] / hours for entity, hours in sorted(capacity.items()) if hours}
    total = sum(capacity.values())
    return (sum(billable.values()) / total if total else None), by_entity


def _usd(amount: str, currency: str) -> Decimal:
    return Decimal(amount) * USD_PER.get(currency, Decimal(1))


def _dso(erp_state: dict[str, Any] | None, start: date, end: date) -> float | None:
    """Return DSO at the period's last month-end close: receivables then over the invoicing up to it x its days.

    The close is the last invoice date in the period (a billing run dates its invoices the month's last
    day). Receivables on it are the AR balance of the books then: invoices dated up to it, less credit
    memos dated and payments received up to it (open credits and unapplied cash net, as in the ERP's
    aging), less bad debt written off and plus customer credit refunded up to it. A run ends at the
    period end, before the last month's billing run (working day 2 of the next month), so the period
    end itself is no month-end: its receivables lack the month's invoices while its days include the
    month (full-year: eleven months of invoices over 365 days).
    """
    if not erp_state:
        return None
    records = erp_state.get("records", erp_state)
    invoices = records.get("invoices", [])
    dated = [day for day in (date.fromisoformat(invoice["invoice_date"]) for invoice in invoices)
             if _in(day, start, end)]
    if not dated:
        return None
    close = max(dated)
    sales = receivable = Decimal(0)
    for invoice in invoices:
        invoiced_on = date.fromisoformat(invoice["invoice_date"])
        if invoiced_on <= close:
            amount = _usd(invoice["total"], invoice["currency"])
            receivable += amount
            if invoiced_on >= start:
                sales += amount
    for memo in records.get("credit_memos", []):
        credited_on = date.fromisoformat(memo["credit_date"])
        if credited_on <= close:
            amount = _usd(memo["total"], memo["currency"])
            receivable -= amount
            if credited_on >= start:
                sales -= amount
        for refund in memo.get("refunds", []):
            if date.fromisoformat(refund["refunded_on"]) <= close:
                receivable += _usd(refund["amount"], memo["currency"])
    for invoice in invoices:
        write_off = invoice.get("write_off")
        if write_off and date.fromisoformat(write_off["date"]) <= close:
            receivable -= _usd(invoice["written_off_amount"], invoice["currency"])
    for payment in records.get("payments", []):
        if date.fromisoformat(payment["received_on"]) <= close:
            receivable -= _usd(payment["amount"], payment["currency"])
    if sales <= 0:
        return None
    return float(receivable / sales * Decimal((close - start).days + 1))


def _unbilled(erp_state: dict[str, Any] | None) -> dict[str, str]:
    if not erp_state:
        return {}
    records = erp_state.get("records", erp_state)
    held: dict[str, Decimal] = defaultdict(Decimal)
    for transaction in records.get("billable_transactions", []):
        if transaction.get("status") == "REVERSED":
            continue
        remaining = (Decimal(transaction["amount"]) - Decimal(transaction.get("billed_amount", "0"))
                     - Decimal(transaction.get("written_off_amount", "0")))
        held[transaction["currency"]] += remaining
    return {currency: f"{amount:,.2f}" for currency, amount in sorted(held.items())}


def _margins(truth: Truth, approved: Iterable[dict[str, Any]], sold_cost: dict[str, Decimal] | None
             ) -> tuple[float | None, float | None]:
    deals = {fact.data["opportunity_id"]: fact.data for fact in truth.of("deal_won")}
    rates = _cost_rates(truth)
    value = cost = Decimal(0)
    for entry in approved:
        deal = deals.get(entry["opportunity_id"])
        fx = USD_PER.get(entry["currency"], Decimal(1))
        hourly = _cost_on(rates.get(entry["resource_id"], []), entry["date"])
        cost += Decimal(entry["hours"]) * hourly * fx
        if deal is not None and deal["billing_model"] in ("TIME_AND_MATERIALS", "CAPPED_TM"):
            value += Decimal(entry["amount"]) * fx
        elif deal is not None:
            value += Decimal(entry["hours"]) * Decimal(entry["bill_rate"]) * fx
    delivered = float(1 - cost / value) if value else None
    if not sold_cost:
        return None, delivered
    price = sum((Decimal(deals[opp]["amount"]) * USD_PER.get(deals[opp]["currency"], Decimal(1))
                 for opp in sold_cost if opp in deals), Decimal(0))
    planned = sum((amount for opp, amount in sold_cost.items() if opp in deals), Decimal(0))
    return (float(1 - planned / price) if price else None), delivered


def business_kpis(truth: Truth, erp_state: dict[str, Any] | None, *, start: date, end: date,
                  sold_cost: dict[str, Decimal] | None = None) -> Kpis:
    """Compute the KPIs of the period [start, end]; `sold_cost` is each deal's planned cost in USD."""
    approved = list(_approved_time(truth).values())
    utilization, by_entity = _utilization(truth, approved, start, end)
    won = [f for f in truth.of("deal_won") if _in(_day(f.at), start, end)]
    lost = [f for f in truth.of("deal_lost") if _in(_day(f.at), start, end)]
    contracts = truth.of("deal_won")
    models = Counter(f.data["billing_model"] for f in contracts)
    mix = {model: models[model] / len(contracts) for model in sorted(models)} if contracts else {}
    # sold lengths: the deals won in the period (the opening book is the rest of engagements under way)
    months = [((date.fromisoformat(f.data["service_end"]) - date.fromisoformat(f.data["service_start"])).days + 1)
              / 30.44 for f in won]
    setup = _setup_days(truth)
    margin_sold, margin_delivered = _margins(truth, approved, sold_cost)
    return Kpis(
        utilization=utilization, utilization_by_entity=by_entity, dso_days=_dso(erp_state, start, end),
        win_rate=len(won) / (len(won) + len(lost)) if won or lost else None, deals_won=len(won),
        deals_lost=len(lost), pricing_mix=mix,
        project_months_median=median(months) if months else None,
        projects_1_to_9_months=sum(1 for m in months if 0.9 <= m <= 9.5) / len(months) if months else None,
        setup_days_median=median(setup) if setup else None,
        setup_days_p90=sorted(setup)[int(0.9 * (len(setup) - 1))] if setup else None,
        unbilled_value=_unbilled(erp_state), margin_sold=margin_sold, margin_delivered=margin_delivered,
        counts=truth.counts())


def _setup_days(truth: Truth) -> list[float]:
    won_at: dict[str, datetime] = {}
    days: list[float] = []
    for fact in truth:
        if fact.kind == "deal_won":
            won_at[fact.data["opportunity_id"]] = _instant(fact)
        elif fact.kind == "project_staffed" and fact.data["opportunity_id"] in won_at:
            days.append((_instant(fact) - won_at.pop(fact.data["opportunity_id"])) / timedelta(days=1))
    return days


def _instant(fact: Fact) -> datetime:
    return datetime.fromisoformat(fact.at.replace("Z", "+00:00"))
