"""ar-ties-out: invoices, credits and payments tie per invoice, per customer and to truth."""

from __future__ import annotations

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


def test_a_credit_after_payment_must_leave_a_credit_balance(world: World) -> None:
    world.record("erp", "invoices", "INV-000001").update(credited_total="3226.44", open_amount="0.00")
    world.records("erp", "credit_memos").append({
        "id": "CM-000001", "invoice_id": "INV-000001", "contract_id": "CON-000001", "customer_id": "CUS-000001",
        "currency": "USD", "credit_date": "2026-02-25", "lines": [], "net_total": "3226.44", "total": "3226.44"})

    result = world.check()["ar-ties-out"]

    # Acme owes 10,000 on the retainer and is owed 1,000 back: 9,000; the ERP shows 10,000.
    assert violations(result) == ["CUS-000001"]
    assert (result.violations[0].expected, result.violations[0].actual) == ("9000.00", "10000.00")
    assert "hides a credit balance of 1000.00" in result.violations[0].message


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
