"""The invariants are not vacuous: each deliberately broken engine is caught by the invariant named for
its defect, with violations naming the records it broke, while the built-in engine passes that
invariant on the same scenario, seed and faults (otherwise the failure would prove nothing).

Scenarios: library `baseline` shrunk to one legal entity of ten people (tests/scenario/broken_runs.py).
SHORT (five weeks, one month-end) has change orders, reopened time, cost-rate corrections, bad master
data and lost ERP answers on postings; LONG (fifteen weeks) has invoices left unpaid long enough for
the ERP to put customers on credit hold, and payments; PAID is LONG ended before its last billing run,
so payments are the last documents of their deals. Runs are shared by the tests of this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from harness.oracle.model import Violation
from harness.runner.sim import simulate
from tests.scenario.broken_engines import (
    dropping_payment_status,
    dropping_reversals,
    fresh_keys_every_attempt,
    ignoring_change_orders,
    never_syncing_credit_holds,
    rounding_per_hour,
    skipping_cost_rate_corrections,
    swallowing_business_exceptions,
    whole_hours,
    without_billing,
)
from tests.scenario.broken_runs import LONG, PAID, SHORT, Outcome, Runs

pytestmark = pytest.mark.slow

TIME = "time-billed-exactly-once"
OPPORTUNITY = re.compile(r"OPP-\d+")


@pytest.fixture(scope="module")
def runs() -> Iterator[Runs]:
    yield Runs()


def caught(correct: Outcome, broken: Outcome, invariant: str) -> list[Violation]:
    """Assert the built-in engine passes the invariant (having checked something) and the broken one
    fails it; return the broken run's violations."""
    passed = correct.invariant(invariant)
    assert passed.status == "pass", f"the built-in engine fails {invariant} on this setup: {passed.violations[:3]}"
    assert passed.checked > 0, f"{invariant} checked nothing with the built-in engine"
    failed = broken.invariant(invariant)
    assert failed.status == "fail", f"{invariant} did not catch the broken engine (checked {failed.checked})"
    return failed.violations


def time_postings(outcome: Outcome, *, live_only: bool = True) -> dict[tuple[str, int], list[str]]:
    """Return the ERP's time postings (live ones only: not reversed) by (entry id, revision)."""
    found: dict[tuple[str, int], list[str]] = {}
    for transaction in outcome.records("erp", "billable_transactions"):
        if transaction.get("kind") == "TIME" and not (live_only and transaction.get("status") == "REVERSED"):
            found.setdefault((transaction["source_id"], transaction["source_version"]), []).append(transaction["id"])
    return found


def test_posting_again_on_every_retry_is_caught_by_time_billed_exactly_once(runs: Runs) -> None:
    broken = runs(SHORT, fresh_keys_every_attempt)
    violations = caught(runs(SHORT), broken, TIME)
    assert broken.lost_responses > 0
    # a revision reopened after its duplicates is reported as not reversed (checked below), not as posted twice
    reopened = {(fact.data["time_entry_id"], fact.data["revision"]) for fact in broken.truth.of("time_reopened")}
    twice = {tuple(ids) for key, ids in time_postings(broken).items() if len(ids) > 1 and key not in reopened}
    assert twice, "no time was posted twice"
    duplicates = [violation for violation in violations if "is posted" in violation.message]
    assert {tuple(violation.actual) for violation in duplicates} == twice
    # A duplicate of a revision reopened later outlives the one reversal the engine makes.
    posted_again = {transaction for ids in time_postings(broken, live_only=False).values() if len(ids) > 1
                    for transaction in ids}
    for violation in violations:
        assert violation.system == "erp" and violation.record_id in posted_again
        assert violation in duplicates or "was reopened in PSA but its posting was not reversed" in violation.message
    not_reversed = {violation.record_id for violation in violations if "was reopened in PSA" in violation.message}
    for key, ids in time_postings(broken).items():
        if len(ids) > 1 and key in reopened:
            assert set(ids) <= not_reversed, key


def _deal_records(outcome: Outcome, opportunity_id: str) -> set[str]:
    contracts = {c["id"] for c in outcome.records("erp", "contracts") if c.get("crm_opportunity_id") == opportunity_id}
    projects = {p["id"] for p in outcome.records("psa", "projects") if p.get("crm_opportunity_id") == opportunity_id}
    return contracts | projects


def amended(outcome: Outcome) -> set[str]:
    """Return the deals truth says got an approved change order."""
    return {fact.data["opportunity_id"] for fact in outcome.truth.of("contract_amended")}


def named_deals(violations: list[Violation]) -> set[str]:
    """Return the deals the violations' messages name."""
    return {deal for violation in violations for deal in OPPORTUNITY.findall(violation.message)}


def test_ignoring_change_orders_is_caught_by_contract_versions_aligned(runs: Runs) -> None:
    broken = runs(SHORT, ignoring_change_orders)
    violations = caught(runs(SHORT), broken, "contract-versions-aligned")
    assert amended(broken), "no change order was approved"
    assert named_deals(violations) == amended(broken)
    for violation in violations:
        (opportunity_id,) = OPPORTUNITY.findall(violation.message)
        assert violation.system in ("erp", "psa") and violation.record_id in _deal_records(broken, opportunity_id)
        if "contract version" in violation.message:
            assert violation.actual[0] == 1 and violation.expected[0] > 1  # still at version 1
        else:
            assert violation.message.startswith(f"cap of {opportunity_id}")


@pytest.mark.parametrize("invariant", ["revenue-matches-policy", "converged"])
def test_ignoring_change_orders_also_misstates_revenue_and_never_converges(runs: Runs, invariant: str) -> None:
    broken = runs(SHORT, ignoring_change_orders)
    violations = caught(runs(SHORT), broken, invariant)
    assert named_deals(violations) <= amended(broken)
    assert named_deals(violations)


def test_dropping_reversals_is_caught_by_time_billed_exactly_once(runs: Runs) -> None:
    broken = runs(SHORT, dropping_reversals)
    violations = caught(runs(SHORT), broken, TIME)
    reopened = {(fact.data["time_entry_id"], fact.data["revision"]) for fact in broken.truth.of("time_reopened")}
    left_live = {transaction for key, ids in time_postings(broken).items() if key in reopened for transaction in ids}
    assert left_live, "no posted revision was reopened"
    assert {violation.record_id for violation in violations} == left_live
    for violation in violations:
        assert "was reopened in PSA but its posting was not reversed" in violation.message


def test_rounding_per_hour_is_caught_by_time_billed_exactly_once(runs: Runs) -> None:
    broken = runs(SHORT, rounding_per_hour)
    violations = caught(runs(SHORT), broken, TIME)
    hours = {(fact.data["time_entry_id"], fact.data["revision"]): Decimal(fact.data["hours"])
             for fact in broken.truth.of("time_approved")}
    fractional = {transaction for key, ids in time_postings(broken).items()
                  if whole_hours(hours[key]) != hours[key] for transaction in ids}
    assert fractional, "no billed time entry has a fraction of an hour"
    assert {violation.record_id for violation in violations} == fractional
    for violation in violations:
        assert {"amount", "quantity"} <= set(violation.expected), violation


def test_skipping_cost_rate_corrections_is_caught_by_cost_rates_aligned(runs: Runs) -> None:
    broken = runs(SHORT, skipping_cost_rate_corrections)
    violations = caught(runs(SHORT), broken, "cost-rates-aligned")
    corrected = {fact.data["worker_id"] for fact in broken.truth.of("cost_rate_set") if fact.data["retroactive"]}
    assert {violation.system for violation in violations} == {"psa"}
    assert {violation.record_id for violation in violations} <= corrected


def test_swallowing_business_exceptions_is_caught_by_exceptions_surfaced(runs: Runs) -> None:
    broken = runs(SHORT, swallowing_business_exceptions)
    violations = caught(runs(SHORT), broken, "exceptions-surfaced")
    bad = {fact.data["opportunity_id"] for fact in broken.truth.of("deal_won") if fact.data["expected_exception"]}
    missing = [violation for violation in violations if violation.actual == []]
    assert {violation.record_id for violation in missing} == bad
    # What the bad deals' later messages (their cancellation, waiting for a deal never synced) ended
    # as instead, once their retries ran out, is named too.
    for violation in violations:
        assert violation.system == "engine" and named_deals([violation]) <= bad
        assert violation in missing or "raised an exception of another kind" in violation.message


def test_never_syncing_credit_holds_is_caught_by_credit_status_aligned(runs: Runs) -> None:
    broken = runs(LONG, never_syncing_credit_holds)
    violations = caught(runs(LONG), broken, "credit-status-aligned")
    held = {customer["id"] for customer in broken.records("erp", "customers") if customer["credit_hold"]}
    assert held, "no customer went on credit hold"
    held_contracts = {contract["id"] for contract in broken.records("erp", "contracts")
                      if contract["customer_id"] in held}
    accounts = {account["id"] for account in broken.records("crm", "accounts")
                if account.get("erp_customer_number") in held}
    projects = {project["id"] for project in broken.records("psa", "projects")
                if project.get("erp_contract_id") in held_contracts}
    assert accounts and projects
    assert {(violation.system, violation.record_id) for violation in violations} == {
        *(("crm", account) for account in accounts), *(("psa", project) for project in projects)}
    for violation in violations:
        assert violation.expected is True and not violation.actual
        assert violation.message.rsplit(" ", 1)[-1] in held


def _paid_figures(outcome: Outcome) -> dict[str, tuple[Any, str]]:
    """Return what each won opportunity shows as paid in the CRM and what its ERP invoices were paid."""
    contracts = {c["id"]: c.get("crm_opportunity_id") for c in outcome.records("erp", "contracts")}
    paid: dict[str | None, Decimal] = {}
    for invoice in outcome.records("erp", "invoices"):
        opportunity_id = contracts.get(invoice["contract_id"])
        paid[opportunity_id] = paid.get(opportunity_id, Decimal(0)) + Decimal(invoice["amount_paid"])
    return {opportunity["id"]: ((opportunity.get("billing_status") or {}).get("paid_amount"), f"{amount:.2f}")
            for opportunity in outcome.records("crm", "opportunities") for amount in [paid.get(opportunity["id"])]
            if amount is not None}


def test_dropping_payment_status_leaves_the_crm_showing_unpaid_invoices(runs: Runs) -> None:
    correct, broken = runs(PAID), runs(PAID, dropping_payment_status)
    assert correct.truth.of("payment_made"), "no customer paid"
    assert all(Decimal(shown or 0) == Decimal(paid) for shown, paid in _paid_figures(correct).values())
    stale = {opp: figures for opp, figures in _paid_figures(broken).items() if Decimal(figures[0] or 0) != Decimal(
        figures[1])}
    assert stale, "every payment reached the CRM anyway"


def test_dropping_payment_status_is_caught_by_ar_ties_out(runs: Runs) -> None:
    broken = runs(PAID, dropping_payment_status)
    violations = caught(runs(PAID), broken, "ar-ties-out")
    stale = {opportunity for opportunity, (shown, paid) in _paid_figures(broken).items()
             if Decimal(shown or 0) != Decimal(paid)}
    assert stale, "every payment reached the CRM anyway"
    projects = {project["id"] for project in broken.records("psa", "projects")
                if project.get("crm_opportunity_id") in stale}
    customers = {contract["customer_id"] for contract in broken.records("erp", "contracts")
                 if contract.get("crm_opportunity_id") in stale}
    accounts = {account["id"] for account in broken.records("crm", "accounts")
                if account.get("erp_customer_number") in customers}
    named = {(violation.system, violation.record_id) for violation in violations}
    deals = {("crm", opportunity) for opportunity in stale} | {("psa", project) for project in projects}
    assert deals <= named and named - deals <= {("crm", account) for account in accounts}
    assert named - deals, "no account shows the AR the payments reduced"
    for violation in violations:
        if (violation.system, violation.record_id) in deals:
            # invoiced and credited reached CRM and PSA with the invoices; only the cash is missing
            assert violation.expected[:2] == violation.actual[:2] and violation.expected[2] != violation.actual[2]
        else:
            assert Decimal(violation.expected[0]) < Decimal(violation.actual[0])  # still owing what was paid


@pytest.mark.parametrize(("invariant", "kind", "label"), [
    (TIME, "time_approved", "time_entry_id"),
    ("expenses-billed-exactly-once", "expense_approved", "expense_id"),
])
def test_an_engine_that_bills_nothing_fails_the_billing_invariants(runs: Runs, invariant: str, kind: str,
                                                                   label: str) -> None:
    broken = runs(SHORT, without_billing)
    violations = caught(runs(SHORT), broken, invariant)
    billable = {f"{fact.data[label]} revision {fact.data['revision']}" for fact in broken.truth.of(kind)
                if fact.data["billable"]}
    assert {violation.record_id for violation in violations} <= billable
    assert all("was never posted" in violation.message for violation in violations)


def test_without_an_engine_no_won_deal_reaches_delivery_or_finance(runs: Runs) -> None:
    none = runs(SHORT, engine="none")
    result = none.invariant("opportunity-to-project")
    assert result.status == "fail"
    clean = {fact.data["opportunity_id"] for fact in none.truth.of("deal_won") if not fact.data["expected_exception"]}
    assert clean
    for system in ("erp", "psa"):
        assert clean <= {violation.record_id for violation in result.violations if violation.system == system}


def test_without_an_engine_no_time_is_recorded_so_the_billing_invariants_have_nothing_to_check(runs: Runs) -> None:
    # The firm logs time only on PSA projects, which only the engine creates: truth holds no approved
    # work for the billing invariants to miss. `without_billing` is what shows they catch unbilled work.
    none = runs(SHORT, engine="none")
    assert not none.truth.of("time_approved") and not none.truth.of("expense_approved")
    for invariant in (TIME, "expenses-billed-exactly-once", "milestones-billed-exactly-once"):
        result = none.invariant(invariant)
        assert (result.status, result.checked) == ("pass", 0)
        assert any("passes vacuously" in note for note in result.notes)


def test_flows_are_refused_for_an_engine_other_than_the_built_in_one() -> None:
    with pytest.raises(ValueError, match="takes none"):
        simulate(SHORT.scenario(), seed=SHORT.seed, engine="none", ledger_path=None, flows=[])
