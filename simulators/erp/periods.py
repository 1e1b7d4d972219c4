"""Accounting periods per legal entity: close in order, reopen the last, and where a posting lands."""

from __future__ import annotations

import functools
from datetime import date

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.errors import ApiProblem
from simulators.common.store import Record, Store
from simulators.erp.ledger_periods import PeriodError, Periods, Posting

operations = Operations()


def seed_ledgers(store: Store) -> None:
    """Seed one ledger (period status) per legal entity, all periods open."""
    for entity in store.all("legal_entities"):
        store.seed("ledgers", {"id": entity["id"], "legal_entity": entity["id"], "currency": entity["currency"],
                               "closed_through": None, "first_open_period": None})


def periods_of(store: Store, legal_entity: str) -> Periods:
    """Return the period status of a legal entity's ledger."""
    return Periods(closed_through=store.get("ledgers", legal_entity)["closed_through"])


def posting_for(store: Store, legal_entity: str, day: date) -> Posting:
    """Return where a document dated `day` posts: its own period, or the next open one."""
    return _posting(store.get("ledgers", legal_entity)["closed_through"], day)


@functools.lru_cache(maxsize=4096)  # every posted transaction asks; the answer is a (frozen) value of the two
def _posting(closed_through: str | None, day: date) -> Posting:
    return Periods(closed_through=closed_through).posting_for(day)


def _change(request: Request, action: str) -> Record:
    legal_entity = request.body["legal_entity"]
    ledger = request.store.get("ledgers", legal_entity)
    request.check_if_match(ledger)
    current = Periods(closed_through=ledger["closed_through"])
    try:
        changed = current.close(request.path["period"]) if action == "close" else current.reopen(request.path["period"])
    except PeriodError as error:
        raise ApiProblem(409, "invalid-transition", "Period transition not allowed", str(error),
                         field="period", closed_through=ledger["closed_through"]) from error
    return request.store.update("ledgers", legal_entity, {"closed_through": changed.closed_through,
                                                         "first_open_period": changed.first_open()})


@operations("listLedgers")
def list_ledgers(request: Request) -> Reply:
    """List each legal entity's ledger and how far its periods are closed."""
    return request.page(request.store.all("ledgers"))


@operations("closePeriod")
def close_period(request: Request) -> Reply:
    """Close a period (and every earlier one) of a legal entity; later postings dated in it move on."""
    ledger = _change(request, "close")
    request.emit("erp.period.closed", ledger)
    return ok(ledger)


@operations("reopenPeriod")
def reopen_period(request: Request) -> Reply:
    """Reopen the last closed period of a legal entity."""
    ledger = _change(request, "reopen")
    request.emit("erp.period.reopened", ledger)
    return ok(ledger)
