"""milestones-billed-exactly-once: completed milestones invoiced once, net of credits, and nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.unit.harness.oracle.world import World, violations
from tests.unit.harness.oracle.world_erp import invoice, line, source

DESIGN = source("psa", "MIL-000001", 1)


def test_a_milestone_invoiced_twice_is_caught(world: World) -> None:
    world.records("erp", "invoices").append(
        invoice(4, "CON-000002", "CUS-000002", [line(1, "MILESTONE", "20000.00", DESIGN, milestone_id="M1")],
                "20000.00"))

    result = world.check()["milestones-billed-exactly-once"]

    assert violations(result) == ["CON-000002/M1"]
    assert result.violations[0].actual == "40000.00"


def test_a_billable_milestone_left_out_of_a_later_billing_run_is_caught(world: World) -> None:
    design_invoice = world.record("erp", "invoices", "INV-000002")
    design_invoice["lines"] = design_invoice["lines"][1:]
    world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][0]["status"] = "ACCEPTED"

    result = world.check()["milestones-billed-exactly-once"]

    assert violations(result) == ["CON-000002/M1"]
    assert "billable before billing run BRN-000001" in result.violations[0].message


def test_a_milestone_completed_after_the_last_billing_run_may_wait(world: World) -> None:
    assert world.check()["milestones-billed-exactly-once"].violations == []
    assert world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][1]["status"] == "COMPLETED"


def test_a_completion_that_never_reached_the_erp_is_caught(world: World) -> None:
    world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][1]["status"] = "PLANNED"

    result = world.check()["milestones-billed-exactly-once"]

    assert violations(result) == ["CON-000002/M2"]
    assert result.violations[0].expected == "COMPLETED"


def test_a_milestone_needing_acceptance_is_not_due_before_it(world: World) -> None:
    world.facts = [(kind, data) for kind, data in world.facts if kind != "milestone_accepted"]
    design_invoice = world.record("erp", "invoices", "INV-000002")
    design_invoice["lines"] = design_invoice["lines"][1:]
    world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][0]["status"] = "COMPLETED"

    assert world.check()["milestones-billed-exactly-once"].violations == []


def test_a_disputed_milestone_credited_and_rebilled_counts_once(world: World) -> None:
    world.facts += [
        ("invoice_disputed", {"invoice_id": "INV-000002", "customer_id": "CUS-000002", "contract_id": "CON-000002",
                              "reason": "wrong scope"}),
        ("billing_run", {"billing_run_id": "BRN-000002", "legal_entity": "US01", "period_end": "2026-03-31",
                         "invoice_ids": ["INV-000004"]})]
    original = world.record("erp", "invoices", "INV-000002")
    world.records("erp", "credit_memos").append({
        "id": "CM-000001", "invoice_id": "INV-000002", "contract_id": "CON-000002", "customer_id": "CUS-000002",
        "currency": "USD", "credit_date": "2026-03-05", "lines": [{**original["lines"][0], "invoice_line_no": 1}],
        "net_total": "20000.00", "total": "20000.00"})

    result = world.check()["milestones-billed-exactly-once"]
    assert violations(result) == ["CON-000002/M1", "CON-000002/M2"]
    assert "billable before billing run BRN-000002" in result.violations[0].message

    world.records("erp", "invoices").append(
        invoice(4, "CON-000002", "CUS-000002", [
            line(1, "MILESTONE", "20000.00", DESIGN, milestone_id="M1"),
            line(2, "MILESTONE", "30000.00", source("psa", "MIL-000002", 1), milestone_id="M2")], "50000.00"))
    assert world.check()["milestones-billed-exactly-once"].violations == []


def test_a_milestone_truth_never_completed_must_not_be_invoiced(world: World) -> None:
    world.records("erp", "invoices").append(
        invoice(4, "CON-000002", "CUS-000002", [line(1, "MILESTONE", "10000.00", DESIGN, milestone_id="M3")],
                "10000.00"))

    result = world.check()["milestones-billed-exactly-once"]

    assert violations(result) == ["CON-000002/M3"]
    assert "truth never completed it" in result.violations[0].message


def test_a_plan_milestone_at_another_amount_is_caught(world: World) -> None:
    world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][1]["amount"] = "31000.00"

    assert violations(world.check()["milestones-billed-exactly-once"]) == ["CON-000002/M2"]


def test_a_milestone_accepted_just_before_a_run_may_wait_for_the_next(world: World) -> None:
    design_invoice = world.record("erp", "invoices", "INV-000002")
    design_invoice["lines"] = design_invoice["lines"][1:]
    world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][0]["status"] = "ACCEPTED"
    accepted = next(n for n, (kind, _) in enumerate(world.facts, start=1) if kind == "milestone_accepted")
    world.stamps[accepted] = datetime.fromisoformat(world.stamp(accepted + 1)) - timedelta(minutes=45)

    assert world.check()["milestones-billed-exactly-once"].violations == []
