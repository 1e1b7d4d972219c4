"""The firm's actors on the four systems, with a stand-in creating PSA resources and projects (no engine)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.runner.world import World, build_world
from scenarios.engine.config import load
from scenarios.engine.firm import Firm, firm_start
from scenarios.engine.truth import Fact
from tests.unit.scenarios.support import stand_in_engine, write_tiny


@dataclass
class Run:
    world: World
    firm: Firm

    def records(self, system: str, collection: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.world.context(system).store.export()[collection]
        return records

    def facts(self, kind: str) -> list[Fact]:
        return self.firm.truth.of(kind)


def simulate(tmp_path: Path, seed: int = 7, extra: str = "") -> Run:
    scenario = load(str(write_tiny(tmp_path, seed, extra)))
    world = build_world(firm_start(scenario), flows=None, seed=scenario.seed)
    world.env.process(stand_in_engine(world, 4 * 3600.0))
    firm = Firm(world, scenario)
    firm.start()
    firm.run()
    return Run(world, firm)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return simulate(tmp_path_factory.mktemp("tiny"))


def test_no_request_of_the_firm_was_refused(run: Run) -> None:
    assert run.firm.failures == Counter()


def test_the_opening_headcount_is_hired_before_the_period_at_the_cost_model_rate(run: Run) -> None:
    hired = run.facts("worker_hired")
    opening = [f for f in hired if f.data["hire_date"] < "2026-01-05"]
    assert len(opening) == 26
    cost_model = run.firm.params["firm"]["cost_model"]
    for rate in run.records("hcm", "cost_rates"):
        basis = rate["basis"]
        if basis is None:
            continue
        assert basis["burden_multiplier"] == str(cost_model["burden"])
        worker = next(w for w in run.records("hcm", "workers") if w["id"] == rate["worker_id"])
        assert basis["annual_capacity_hours"] == cost_model["capacity_hours"][worker["legal_entity"]]
    truth_costs = {f.data["cost_rate_id"]: f.data["hourly_cost"] for f in run.facts("cost_rate_set")}
    assert truth_costs == {r["id"]: r["hourly_cost"] for r in run.records("hcm", "cost_rates")}


def test_the_annual_raise_is_given_from_january_first(run: Run) -> None:
    raises = [f for f in run.facts("cost_rate_set") if f.data["reason"] == "ANNUAL_RAISE"]
    employees = [f for f in run.facts("worker_hired") if f.data["worker_type"] == "EMPLOYEE"
                 and f.data["hire_date"] < "2026-01-01"]
    assert len(raises) == len(employees)
    assert {f.data["effective_from"] for f in raises} == {"2026-01-01"}


def test_people_book_time_only_where_and_when_they_are_staffed(run: Run) -> None:
    staffed: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for fact in run.facts("project_staffed"):
        key = (fact.data["resource_id"], fact.data["project_id"])
        staffed.setdefault(key, []).append((fact.data["start_date"], fact.data["end_date"]))
    approved = run.facts("time_approved")
    assert len(approved) > 300
    for fact in approved:
        windows = staffed[(fact.data["resource_id"], fact.data["project_id"])]
        assert any(start <= fact.data["date"] <= end for start, end in windows)
        assert date.fromisoformat(fact.data["date"]).weekday() < 5


def test_nobody_books_time_on_their_offices_public_holiday(run: Run) -> None:
    entity = {f.data["worker_id"]: f.data["legal_entity"] for f in run.facts("worker_hired")}
    on_mlk_day = Counter(entity[f.data["resource_id"]] for f in run.facts("time_approved")
                         if f.data["date"] == "2026-01-19")
    assert on_mlk_day["US01"] == 0 and on_mlk_day["UK01"] + on_mlk_day["DE01"] > 0


def test_approved_time_is_valued_at_the_rate_the_deal_sold(run: Run) -> None:
    rate_cards = {f.data["opportunity_id"]: {line["role"]: line["hourly_rate"] for line in f.data["rate_card"]}
                  for f in run.facts("deal_won")}
    for fact in run.facts("time_approved"):
        data = fact.data
        assert data["bill_rate"] == rate_cards[data["opportunity_id"]][data["role"]]
        expected = Decimal(data["hours"]) * Decimal(data["bill_rate"]) if data["billable"] else Decimal(0)
        assert Decimal(data["amount"]) == expected.quantize(Decimal("0.01"))


def test_psa_holds_the_approved_revision_truth_recorded(run: Run) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for fact in run.facts("time_approved"):
        latest[fact.data["time_entry_id"]] = fact.data
    entries = {entry["id"]: entry for entry in run.records("psa", "time_entries")}
    for entry_id, data in latest.items():
        entry = entries[entry_id]
        if entry["status"] == "APPROVED":
            assert (entry["revision"], entry["hours"]) == (data["revision"], data["hours"])


def test_returned_entries_are_corrected_and_approved(run: Run) -> None:
    returned = [e for e in run.records("psa", "time_entries") if e["return_reason"]]
    assert returned
    stuck = [e for e in returned if e["status"] == "RETURNED" and e["updated_at"] < "2026-02-13"]
    assert stuck == []
    assert sum(1 for e in returned if e["status"] == "APPROVED") >= len(returned) // 2


def test_a_reopened_entry_comes_back_as_its_next_revision(run: Run) -> None:
    reopened = run.facts("time_reopened")
    assert reopened
    approvals = [(f.data["time_entry_id"], f.data["revision"]) for f in run.facts("time_approved")]
    for fact in reopened:
        assert (fact.data["time_entry_id"], fact.data["revision"]) in approvals
    corrected = [f for f in reopened if (f.data["time_entry_id"], f.data["revision"] + 1) in approvals]
    assert len(corrected) >= len(reopened) // 2


def test_managers_approve_one_after_another_over_the_morning_and_reopen_in_office_hours(run: Run) -> None:
    monday_rounds: dict[str, set[str]] = {}
    for fact in run.facts("time_approved"):
        instant = datetime.fromisoformat(fact.at.replace("Z", "+00:00"))
        if instant.weekday() == 0:
            monday_rounds.setdefault(instant.date().isoformat(), set()).add(fact.at)
            assert 10 <= instant.hour < 14
    assert monday_rounds and max(len(instants) for instants in monday_rounds.values()) > 1
    for fact in run.facts("time_reopened") + run.facts("expense_reopened"):
        instant = datetime.fromisoformat(fact.at.replace("Z", "+00:00"))
        assert instant.weekday() < 5 and 9 <= instant.hour < 17


def test_customers_accept_milestones_and_dispute_invoices_in_office_hours_on_working_days(run: Run) -> None:
    facts = run.facts("milestone_accepted") + run.facts("invoice_disputed")
    assert run.facts("milestone_accepted")
    for fact in facts:
        instant = datetime.fromisoformat(fact.at.replace("Z", "+00:00"))
        assert instant.weekday() < 5 and 9 <= instant.hour < 17, fact


def test_won_deals_closed_through_an_approved_sow_and_lost_ones_with_a_reason(run: Run) -> None:
    opportunities = {o["id"]: o for o in run.records("crm", "opportunities")}
    for fact in run.facts("deal_won"):
        opportunity = opportunities[fact.data["opportunity_id"]]
        assert opportunity["sow_status"] == "APPROVED"
        assert opportunity["contract_amount"] is not None
    for fact in run.facts("deal_lost"):
        assert opportunities[fact.data["opportunity_id"]]["loss_reason"]


def test_approved_change_orders_raise_the_contract_amount(run: Run) -> None:
    amended = run.facts("contract_amended")
    assert amended
    opportunities = {o["id"]: o for o in run.records("crm", "opportunities")}
    for fact in amended:
        assert Decimal(fact.data["amount_change"]) > 0
        assert opportunities[fact.data["opportunity_id"]]["contract_version"] >= fact.data["contract_version"] >= 2


def test_the_firm_is_the_same_for_the_same_seed_and_different_for_another(run: Run, tmp_path: Path) -> None:
    again = simulate(tmp_path, seed=7)
    assert again.firm.truth.digest() == run.firm.truth.digest()
    other = simulate(tmp_path, seed=8)
    assert other.firm.truth.digest() != run.firm.truth.digest()


def test_names_come_from_the_locale_of_each_entity(run: Run) -> None:
    workers = run.records("hcm", "workers")
    german = [w for w in workers if w["legal_entity"] == "DE01"]
    assert german
    assert all(w["email"].endswith("@firmsim-consulting.example") for w in workers)
    assert run.firm.faker_for_entity("DE01").locales == ["de_DE"]
    assert run.firm.faker_for_entity("UK01").locales == ["en_GB"]


def test_operations_schedules_each_fault_window_once_even_if_the_harness_did(tmp_path: Path) -> None:
    extra = ("faults:\n  - {kind: outage, system: erp, start: '2026-01-30T12:00:00Z', duration: 6h}\n"
             "  - {kind: throttle, system: psa, start: 4d, duration: 2d, every_month: true, "
             "params: {probability: 0.3, retry_after: 30}}\n")
    scenario = load(str(write_tiny(tmp_path, 7, extra)))
    world = build_world(firm_start(scenario), flows=None, seed=scenario.seed)
    assert world.ports["erp"].call("POST", "/admin/faults", body={
        "id": "S01-01", "kind": "outage", "start": "2026-01-30T12:00:00Z", "duration": 21600}).ok
    firm = Firm(world, scenario)
    firm.start()
    world.env.run(until=3600)
    erp = [fault.id for fault in world.context("erp").faults.scheduled()]
    psa = [fault.id for fault in world.context("psa").faults.scheduled()]
    assert erp == ["S01-01"]
    assert psa == ["S02-01", "S02-02"]
