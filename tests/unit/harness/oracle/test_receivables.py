"""ar-ties-out: invoices, credits and payments tie per invoice, per customer and to truth."""

from __future__ import annotations

import pytest

from tests.unit.harness.oracle.world import World, violations
from tests.unit.harness.oracle.world_erp import invoice, line, source


def test_an_open_amount_that_does_not_tie_names_the_invoice(world: World) -> None:
    world.record("erp", "invoices", "INV-000001")["open_amount"] = "3226.44"

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["INV-000001", "CUS-000001"]
    assert result.violations[0].expected == ["0.00", "1000.00", "2226.44"]


def test_a_payment_applied_twice_is_caught(world: World) -> None:
    world.records("erp", "payments").append({**world.record("erp", "payments", "PAY-000001"), "id": "PAY-000002"})
    world.record("erp", "invoices", "INV-000001").update(amount_paid="2000.00", open_amount="1226.44")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["PAY-000002", "CUS-000001"]
    assert "no customer made in truth" in result.violations[0].message


def test_a_payment_the_erp_never_recorded_is_caught(world: World) -> None:
    world.records("erp", "payments").clear()
    world.record("erp", "invoices", "INV-000001").update(amount_paid="0.00", open_amount="3226.44")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["PAY-000001", "CUS-000001"]
    # Acme: 3,226.44 + 10,000.00 invoiced - 1,000.00 paid in truth; the ERP still shows 13,226.44 open.
    assert (result.violations[1].expected, result.violations[1].actual) == ("12226.44", "13226.44")


def test_an_invoice_no_billing_run_produced_is_caught(world: World) -> None:
    world.records("erp", "invoices").append(invoice(4, "CON-000001", "CUS-000001", [
        line(1, "TIME", "100.00", source("psa", "TIM-000001", 1), "BTX-000001")], "100.00"))

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["INV-000004", "CUS-000001"]


def _credit_after_payment(world: World, applied: str | None, left: str | None) -> None:
    """Credit all of INV-000001 (3,226.44) after Acme paid 1,000.00 of it."""
    world.record("erp", "invoices", "INV-000001").update(credited_total="3226.44", open_amount="0.00")
    split = {} if applied is None else {"applied_amount": applied, "open_amount": left}
    world.records("erp", "credit_memos").append({
        "id": "CM-000001", "invoice_id": "INV-000001", "contract_id": "CON-000001", "customer_id": "CUS-000001",
        "currency": "USD", "credit_date": "2026-02-25", "lines": [], "net_total": "3226.44", "total": "3226.44",
        **split})


def test_a_credit_after_payment_is_an_unapplied_credit_in_the_customer_balance(world: World) -> None:
    # Acme: 3,226.44 + 10,000.00 invoiced - 3,226.44 credited - 1,000.00 paid = 9,000.00. The ERP: INV-000001
    # nothing open, INV-000003 10,000.00 open, the credit memo took 2,226.44 off INV-000001 and leaves
    # 1,000.00 of unapplied credit: 10,000.00 - 1,000.00 = 9,000.00, as NetSuite's customer balance shows it.
    _credit_after_payment(world, "2226.44", "1000.00")

    assert world.check()["ar-ties-out"].violations == []


@pytest.mark.parametrize(("applied", "left"), [(None, None), ("3226.44", "0.00")])
def test_a_credit_after_payment_the_erp_shows_nowhere_is_caught(world: World, applied: str | None,
                                                                 left: str | None) -> None:
    _credit_after_payment(world, applied, left)

    result = world.check()["ar-ties-out"]

    # Acme owes 10,000 on the retainer and is owed 1,000 back: 9,000; the ERP shows 10,000.
    assert violations(result)[-1] == "CUS-000001"
    assert (result.violations[-1].expected, result.violations[-1].actual) == ("9000.00", "10000.00")
    assert "hides a credit balance of 1000.00" in result.violations[-1].message


def test_a_credit_memo_whose_applied_and_open_amounts_do_not_add_up_is_caught(world: World) -> None:
    _credit_after_payment(world, "2226.44", "900.00")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["CM-000001", "CUS-000001"]
    assert result.violations[0].actual == ["2226.44", "900.00"]


def test_unapplied_cash_counts_against_the_customer_balance(world: World) -> None:
    world.fact("payment_made", payment_id="PAY-000001")["amount"] = "1500.00"
    world.record("erp", "payments", "PAY-000001").update(amount="1500.00", unapplied_amount="500.00")

    assert world.check()["ar-ties-out"].violations == []


def test_a_payment_in_another_currency_counts_at_the_erps_converted_amount(world: World) -> None:
    world.fact("payment_made", payment_id="PAY-000001").update(amount="920.00", currency="EUR")
    world.record("erp", "payments", "PAY-000001").update(amount="920.00", currency="EUR", converted_amount="1000.00")

    result = world.check()["ar-ties-out"]

    assert result.violations == []
    assert result.notes == ["1 payments in another currency than their invoice's are taken at the ERP's converted "
                            "amount (truth has no FX rates): PAY-000001"]
