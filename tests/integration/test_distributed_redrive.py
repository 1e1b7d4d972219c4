"""`firmsim engine redrive --bus`: the re-driven message goes to its partition and a worker runs it."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from harness.runner.flows import builtin_flows
from syncengine.domain.messages import SourceEvent
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.runtime.distributed import open_store
from syncengine.runtime.registry import Delivery, HandlerRegistry
from tests.integration.distributed_engine import FIRMSIM, Deployment
from tests.integration.live_firm import Firm, eventually

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _approved_event(firm: Firm, entry_id: str) -> dict[str, Any]:
    events = firm.call("psa", "GET", "/events?limit=1000")["items"]
    return next(event for event in events
                if event["type"] == "psa.time_entry.approved" and event["data"]["id"] == entry_id)


def _refused(engine: Deployment, raw: dict[str, Any], detail: str) -> ExceptionItem:
    """Record an approved entry's billing as refused, as a flow would have (its message is real)."""
    delivery = _route(raw)
    ledger = open_store(engine.store_url)
    try:
        return ledger.record_exception(flow=delivery.route.flow, key=delivery.key, message_id=delivery.id,
                                       reason="unknown-contract", detail=detail, payload=delivery.payload(),
                                       now=datetime.now(UTC))
    finally:
        ledger.close()


def _route(raw: dict[str, Any]) -> Delivery:
    event = SourceEvent.from_cloudevent("psa", raw)
    [route] = [route for route in HandlerRegistry(builtin_flows()).routes(event.type)
               if route.flow == "time_expense_billing"]
    return Delivery(event, route, route.ordering_key(event))


def _tracked(engine: Deployment, delivery: Delivery) -> int:
    with psycopg.connect(engine.postgres_url, autocommit=True) as connection:
        [(count,)] = connection.execute(sql.SQL(
            "SELECT count(*) FROM {}.tracking WHERE system = 'psa' AND source_id = %s AND handler = %s").format(
            sql.Identifier(engine.schema)), (delivery.event.source_id, delivery.route.handler_name)).fetchall()
    return int(count)


def _redrive(engine: Deployment, *ids: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FIRMSIM, "engine", "redrive", *ids, "--store", engine.store_url, "--bus", engine.bus_url,
                           "--max-wait", "30"], capture_output=True, text=True, timeout=90, check=False)


def test_a_redrive_on_the_bus_is_run_by_the_worker_owning_its_key(firm: Firm, engine: Deployment) -> None:
    engine.start_worker()
    opportunity_id = firm.win_deal("Woodgrove Redrive")
    project = eventually(lambda: firm.project_of(opportunity_id), timeout_s=30)
    worker = firm.staff(project["id"], worker="WRK-424242")
    first, second = firm.approve_time(project["id"], worker, 2)
    engine.wait_idle(timeout_s=40)
    older = _refused(engine, _approved_event(firm, first), "test: refused first")
    newer = _refused(engine, _approved_event(firm, second), "test: refused second")

    alone = _redrive(engine, newer.id)
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert f"waits behind {older.id}" in alone.stderr, alone.stderr

    both = _redrive(engine, older.id, newer.id)
    assert both.returncode == 0, f"{both.stdout}{both.stderr}\n{engine.log_tail()}"
    assert f"{older.id}  RESOLVED" in both.stdout and f"{newer.id}  RESOLVED" in both.stdout, both.stdout
    ledger = open_store(engine.store_url)
    try:
        assert [item.status for item in (ledger.exception(older.id), ledger.exception(newer.id))] == [
            ExceptionStatus.RESOLVED, ExceptionStatus.RESOLVED]
    finally:
        ledger.close()
    counts = firm.transactions_by_entry()
    assert (counts.get(first), counts.get(second)) == (1, 1), counts


def test_a_redrive_on_the_bus_with_no_worker_says_so(firm: Firm, engine: Deployment) -> None:
    engine.start_worker().terminate()  # creates the ledger schema, then leaves
    engine.workers[0].wait(30)
    raw = {"specversion": "1.0", "id": "psa-999999", "source": "urn:firmsim:psa", "type": "psa.time_entry.approved",
           "subject": "TE-999999", "time": "2026-03-02T09:00:00Z", "sequence": 999999,
           "datacontenttype": "application/json",
           "data": {"id": "TE-999999", "project_id": "PRJ-999999", "version": 1}}
    item = _refused(engine, raw, "test: nobody to run it")
    done = _redrive(engine, item.id)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "no live worker" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_dead_letter_redriven_on_the_bus_runs_its_handler_again_on_a_worker(firm: Firm, engine: Deployment) -> None:
    engine.start_worker()
    opportunity_id = firm.win_deal("Woodgrove Dead Letter")
    project = eventually(lambda: firm.project_of(opportunity_id), timeout_s=30)
    [entry] = firm.approve_time(project["id"], firm.staff(project["id"], worker="WRK-434343"), 1)
    engine.wait_idle(timeout_s=40)
    raw = _approved_event(firm, entry)
    delivery = _route(raw)
    assert _tracked(engine, delivery) == 1
    with psycopg.connect(engine.postgres_url, autocommit=True) as connection:  # as if it never went through
        connection.execute(sql.SQL("DELETE FROM {}.tracking WHERE system = 'psa' AND source_id = %s "
                                   "AND handler = %s").format(sql.Identifier(engine.schema)),
                           (delivery.event.source_id, delivery.route.handler_name))
    ledger = open_store(engine.store_url)
    try:
        letter = ledger.dead_letter(flow=delivery.route.flow, key=delivery.key, message_id=delivery.id,
                                    reason="unexpected-error", detail="test: a bug, since fixed",
                                    payload=delivery.payload(), now=datetime.now(UTC))
    finally:
        ledger.close()
    done = subprocess.run([FIRMSIM, "engine", "dead-letters", "--store", engine.store_url, "redrive", letter.id,
                           "--bus", engine.bus_url], capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "handed to the workers" in done.stderr, done.stderr
    eventually(lambda: _tracked(engine, delivery) == 1, timeout_s=30)  # a worker ran the handler again
    assert firm.transactions_by_entry().get(entry) == 1, "the re-run billed the entry twice"
