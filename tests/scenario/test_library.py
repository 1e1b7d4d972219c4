"""Each library scenario produces its characteristic activity (run shrunk: a quarter of the firm, seven weeks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from harness.oracle import check
from harness.oracle.model import INVARIANT_IDS
from harness.runner.sim import engine_view
from scenarios.engine.config import library_names, load
from tests.scenario.simulate import Simulated, shrunk, simulate

END = date(2026, 2, 20)


RUNS: dict[str, Simulated] = {}


def run_of(name: str) -> Simulated:
    if name not in RUNS:
        # Change orders and cancellations come partway through delivery: give them the whole quarter.
        end = date(2026, 3, 31) if name in ("change-orders", "cancellations") else END
        RUNS[name] = simulate(shrunk(name, 0.1 if name == "full-year" else 0.25, end))
    return RUNS[name]


def count(run: Simulated, kind: str) -> int:
    return len(run.firm.truth.of(kind))


def check_baseline(run: Simulated) -> None:
    assert count(run, "deal_won") > 10 and count(run, "time_approved") > 1000
    assert count(run, "billing_run") == 3 and count(run, "payment_made") > 0
    assert count(run, "contract_amended") == count(run, "deal_cancelled") == 0


def check_change_orders(run: Simulated) -> None:
    amended = run.firm.truth.of("contract_amended")
    assert amended
    opportunities = {o["id"]: o for o in run.records("crm", "opportunities")}
    contracts = {c["crm_opportunity_id"]: c for c in run.records("erp", "contracts")}
    won = {f.data["opportunity_id"]: f.data["amount"] for f in run.firm.truth.of("deal_won")}
    for fact in amended:
        opportunity_id = fact.data["opportunity_id"]
        assert float(fact.data["contract_amount"]) > float(won[opportunity_id])
        assert opportunities[opportunity_id]["contract_version"] >= fact.data["contract_version"]
    latest = {f.data["opportunity_id"]: f.data for f in amended}
    separate = {f.data["opportunity_id"] for f in amended if f.data["distinct"] and f.data["priced_at_standalone"]}
    modified = {opportunity_id: data for opportunity_id, data in latest.items() if opportunity_id not in separate}
    assert modified
    for opportunity_id, data in modified.items():
        contract = contracts[opportunity_id]
        assert (contract["version_count"], contract["total_price"]) == (data["contract_version"],
                                                                          data["contract_amount"])
    check_one_seat_per_person_and_project(run)


def check_one_seat_per_person_and_project(run: Simulated) -> None:
    """No one holds two overlapping assignments on one project: the PSA would book all their hours to one."""
    seats: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for assignment in run.records("psa", "assignments"):
        if Decimal(assignment["hours_per_week"]) > 0:
            seats.setdefault((assignment["resource_id"], assignment["project_id"]), []).append(
                (assignment["start_date"], assignment["end_date"]))
    overlapping = {key: periods for key, periods in seats.items()
                   if any(later[0] <= earlier[1] for earlier, later in pairwise(sorted(periods)))}
    assert overlapping == {}


def check_reopened_time(run: Simulated) -> None:
    reopened = run.firm.truth.of("time_reopened")
    assert len(reopened) >= 10
    invoiced: dict[tuple[str, int], str] = {}
    for invoice in run.records("erp", "invoices"):
        for line in invoice["lines"]:
            if line["source_system"] == "psa" and line["billable_transaction_id"]:
                invoiced[(line["source_id"], line["source_version"])] = invoice["invoice_date"]
    after_invoicing = [f for f in reopened if (f.data["time_entry_id"], f.data["revision"]) in invoiced]
    assert after_invoicing, "no entry was reopened after it was invoiced"


def check_invoice_reversals(run: Simulated) -> None:
    disputed = run.firm.truth.of("invoice_disputed")
    assert disputed
    reversed_ids = {i["id"] for i in run.records("erp", "invoices") if i["status"] == "REVERSED"}
    assert reversed_ids & {f.data["invoice_id"] for f in disputed}
    assert any(memo["reason"] == "INVOICE_REVERSED" for memo in run.records("erp", "credit_memos"))


def check_retro_rate_change(run: Simulated) -> None:
    corrections = [f for f in run.firm.truth.of("cost_rate_set") if f.data["reason"] == "CORRECTION"]
    assert len(corrections) >= 3 and all(f.data["retroactive"] for f in corrections)
    assert any(rate["status"] == "SUPERSEDED" for rate in run.records("hcm", "cost_rates"))


def check_cancellations(run: Simulated) -> None:
    cancelled = {f.data["opportunity_id"] for f in run.firm.truth.of("deal_cancelled")}
    assert cancelled
    statuses = {o["id"]: o["status"] for o in run.records("crm", "opportunities")}
    assert all(statuses[opportunity_id] == "CANCELLED" for opportunity_id in cancelled)
    projects = {p["crm_opportunity_id"]: p["status"] for p in run.records("psa", "projects")}
    assert any(projects.get(opportunity_id) == "CANCELLED" for opportunity_id in cancelled)


def check_bad_master_data(run: Simulated) -> None:
    bad = [f for f in run.firm.truth.of("deal_won") if f.data["expected_exception"]]
    assert sorted(f.data["expected_exception"] for f in bad) == sorted(
        ["missing_tax_registration"] * 3 + ["unknown_practice"] * 2 + ["invalid_currency_for_entity"] * 2)
    assert len(run.firm.truth.of("master_data_fixed")) == len(bad)
    assert run.world.engine is not None
    raised = {item.reason for item in run.world.engine.ports.ledger.exceptions()}
    assert {"missing-tax-registration", "unknown-practice"} <= raised


def _injected(run: Simulated, system: str) -> dict[str, int]:
    injected: dict[str, int] = run.world.context(system).faults.injected
    return injected


def check_outages(run: Simulated) -> None:
    assert _injected(run, "erp").get("outage", 0) > 0
    assert _injected(run, "psa").get("throttle", 0) > 0
    assert count(run, "billing_run") == 3 and count(run, "time_approved") > 1000


def check_webhook_chaos(run: Simulated) -> None:
    kinds = {fault.kind for system in ("crm", "psa", "hcm", "erp") for fault in
             run.world.context(system).faults.scheduled()}
    assert {"webhook_duplicate", "webhook_reorder", "webhook_drop"} <= kinds
    assert count(run, "time_approved") > 1000


def check_month_end_surge(run: Simulated) -> None:
    entries = run.records("psa", "time_entries")
    late = [e for e in entries if e["submitted_at"] and date.fromisoformat(e["submitted_at"][:10]).isocalendar()[1]
            != date.fromisoformat(e["date"]).isocalendar()[1]]
    assert len(late) > 0.15 * len(entries)
    assert _injected(run, "erp").get("latency", 0) > 0


def check_full_year(run: Simulated) -> None:
    scenario = load("full-year")
    headcount = sum(sum(e["headcount"].values()) for e in scenario.params["firm"]["legal_entities"].values())
    assert 900 <= headcount <= 1100 and scenario.days == 365
    for kind in ("contract_amended", "time_reopened", "deal_won", "billing_run"):
        assert count(run, kind) > 0, kind
    assert any(f.data["expected_exception"] for f in run.firm.truth.of("deal_won"))
    assert any(f.data["reason"] == "CORRECTION" for f in run.firm.truth.of("cost_rate_set"))
    assert _injected(run, "erp").get("outage", 0) > 0


CHECKS: dict[str, Callable[[Simulated], None]] = {
    "baseline": check_baseline, "change-orders": check_change_orders, "reopened-time": check_reopened_time,
    "invoice-reversals": check_invoice_reversals, "retro-rate-change": check_retro_rate_change,
    "cancellations": check_cancellations, "bad-master-data": check_bad_master_data, "outages": check_outages,
    "webhook-chaos": check_webhook_chaos, "month-end-surge": check_month_end_surge, "full-year": check_full_year,
}


def test_every_library_scenario_has_a_check() -> None:
    assert sorted(CHECKS) == library_names()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_library_scenario_produces_its_characteristic_activity(name: str) -> None:
    run = run_of(name)
    failures: dict[Any, int] = dict(run.firm.failures)
    assert not {key: value for key, value in failures.items() if key[2] not in (0, 409, 422, 429, 503)}
    CHECKS[name](run)


def failed_invariants(run: Simulated) -> dict[str, list[str]]:
    """Check every invariant of the oracle on a finished run; return the failed ones with their first violations."""
    states = {system: run.state(system) for system in run.world.apps}
    results = check(run.firm.truth, states, engine_view(run.world))
    assert [result.id for result in results] == list(INVARIANT_IDS)
    return {result.id: [str(violation) for violation in result.violations[:5]]
            for result in results if result.status != "pass"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_library_scenario_passes_every_invariant(name: str) -> None:
    assert failed_invariants(run_of(name)) == {}


OTHER_SEEDS = (("baseline", 2), ("change-orders", 11), ("change-orders", 13), ("invoice-reversals", 4),
               ("outages", 101), ("reopened-time", 303), ("webhook-chaos", 202))
"""Other seeds for a few of the quicker scenarios: the library holds for seeds the suite did not tune.
Change orders with seed 11 take effect mid-month on cost-to-cost contracts (cost to the eve, R5)."""


@pytest.mark.slow
@pytest.mark.parametrize(("name", "seed"), OTHER_SEEDS)
def test_library_scenario_passes_every_invariant_with_another_seed(name: str, seed: int) -> None:
    scenario = shrunk(name, 0.25, date(2026, 3, 31) if name == "change-orders" else END)
    assert seed != scenario.seed
    run = simulate(scenario, seed=seed)
    assert failed_invariants(run) == {}
    check_one_seat_per_person_and_project(run)
