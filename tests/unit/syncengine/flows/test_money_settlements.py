"""Receivables settled in the ERP (bad debt written off, customer credit applied or refunded) reach the CRM."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from harness.runner.world import World
from tests.unit.syncengine.flows.test_money_world import (
    Deal,
    billing_run,
    call,
    correct_time,
    engine_of,
    log_time,
    open_deal,
    settle,
    staff,
)


@pytest.fixture
def deal(world: World) -> Deal:
    deal = open_deal(world)
    staff(world, deal)
    return deal


def _balance(world: World, deal: Deal) -> str:
    return str(call(world, "crm", "GET", f"/accounts/{deal.account_id}")["ar_status"]["balance"])


def _billed(world: World, deal: Deal) -> dict[str, Any]:
    log_time(world, deal, date(2026, 3, 3), "8.00")
    settle(world)
    run = billing_run(world, deal, "2026-03-31")
    settle(world)
    return dict(call(world, "erp", "GET", f"/invoices/{run['invoice_ids'][0]}"))


def test_an_invoice_written_off_as_bad_debt_leaves_the_account_owing_nothing(world: World, deal: Deal) -> None:
    invoice = _billed(world, deal)
    assert _balance(world, deal) == "1200.00"

    call(world, "erp", "POST", f"/invoices/{invoice['id']}/write-off", {"reason": "Customer insolvent"})
    settle(world)

    assert _balance(world, deal) == "0.00"
    status = call(world, "crm", "GET", f"/opportunities/{deal.opportunity_id}")["billing_status"]
    assert (status["invoiced_amount"], status["paid_amount"]) == ("1200.00", "0.00")


def test_customer_credit_applied_and_refunded_is_handled_by_the_engine(world: World, deal: Deal) -> None:
    invoice = _billed(world, deal)
    call(world, "erp", "POST", "/payments", {"customer_id": deal.customer_id, "amount": "1200.00", "currency": "USD",
                                             "received_on": "2026-04-20",
                                             "allocations": [{"invoice_id": invoice["id"], "amount": "1200.00"}]})
    entry_id = next(iter(call(world, "psa", "GET", "/time-entries")["items"]))["id"]
    correct_time(world, entry_id, "6.00")  # April credits the paid 1,200.00 and bills 900.00 again
    settle(world)
    run = billing_run(world, deal, "2026-04-30")
    settle(world)
    credit_memo_id = run["credit_memo_ids"][0]

    call(world, "erp", "POST", f"/credit-memos/{credit_memo_id}/apply")  # 900.00 of it pays the rebill
    refunded = call(world, "erp", "POST", f"/credit-memos/{credit_memo_id}/refund")  # the 300.00 left goes back
    settle(world)

    # both events were read and handled (not ignored): the engine applied the credit memo's last version
    assert refunded["version"] == 3
    assert engine_of(world).ports.ledger.applied_version(f"billing-source:credit_memo:{credit_memo_id}") == 3
    assert _balance(world, deal) == "0.00"
