"""A contract's ledger position (DOMAIN.md R6) when a fixed fee also passes reimbursable expenses through.

The fee nets to one contract asset or liability (TRG Q61); approved expenses are an unconditional
right, so those not yet invoiced are an unbilled receivable and those invoiced are plain AR: they
never move the fee's contract asset or liability, whatever the order of billing and revenue runs.
US01 services are tax-exempt, so every figure below is net.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.unit.erp.support import ErpClient


def _fixed_fee(erp: ErpClient, milestones: list[dict[str, Any]]) -> dict[str, Any]:
    """A 50,000 fixed fee measured cost-to-cost against an estimate of 20,000."""
    return erp.contract("FIXED_FEE", "US01", total_price="50000.00",
                        billing_plan={"eac": "20000.00", "milestones": milestones})


def _march_revenue(erp: ErpClient, contract: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Post 5,000 of cost to March (50,000 x 5,000 / 20,000 = 12,500 earned), run revenue; return the streams."""
    erp.post(f"/contracts/{contract['id']}/cost-actuals", {"period": "2026-03", "cumulative_cost": "5000.00",
                                                           "source_system": "psa", "source_id": "PRJ-000001",
                                                           "source_version": 1})
    run = erp.post("/revenue-runs", {"legal_entity": "US01", "period": "2026-03"})
    assert run["exceptions"] == []
    return {r["stream"]: r for r in run["results"] if r["contract_id"] == contract["id"]}


def _position(erp: ErpClient, contract: dict[str, Any]) -> tuple[str, str, str]:
    position = erp.get(f"/contracts/{contract['id']}/revenue")["position"]
    return position["contract_asset"], position["contract_liability"], position["unbilled_receivable"]


def test_an_expense_invoiced_before_the_revenue_run_leaves_the_fee_asset_whole(erp: ErpClient) -> None:
    contract = _fixed_fee(erp, [{"id": "GO", "name": "Go-live", "amount": "50000.00", "requires_acceptance": True}])
    erp.transaction(contract, kind="EXPENSE", quantity="1", rate="165.30", date="2026-03-11")
    erp.run("US01", "2026-03-31")  # invoices the expense only: 165.30

    streams = _march_revenue(erp, contract)

    assert (streams["CONTRACT"]["contract_asset"], streams["PASS_THROUGH_EXPENSES"]["unbilled_receivable"]) == (
        "12500.00", "0.00")
    # Not 12,334.70 of contract asset and 165.30 of unbilled receivable for an expense already invoiced.
    assert _position(erp, contract) == ("12500.00", "0.00", "0.00")


def test_a_fee_billed_ahead_and_an_unbilled_expense_show_as_liability_and_receivable(erp: ErpClient) -> None:
    contract = _fixed_fee(erp, [{"id": "SIGN", "name": "Signing", "amount": "20000.00"},
                                {"id": "REST", "name": "Acceptance", "amount": "30000.00",
                                 "requires_acceptance": True}])
    erp.post(f"/contracts/{contract['id']}/milestones/SIGN/complete", {"date": "2026-03-02"}, status=200)
    erp.transaction(contract, kind="EXPENSE", quantity="1", rate="412.30", date="2026-03-11")
    erp.run("US01", "2026-03-31")  # Signing 20,000 + expense 412.30
    erp.transaction(contract, kind="EXPENSE", quantity="1", rate="100.00", date="2026-03-20")  # approved late

    streams = _march_revenue(erp, contract)

    # Fee: 12,500 earned - 20,000 billed = 7,500 liability; expenses: 512.30 - 412.30 = 100.00 receivable.
    assert streams["CONTRACT"]["contract_liability"] == "7500.00"
    assert streams["PASS_THROUGH_EXPENSES"]["unbilled_receivable"] == "100.00"
    assert _position(erp, contract) == ("0.00", "7500.00", "100.00")

    erp.run("US01", "2026-04-30")  # the late expense is invoiced: the receivable is billed, the fee untouched

    assert _position(erp, contract) == ("0.00", "7500.00", "0.00")


def test_the_ledger_position_is_what_the_journal_entries_add_up_to(erp: ErpClient) -> None:
    contract = _fixed_fee(erp, [{"id": "GO", "name": "Go-live", "amount": "50000.00", "requires_acceptance": True}])
    erp.transaction(contract, kind="EXPENSE", quantity="1", rate="165.30", date="2026-03-11")
    erp.run("US01", "2026-03-31")
    _march_revenue(erp, contract)

    entries = erp.get(f"/journal-entries?contract_id={contract['id']}&limit=500")["items"]
    balances: dict[str, Decimal] = {}
    for entry in entries:
        assert entry["total_debit"] == entry["total_credit"]
        for line in entry["lines"]:
            if line["contract_id"] == contract["id"]:
                change = Decimal(line["debit"]) - Decimal(line["credit"])
                balances[line["account"]] = balances.get(line["account"], Decimal(0)) + change
    shown = {account: balances.get(account, Decimal(0)) for account in ("CONTRACT_ASSET", "UNBILLED_AR", "REVENUE")}
    assert shown == {"CONTRACT_ASSET": Decimal("12500.00"), "UNBILLED_AR": Decimal(0), "REVENUE": Decimal("-12665.30")}
