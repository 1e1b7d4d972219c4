"""Effective-dated lookups: bill rates from rate cards, cost rates from a resource's history."""

from __future__ import annotations

from datetime import date

from simulators.common.errors import business_error
from simulators.common.store import Record, Store

PROJECT_RATE_CARD = "PROJECT_RATE_CARD"
DEFAULT_RATE_CARD = "DEFAULT_RATE_CARD"
OVERRIDE = "OVERRIDE"


def effective_on(rows: list[Record], on: date) -> Record | None:
    """Return the row with the latest `effective_from` on or before `on` (None before the first)."""
    best: Record | None = None
    wanted = on.isoformat()
    for row in rows:
        if row["effective_from"] <= wanted and (best is None or row["effective_from"] > best["effective_from"]):
            best = row
    return best


def default_rate_card(store: Store, currency: str) -> Record | None:
    """Return the default (firm-wide) rate card of a currency."""
    cards = store.where_equal("rate_cards", ("project_id", "currency"), (None, currency))
    return cards[0] if cards else None


def bill_rate(store: Store, project: Record, role: str, on: date) -> tuple[str, str] | None:
    """Return (rate, source): the project's card for the role on the date, else the currency's default card."""
    card = store.get("rate_cards", project["rate_card_id"])
    if card["project_id"] is not None:
        row = effective_on([rate for rate in card["rates"] if rate["role"] == role], on)
        if row is not None:
            return row["bill_rate"], PROJECT_RATE_CARD
    default = default_rate_card(store, project["currency"])
    if default is not None:
        row = effective_on([rate for rate in default["rates"] if rate["role"] == role], on)
        if row is not None:
            return row["bill_rate"], DEFAULT_RATE_CARD
    return None


def require_bill_rate(store: Store, project: Record, role: str, on: date) -> tuple[str, str]:
    """Return the bill rate of a role on a date, or refuse with 422 `missing-bill-rate`."""
    found = bill_rate(store, project, role, on)
    if found is None:
        raise business_error("missing-bill-rate", "No bill rate",
                             f"neither project {project['id']}'s rate card nor the default {project['currency']} card "
                             f"has a {role} rate effective on {on.isoformat()}", field="role")
    return found


def require_cost_rate(resource: Record, on: date) -> Record:
    """Return the resource's cost rate effective on a date, or refuse with 422 `missing-cost-rate`."""
    row = effective_on(resource["cost_rates"], on)
    if row is None:
        raise business_error("missing-cost-rate", "No cost rate",
                             f"resource {resource['id']} has no cost rate effective on {on.isoformat()} "
                             "(cost rates come from HCM)", field="resource_id")
    return row


def check_unique_dates(rows: list[Record], key_fields: tuple[str, ...], slug: str, field: str) -> None:
    """Refuse two rows with the same key (e.g. the same role and effective date)."""
    seen: set[tuple[str, ...]] = set()
    for index, row in enumerate(rows):
        key = tuple(str(row[name]) for name in key_fields)
        if key in seen:
            raise business_error(slug, "Duplicate effective date",
                                 f"{field}/{index}: a second entry for {' '.join(key)}", field=f"{field}/{index}")
        seen.add(key)
