"""time-billed-exactly-once and expenses-billed-exactly-once catch duplicates, lost reversals, wrong money."""

from __future__ import annotations

from tests.unit.harness.oracle.world import World, violations
from tests.unit.harness.oracle.world_erp import transaction


def repost(world: World, transaction_id: str, **changes: str) -> None:
    """Change a posting as a faulty engine would have made it, and invoiced as posted."""
    posting = world.record("erp", "billable_transactions", transaction_id)
    posting.update(changes)
    posting["billings"] = [{**entry, "net_amount": posting["amount"]} for entry in posting["billings"]]


def test_approved_time_posted_twice_on_a_retry_names_the_duplicate(world: World) -> None:
    world.records("erp", "billable_transactions").append(
        transaction(9, "TIME", "CON-000001", "TIM-000001", 1, "2026-01-12", "7.5", "190.125", "1425.94", None,
                    status="UNBILLED"))

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000009"]
    assert result.violations[0].actual == ["BTX-000001", "BTX-000009"]


def test_a_reopened_revision_whose_posting_was_not_reversed_is_caught(world: World) -> None:
    world.record("erp", "billable_transactions", "BTX-000002")["status"] = "UNBILLED"

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000002"]
    assert "reopened in PSA but its posting was not reversed" in result.violations[0].message


def test_time_posted_at_the_wrong_rate_names_the_transaction(world: World) -> None:
    repost(world, "BTX-000003", rate="250.00", amount="1500.00")

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000003"]
    assert result.violations[0].expected == {"amount": "1560.00", "rate": "260.00"}
    assert result.violations[0].actual == {"amount": "1500.00", "rate": "250.00"}


def test_rounding_the_rate_per_hour_instead_of_the_line_is_caught(world: World) -> None:
    # 7.5 h x 190.125 = 1,425.9375 -> 1,425.94 per line; rounding the hourly rate first gives
    # 7.5 x 190.13 = 1,425.975 -> 1,425.98.
    repost(world, "BTX-000001", rate="190.13", amount="1425.98")

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000001"]
    assert result.violations[0].expected == {"amount": "1425.94", "rate": "190.125"}


def test_hours_rounded_to_whole_hours_are_caught(world: World) -> None:
    repost(world, "BTX-000001", quantity="8", amount="1521.00")

    assert world.check()["time-billed-exactly-once"].violations[0].expected == {"amount": "1425.94",
                                                                                 "quantity": "7.5"}


def test_approved_time_never_posted_is_named_by_entry_and_revision(world: World) -> None:
    world.records("erp", "billable_transactions").remove(world.record("erp", "billable_transactions", "BTX-000003"))

    result = world.check()["time-billed-exactly-once"]

    assert "TIM-000002 revision 2" in violations(result)


def test_non_billable_time_posted_is_a_stray(world: World) -> None:
    world.records("erp", "billable_transactions").append(
        transaction(9, "TIME", "CON-000001", "TIM-000005", 1, "2026-01-21", "2", "190.125", "380.25", None,
                    status="UNBILLED"))

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000009"]
    assert "no approved, billable time entry TIM-000005" in result.violations[0].message


def test_time_on_a_fixed_fee_deal_is_never_posted(world: World) -> None:
    world.records("erp", "billable_transactions").append(
        transaction(9, "TIME", "CON-000002", "TIM-000003", 1, "2026-01-20", "10", "190.125", "1901.25", None,
                    status="UNBILLED"))

    assert violations(world.check()["time-billed-exactly-once"]) == ["BTX-000009"]


def test_time_posted_to_another_contract_is_caught(world: World) -> None:
    world.record("erp", "billable_transactions", "BTX-000001")["contract_id"] = "CON-000003"

    assert world.check()["time-billed-exactly-once"].violations[0].expected == {"contract_id": "CON-000001"}


def test_a_reversal_after_invoicing_that_was_never_credited_is_caught(world: World) -> None:
    # TIM-000001 is reopened after it was invoiced; the ERP reverses its posting before the next
    # billing run, which must credit it. This firm's ERP issued no credit memo.
    world.facts.append(("time_reopened", {"time_entry_id": "TIM-000001", "revision": 1,
                                          "project_id": "PRJ-000001", "opportunity_id": "OPP-000001"}))
    world.record("erp", "billable_transactions", "BTX-000001").update(status="REVERSED",
                                                                       reversed_at="2026-02-10T10:00:00Z")
    world.records("erp", "billing_runs").append({"id": "BRN-000002", "legal_entity": "US01",
                                                 "created_at": "2026-03-01T09:00:00Z", "exceptions": []})

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000001"]
    assert result.violations[0].actual == "1425.94"
    assert "never credited" in result.violations[0].message


def test_a_reversal_after_the_last_billing_run_may_still_await_its_credit(world: World) -> None:
    world.facts.append(("time_reopened", {"time_entry_id": "TIM-000001", "revision": 1,
                                          "project_id": "PRJ-000001", "opportunity_id": "OPP-000001"}))
    world.record("erp", "billable_transactions", "BTX-000001").update(status="REVERSED",
                                                                       reversed_at="2026-02-10T10:00:00Z")

    assert world.check()["time-billed-exactly-once"].violations == []


def test_a_transaction_invoiced_twice_is_caught(world: World) -> None:
    posting = world.record("erp", "billable_transactions", "BTX-000003")
    posting["billings"] = [*posting["billings"], {"invoice_id": "INV-000009", "line_no": 1, "net_amount": "1560.00",
                                                  "credit_memo_id": None}]

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000003"]
    assert result.violations[0].actual == "3120.00"


def test_an_expense_posted_twice_names_the_duplicate(world: World) -> None:
    world.records("erp", "billable_transactions").append(
        transaction(9, "EXPENSE", "CON-000002", "EXP-000002", 1, "2026-01-22", "1", "99.99", "99.99", None,
                    status="UNBILLED"))

    assert violations(world.check()["expenses-billed-exactly-once"]) == ["BTX-000009"]


def test_an_expense_posted_at_another_amount_is_caught(world: World) -> None:
    repost(world, "BTX-000004", amount="240.00")

    result = world.check()["expenses-billed-exactly-once"]

    assert violations(result) == ["BTX-000004"]
    assert result.violations[0].expected == {"amount": "240.50"}


def test_a_reopened_expense_must_be_reversed(world: World) -> None:
    world.facts.append(("expense_reopened", {"expense_id": "EXP-000002", "revision": 1,
                                             "project_id": "PRJ-000002", "opportunity_id": "OPP-000002"}))

    result = world.check()["expenses-billed-exactly-once"]

    assert violations(result) == ["BTX-000005"]

    world.record("erp", "billable_transactions", "BTX-000005").update(status="REVERSED",
                                                                       reversed_at="2026-02-05T10:00:00Z")
    assert world.check()["expenses-billed-exactly-once"].violations == []


def test_an_expense_in_another_currency_is_checked_for_its_one_posting_only(world: World) -> None:
    world.fact("expense_approved", expense_id="EXP-000001")["currency"] = "EUR"

    result = world.check()["expenses-billed-exactly-once"]

    assert result.violations == []
    assert result.notes == ["1 expenses paid in another currency than their contract's (truth has no FX rate: their "
                            "one posting is checked, not its amount): EXP-000001"]


def _capped_with_separate_change(world: World) -> None:
    """Make OPP-000001 capped T&M at 1,000 with a separate change order (distinct, at standalone price) of 2,000
    effective 2026-01-13, booked as CON-000009 with a cap of its own; every posting still on CON-000001."""
    world.fact("deal_won", opportunity_id="OPP-000001").update(billing_model="CAPPED_TM", cap_amount="1000.00")
    world.facts.append(("contract_amended", {
        "opportunity_id": "OPP-000001", "amendment_id": "AMD-000009", "contract_version": 2,
        "contract_amount": "102000.00", "amount_change": "2000.00", "effective_date": "2026-01-13",
        "distinct": True, "priced_at_standalone": True}))
    world.records("crm", "amendments").append({**world.record("crm", "amendments", "AMD-000001"), "id": "AMD-000009",
                                               "opportunity_id": "OPP-000001"})
    own = world.record("erp", "contracts", "CON-000001")
    own.update(billing_model="CAPPED_TM", billing_plan={**own["billing_plan"], "cap_amount": "1000.00"})
    world.records("erp", "contracts").append({**own, "id": "CON-000009", "source_id": "AMD-000009",
                                              "source_version": 2, "total_price": "2000.00", "start_date": "2026-01-13",
                                              "billing_plan": {**own["billing_plan"], "cap_amount": "2000.00"}})


def test_time_held_over_the_own_cap_while_a_separate_capped_contract_stands_empty_is_caught(world: World) -> None:
    # change-orders seed 18: CON-000010 capped at 34,000 held 4,441.63 over its cap while CON-000019, a separate
    # change order's 3,900 of capacity from 2026-01-09, got no hours. Here 1,425.94 + 1,560.00 + 240.50 on the
    # own contract capped at 1,000: 2,226.44 over, 1,800.50 of it dated from 2026-01-13, 2,000 unused.
    _capped_with_separate_change(world)

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["CON-000009"]
    assert (result.violations[0].expected, result.violations[0].actual) == ("at most 1560.00 unused", "1800.50")


def test_time_beyond_the_own_cap_posted_to_the_separate_contract_in_force_passes(world: World) -> None:
    _capped_with_separate_change(world)
    world.record("erp", "billable_transactions", "BTX-000003")["contract_id"] = "CON-000009"  # 2026-01-13: in force

    assert world.check()["time-billed-exactly-once"].violations == []


def test_time_posted_to_a_separate_contract_before_it_took_effect_is_caught(world: World) -> None:
    _capped_with_separate_change(world)
    world.record("erp", "billable_transactions", "BTX-000003")["contract_id"] = "CON-000009"
    world.record("erp", "billable_transactions", "BTX-000001")["contract_id"] = "CON-000009"  # 2026-01-12

    result = world.check()["time-billed-exactly-once"]

    assert violations(result) == ["BTX-000001"]
    assert result.violations[0].expected == {"contract_id": "CON-000001"}
