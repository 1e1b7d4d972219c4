"""The ERP's FX rate table: seeded rates, added by finance, looked up for foreign-currency payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from simulators.common.api import Operations, Reply, Request, created
from simulators.common.errors import business_error
from simulators.common.store import Store
from simulators.erp.money import parse_date
from simulators.erp.receivables import FxRate, FxTable

operations = Operations()

SEEDED_RATES = (
    ("EUR", "USD", "2026-01-01", "1.0850"),
    ("GBP", "USD", "2026-01-01", "1.2700"),
    ("EUR", "GBP", "2026-01-01", "0.8540"),
)


def seed_rates(store: Store) -> None:
    """Seed the opening FX rates."""
    for from_currency, to_currency, effective_date, rate in SEEDED_RATES:
        store.seed("fx_rates", {"from_currency": from_currency, "to_currency": to_currency,
                                "effective_date": effective_date, "rate": rate})


def fx_table(store: Store) -> FxTable:
    """Return the FX table as the receivables logic reads it."""
    return FxTable(tuple(FxRate(r["from_currency"], r["to_currency"], date.fromisoformat(r["effective_date"]),
                                Decimal(r["rate"])) for r in store.all("fx_rates")))


@operations("listFxRates")
def list_fx_rates(request: Request) -> Reply:
    """List FX rates, optionally of one currency pair."""
    query = request.query
    return request.page(request.store.where("fx_rates", lambda r: all(
        r[name] == query[name] for name in ("from_currency", "to_currency") if name in query)))


@operations("createFxRate")
def create_fx_rate(request: Request) -> Reply:
    """Add a rate: one unit of `from_currency` in `to_currency`, from `effective_date` on."""
    body = request.body
    parse_date(body["effective_date"], "body/effective_date")
    if body["from_currency"] == body["to_currency"] or Decimal(body["rate"]) <= 0:
        raise business_error("invalid-fx-rate", "Invalid FX rate",
                             "An FX rate converts between two different currencies at a rate above zero",
                             field="body/rate")
    rate = request.store.insert("fx_rates", {"from_currency": body["from_currency"],
                                             "to_currency": body["to_currency"],
                                             "effective_date": body["effective_date"],
                                             "rate": f"{Decimal(body['rate']):f}"})
    request.emit("erp.fx_rate.created", rate)
    return created(rate, f"/fx-rates?from_currency={rate['from_currency']}&to_currency={rate['to_currency']}")
