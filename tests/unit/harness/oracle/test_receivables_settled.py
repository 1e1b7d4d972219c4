"""ar-ties-out: customer credit applied or refunded and bad debt written off, in the ERP against truth."""

from __future__ import annotations

from tests.unit.harness.oracle.test_receivables import _credit_after_payment
from tests.unit.harness.oracle.world import World, violations

APPLIED = {"credit_memo_id": "CM-000001", "customer_id": "CUS-000001", "invoice_id": "INV-000003",
           "amount": "1000.00", "currency": "USD", "applied_on": "2026-03-03"}
REFUNDED = {"credit_memo_id": "CM-000001", "customer_id": "CUS-000001", "amount": "1000.00", "currency": "USD",
            "refunded_on": "2026-03-03"}
WRITTEN_OFF = {"invoice_id": "INV-000003", "customer_id": "CUS-000001", "amount": "10000.00", "currency": "USD",
               "written_off_on": "2026-03-03", "reason": "Customer insolvent"}


def _in_credit(world: World) -> None:
    """Acme was paid 1,000.00 on INV-000001, then INV-000001 was credited whole: 1,000.00 of credit is open;
    the retainer's INV-000003 (10,000.00) is open. Acme's balance is 9,000.00."""
    _credit_after_payment(world, "2226.44", "1000.00")


def _apply_credit(world: World) -> None:
    world.record("erp", "credit_memos", "CM-000001").update(
        open_amount="0.00", applications=[{"invoice_id": "INV-000003", "applied": "1000.00",
                                           "applied_on": "2026-03-03"}])
    world.record("erp", "invoices", "INV-000003").update(credit_applied="1000.00", open_amount="9000.00")


def _write_off(world: World) -> None:
    world.record("erp", "invoices", "INV-000003").update(status="WRITTEN_OFF", written_off_amount="10000.00",
                                                         open_amount="0.00")


def test_customer_credit_applied_to_the_next_invoice_ties_out(world: World) -> None:
    _in_credit(world)
    _apply_credit(world)
    world.facts.append(("credit_applied", dict(APPLIED)))

    assert world.check()["ar-ties-out"].violations == []


def test_a_credit_application_the_erp_lost_is_caught(world: World) -> None:
    _in_credit(world)
    world.facts.append(("credit_applied", dict(APPLIED)))

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["CM-000001"]
    assert (result.violations[0].expected, result.violations[0].actual) == (["INV-000003", "1000.00"],
                                                                            ["INV-000003", None])
    assert "the ERP lost the application" in result.violations[0].message


def test_a_credit_application_finance_never_made_is_caught(world: World) -> None:
    _in_credit(world)
    _apply_credit(world)

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["CM-000001"]
    assert "finance never applied it" in result.violations[0].message


def test_an_invoice_whose_credit_applied_does_not_tie_to_the_credit_memos_is_caught(world: World) -> None:
    _in_credit(world)
    _apply_credit(world)
    world.facts.append(("credit_applied", dict(APPLIED)))
    world.record("erp", "invoices", "INV-000003").update(credit_applied="0.00")

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["INV-000003"]
    assert result.violations[0].expected == ["0.00", "0.00", "1000.00", "9000.00"]


def test_credit_refunded_to_the_customer_ties_out_and_an_unrecorded_refund_is_caught(world: World) -> None:
    _in_credit(world)
    world.record("erp", "credit_memos", "CM-000001").update(
        open_amount="0.00", refunded_amount="1000.00", refunds=[{"amount": "1000.00", "refunded_on": "2026-03-03",
                                                                 "reference": None, "journal_entry_id": "JE-000009"}])
    world.show_balance("ACC-000001", "10000.00")  # 1,000.00 of cash went back: Acme owes the retainer's 10,000.00
    world.facts.append(("credit_refunded", dict(REFUNDED)))

    assert world.check()["ar-ties-out"].violations == []

    world.facts.pop()

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["CM-000001", "CUS-000001"]
    assert (result.violations[0].expected, result.violations[0].actual) == ("0.00", "1000.00")
    assert (result.violations[1].expected, result.violations[1].actual) == ("9000.00", "10000.00")


def test_bad_debt_written_off_ties_out(world: World) -> None:
    _write_off(world)
    world.facts.append(("invoice_written_off", dict(WRITTEN_OFF)))
    world.show_balance("ACC-000001", "2226.44")

    assert world.check()["ar-ties-out"].violations == []


def test_a_write_off_finance_never_decided_is_caught(world: World) -> None:
    _write_off(world)
    world.show_balance("ACC-000001", "2226.44")  # the CRM shows what the ERP says

    result = world.check()["ar-ties-out"]

    assert violations(result) == ["INV-000003", "CUS-000001"]
    assert (result.violations[0].expected, result.violations[0].actual) == (
        ["0.00", "POSTED or REVERSED"], ["10000.00", "WRITTEN_OFF"])
    assert "finance never wrote it off" in result.violations[0].message
    assert (result.violations[1].expected, result.violations[1].actual) == ("12226.44", "2226.44")


def test_a_write_off_of_another_amount_or_one_the_erp_never_posted_is_caught(world: World) -> None:
    world.facts.append(("invoice_written_off", dict(WRITTEN_OFF)))
    world.show_balance("ACC-000001", "2226.44")

    missing = world.check()["ar-ties-out"]
    world.record("erp", "invoices", "INV-000003").update(status="WRITTEN_OFF", written_off_amount="9000.00",
                                                         open_amount="1000.00")
    wrong = world.check()["ar-ties-out"]

    assert violations(missing) == ["INV-000003", "CUS-000001", "ACC-000001"]
    assert "the ERP does not show that write-off" in missing.violations[0].message
    assert violations(wrong) == ["INV-000003", "CUS-000001", "ACC-000001"]
    assert wrong.violations[0].actual == ["9000.00", "WRITTEN_OFF"]
