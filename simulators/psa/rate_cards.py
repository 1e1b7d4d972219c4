"""Rate cards: the default bill rates of each currency (seeded) and projects' own contract rates."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.store import Record

operations = Operations()


@operations("listRateCards")
def list_rate_cards(request: Request) -> Reply:
    """List rate cards by currency, project, or default-ness."""
    query = request.query

    def wanted(card: Record) -> bool:
        return (("currency" not in query or card["currency"] == query["currency"])
                and ("project_id" not in query or card["project_id"] == query["project_id"])
                and ("default" not in query or (card["project_id"] is None) == query["default"]))

    if "project_id" in query:  # a project's own cards through the index
        return request.page([card for card in request.store.where_equal("rate_cards", "project_id", query["project_id"])
                             if wanted(card)])
    return request.page(request.store.where("rate_cards", wanted))


@operations("getRateCard")
def get_rate_card(request: Request) -> Reply:
    """Read one rate card."""
    return ok(request.store.get("rate_cards", request.path["rate_card_id"]))
