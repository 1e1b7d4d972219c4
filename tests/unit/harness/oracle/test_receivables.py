"""ar-ties-out: invoices, credits and payments tie per invoice, per customer and to truth."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.harness.oracle.world import World, violations
from tests.unit.harness.oracle.world_erp import contract, invoice, line, source


def test_an_open_amount_that_does_not_tie_names_the_invoice(world: World) -> None:
    world.record("erp", "invoices", "INV-000001")["open_amount"] = "3226.44"
    world.show_balance("ACC-000001", "13226.44")  # the CRM shows what the ERP says

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["INV-000001", "CUS-000001"]
    assert result.violations[0].expected == ["0.00", "1000.00", "0.00", "2226.44"]


def test_a_payment_applied_twice_is_caught(world: World) -> None:
    world.records("erp", "payments").append({**world.record("erp", "payments", "PAY-000001"), "id": "PAY-000002"})
    world.record("erp", "invoices", "INV-000001").update(amount_paid="2000.00", open_amount="1226.44")
    world.show_billing(1, "3226.44", "0.00", "2000.00")
    world.show_balance("ACC-000001", "11226.44")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["PAY-000002", "CUS-000001"]
    assert "no customer made in truth" in result.violations[0].message


def test_a_payment_the_erp_never_recorded_is_caught(world: World) -> None:
    world.records("erp", "payments").clear()
    world.record("erp", "invoices", "INV-000001").update(amount_paid="0.00", open_amount="3226.44")
    world.show_billing(1, "3226.44", "0.00", "0.00")
    world.show_balance("ACC-000001", "13226.44")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["PAY-000001", "CUS-000001"]
    # Acme: 3,226.44 + 10,000.00 invoiced - 1,000.00 paid in truth; the ERP still shows 13,226.44 open.
    assert (result.violations[1].expected, result.violations[1].actual) == ("12226.44", "13226.44")


def test_an_invoice_no_billing_run_produced_is_caught(world: World) -> None:
    world.records("erp", "invoices").append(invoice(4, "CON-000001", "CUS-000001", [
        line(1, "TIME", "100.00", source("psa", "TIM-000001", 1), "BTX-000001")], "100.00"))
    world.show_billing(1, "3326.44", "0.00", "1000.00")
    world.show_balance("ACC-000001", "12326.44")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["INV-000004", "CUS-000001"]


def _credit_after_payment(world: World, applied: str | None, left: str | None) -> None:
    """Credit all of INV-000001 (3,226.44) after Acme paid 1,000.00 of it (the CRM and PSA show what the ERP does)."""
    world.record("erp", "invoices", "INV-000001").update(credited_total="3226.44", open_amount="0.00")
    world.show_billing(1, "3226.44", "3226.44", "1000.00")
    world.show_balance("ACC-000001", f"{Decimal('10000.00') - Decimal(left or '0.00'):f}")
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
    assert result.violations[0].actual == ["2226.44", "0.00", "0.00", "900.00"]


def test_unapplied_cash_counts_against_the_customer_balance(world: World) -> None:
    world.fact("payment_made", payment_id="PAY-000001")["amount"] = "1500.00"
    world.record("erp", "payments", "PAY-000001").update(amount="1500.00", unapplied_amount="500.00")
    world.show_balance("ACC-000001", "11726.44")

    assert world.check()["ar-ties-out"].violations == []


def test_a_payment_in_another_currency_counts_at_the_erps_converted_amount(world: World) -> None:
    world.fact("payment_made", payment_id="PAY-000001").update(amount="920.00", currency="EUR")
    world.record("erp", "payments", "PAY-000001").update(amount="920.00", currency="EUR", converted_amount="1000.00")

    result = world.check()["ar-ties-out"]

    assert result.violations == []
    assert result.notes == ["1 payments in another currency than their invoice's are taken at the ERP's converted "
                            "amount (truth has no FX rates): PAY-000001"]


def test_the_crm_and_psa_copies_of_billing_and_ar_are_checked(world: World) -> None:
    result = world.check()["ar-ties-out"]

    # 3 invoices, 1 payment, 2 customer balances; then 3 opportunities, 3 projects and 2 accounts in CRM and PSA.
    assert (result.status, result.checked) == ("pass", 3 + 2 + 1 + 3 + 3 + 2)


def test_a_payment_the_crm_and_psa_never_heard_of_is_caught(world: World) -> None:
    world.show_billing(1, "3226.44", "0.00", "0.00")
    world.show_balance("ACC-000001", "13226.44")

    result = world.check()["ar-ties-out"]

    assert [(v.system, v.record_id, v.expected, v.actual) for v in result.violations] == [
        ("crm", "OPP-000001", ["3226.44", "0.00", "1000.00", "USD"], ["3226.44", "0.00", "0.00", "USD"]),
        ("psa", "PRJ-000001", ["3226.44", "0.00", "1000.00", "USD"], ["3226.44", "0.00", "0.00", "USD"]),
        ("crm", "ACC-000001", ["12226.44", "USD"], ["13226.44", "USD"])]
    assert "project of OPP-000001 billing status" in result.violations[1].message


def test_an_invoiced_deal_whose_status_was_never_written_is_caught(world: World) -> None:
    world.record("crm", "opportunities", "OPP-000003")["billing_status"] = None
    world.record("psa", "projects", "PRJ-000003")["billing_status"] = {"credit_hold": False}
    world.record("crm", "accounts", "ACC-000003")["ar_status"] = None

    result = world.check()["ar-ties-out"]

    assert [(v.system, v.record_id, v.expected, v.actual) for v in result.violations] == [
        ("crm", "OPP-000003", ["10000.00", "0.00", "0.00", "USD"], None),
        ("psa", "PRJ-000003", ["10000.00", "0.00", "0.00", "USD"], None),
        ("crm", "ACC-000003", ["20099.99", "USD"], None)]


def test_a_deal_nothing_was_invoiced_on_shows_nothing_or_zeros(world: World) -> None:
    world.records("crm", "opportunities").append({"id": "OPP-000005", "status": "WON", "billing_status": {
        "invoiced_amount": "0.00", "credited_amount": "0.00", "paid_amount": "0.00", "currency": "EUR"}})
    assert world.check()["ar-ties-out"].violations == []

    world.record("crm", "opportunities", "OPP-000005")["billing_status"]["invoiced_amount"] = "50.00"

    result = world.check()["ar-ties-out"]

    assert [(v.record_id, v.expected) for v in result.violations] == [("OPP-000005", ["0.00", "0.00", "0.00", "EUR"])]


def test_the_wrong_currency_is_caught(world: World) -> None:
    world.record("psa", "projects", "PRJ-000002")["billing_status"]["currency"] = "EUR"
    world.record("crm", "accounts", "ACC-000003")["ar_status"]["currency"] = "EUR"

    result = world.check()["ar-ties-out"]

    assert [(v.system, v.record_id, v.expected, v.actual) for v in result.violations] == [
        ("psa", "PRJ-000002", ["20099.99", "0.00", "0.00", "USD"], ["20099.99", "0.00", "0.00", "EUR"]),
        ("crm", "ACC-000003", ["20099.99", "USD"], ["20099.99", "EUR"])]


def test_a_customer_in_credit_shows_a_zero_balance_in_the_crm(world: World) -> None:
    # Acme pays INV-000001 and the retainer in full, then INV-000001 is credited: 1,000.00 + 2,226.44 owed back.
    _credit_after_payment(world, "2226.44", "1000.00")
    world.fact("payment_made", payment_id="PAY-000001")["amount"] = "11000.00"
    world.record("erp", "payments", "PAY-000001").update(amount="11000.00", applications=[
        {"invoice_id": "INV-000001", "amount": "1000.00"}, {"invoice_id": "INV-000003", "amount": "10000.00"}])
    world.record("erp", "invoices", "INV-000003").update(amount_paid="10000.00", open_amount="0.00")
    world.show_billing(3, "10000.00", "0.00", "10000.00")
    world.show_balance("ACC-000001", "0.00")

    assert world.check()["ar-ties-out"].violations == []

    world.show_balance("ACC-000001", "-1000.00")

    assert [(v.record_id, v.expected) for v in world.check()["ar-ties-out"].violations] == [
        ("ACC-000001", ["0.00", "USD"])]


def test_invoices_of_a_contract_booked_from_a_change_order_count_for_its_deal(world: World) -> None:
    world.records("erp", "contracts").append(contract(4, "FIXED_FEE", "CUS-000002", 1, "10000.00",
                                                      crm_opportunity_id="OPP-000002", source_id="AMD-000001"))
    world.records("erp", "invoices").append(invoice(4, "CON-000004", "CUS-000002", [
        line(1, "MILESTONE", "10000.00", source("crm", "AMD-000001", 2))], "10000.00"))
    world.fact("billing_run", billing_run_id="BRN-000001")["invoice_ids"].append("INV-000004")
    world.show_balance("ACC-000003", "30099.99")

    result = world.check()["ar-ties-out"]

    assert [(v.record_id, v.expected[0], v.actual[0]) for v in result.violations] == [
        ("OPP-000002", "30099.99", "20099.99"), ("PRJ-000002", "30099.99", "20099.99")]
