"""Properties of billing over any order of postings, reversals, write-offs, runs and invoice reversals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from simulators.erp.app import create_app
from tests.unit.erp.support import ErpClient

PERIOD_ENDS = ("2026-03-31", "2026-04-30", "2026-05-31")
FINAL_RUN = "2026-12-31"

post = st.tuples(st.just("post"), st.integers(0, 1), st.integers(1, 90),
                 st.sampled_from(["0.25", "1", "2.5", "7.75", "8"]), st.sampled_from(["95.50", "150.00", "212.35"]))
reverse = st.tuples(st.just("reverse"), st.integers(0, 50))
write_off = st.tuples(st.just("write_off"), st.integers(0, 50))
run = st.tuples(st.just("run"), st.sampled_from(PERIOD_ENDS))
reverse_invoice = st.tuples(st.just("reverse_invoice"), st.integers(0, 20))
revenue = st.tuples(st.just("revenue"), st.sampled_from(["2026-03", "2026-04", "2026-05"]))
operations = st.lists(st.one_of(post, post, reverse, write_off, run, reverse_invoice, revenue), max_size=30)


def _documents_net(erp: ErpClient, contract_id: str) -> tuple[Decimal, dict[str, Decimal]]:
    """Net billed per the documents themselves: invoice lines less credit-memo lines, in all and per transaction."""
    per_transaction: dict[str, Decimal] = {}
    net = Decimal(0)
    invoices, credit_memos = erp.invoices(contract_id=contract_id), erp.credit_memos(contract_id=contract_id)
    for sign, documents in ((1, invoices), (-1, credit_memos)):
        for document in documents:
            for line in document["lines"]:
                amount = sign * Decimal(line["net_amount"])
                net += amount
                key = line["billable_transaction_id"]
                per_transaction[key] = per_transaction.get(key, Decimal(0)) + amount
    return net, per_transaction


def _pool(transactions: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(t["amount"]) for t in transactions if t["status"] != "REVERSED"), Decimal(0))


def _check_after_run(erp: ErpClient, contracts: list[dict[str, Any]]) -> None:
    for contract in contracts:
        transactions = erp.get(f"/billable-transactions?contract_id={contract['id']}&limit=500")["items"]
        net, per_transaction = _documents_net(erp, contract["id"])
        assert net <= _pool(transactions), "invoices net of credits exceed the billable pool"
        for transaction in transactions:
            billed = per_transaction.get(transaction["id"], Decimal(0))
            assert Decimal(0) <= billed <= Decimal(transaction["amount"])
            assert billed == Decimal(transaction["billed_amount"])
            if transaction["status"] == "REVERSED":
                assert billed == 0, "a reversed transaction stays billed after a run"
        if contract["billing_model"] == "CAPPED_TM":
            assert net <= Decimal(contract["billing_plan"]["cap_amount"])


def _apply(erp: ErpClient, contracts: list[dict[str, Any]], operation: tuple[Any, ...]) -> None:
    kind = operation[0]
    transactions = erp.get("/billable-transactions?limit=500")["items"]
    if kind == "post":
        _, which, day, quantity, rate = operation
        date = f"2026-{3 + (day - 1) // 30:02d}-{(day - 1) % 30 + 1:02d}"
        erp.transaction(contracts[which], quantity=quantity, rate=rate, date=date)
    elif kind in ("reverse", "write_off") and transactions:
        transaction = transactions[operation[1] % len(transactions)]
        action = "reverse" if kind == "reverse" else "write-off"
        response = erp.call("POST", f"/billable-transactions/{transaction['id']}/{action}")
        assert response.status in (200, 409), response.body
    elif kind == "run":
        erp.run("UK01", operation[1])
        _check_after_run(erp, contracts)
    elif kind == "revenue":
        response = erp.call("POST", "/revenue-runs", {"legal_entity": "UK01", "period": operation[1]})
        assert response.status in (201, 409), response.body
        assert response.status == 409 or response.body["exceptions"] == []
    elif kind == "reverse_invoice":
        invoices = erp.invoices()
        if invoices:
            response = erp.call("POST", f"/invoices/{invoices[operation[1] % len(invoices)]['id']}/reverse")
            assert response.status in (200, 409), response.body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_billed_plus_unbilled_is_all_billable_and_entries_balance_whatever_the_order(
        steps: list[tuple[Any, ...]]) -> None:
    app = create_app({"VALIDATE_RESPONSES": True, "CLOCK": ManualClock(datetime(2026, 3, 2, tzinfo=UTC))})
    erp = ErpClient(app.test_client())
    customer = erp.customer("UK01")
    contracts = [erp.contract("TIME_AND_MATERIALS", customer=customer),
                 erp.contract("CAPPED_TM", customer=customer, billing_plan={"cap_amount": "400.00"})]

    for step in steps:
        _apply(erp, contracts, step)
    erp.run("UK01", FINAL_RUN)
    _check_after_run(erp, contracts)

    for contract in contracts:
        transactions = erp.get(f"/billable-transactions?contract_id={contract['id']}&limit=500")["items"]
        live = [t for t in transactions if t["status"] != "REVERSED"]
        billed, _ = _documents_net(erp, contract["id"])
        unbilled = sum((Decimal(t["amount"]) - Decimal(t["billed_amount"]) - Decimal(t["written_off_amount"])
                        for t in live), Decimal(0))
        written_off = sum((Decimal(t["written_off_amount"]) for t in live), Decimal(0))
        assert billed + unbilled + written_off == _pool(transactions)
        balance = erp.balance(contract)
        assert Decimal(balance["billed_net"]) == billed
        assert Decimal(balance["pending_credit"]) == 0
        if contract["billing_model"] == "TIME_AND_MATERIALS":
            assert unbilled == 0, "a final run leaves T&M work unbilled"
        else:
            assert Decimal(balance["held"]) == unbilled
    for entry in erp.get("/journal-entries?limit=500")["items"]:
        assert sum(Decimal(line["debit"]) for line in entry["lines"]) == Decimal(entry["total_debit"])
        assert sum(Decimal(line["credit"]) for line in entry["lines"]) == Decimal(entry["total_credit"])
        assert entry["total_debit"] == entry["total_credit"], "an unbalanced journal entry"
    trial = erp.get("/ledgers/UK01/trial-balance")
    assert trial["total_debit"] == trial["total_credit"]
    assert context_of(app).response_violations == []
