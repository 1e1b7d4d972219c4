"""A long outage loses no business fact: what people could not enter while a system was down goes in after.

A shrunk baseline with two outages no person can wait out within the hour: the PSA down from Friday
noon over the weekend (the week's timesheets are due on Friday afternoon) and the ERP down through
the morning of the January billing run. Each fact the firm's people meant to create is in the truth
and in the system once it is back.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from scenarios.engine.actors.consultants import week_plan
from tests.scenario.simulate import Simulated, shrunk, simulate

WEEK = date(2026, 1, 5)
FAULTS = [{"kind": "outage", "system": "psa", "start": "2026-01-09T12:00:00Z", "duration": "68h"},
          {"kind": "outage", "system": "erp", "start": "2026-02-03T08:00:00Z", "duration": "8h"}]


@pytest.fixture(scope="module")
def run() -> Simulated:
    scenario = shrunk("baseline", 0.25, date(2026, 2, 6))
    return simulate(dataclasses.replace(scenario, params={**scenario.params, "faults": FAULTS}))


@pytest.mark.slow
def test_the_outages_kept_people_waiting_and_nobody_gave_up(run: Simulated) -> None:
    assert {system for system, _ in run.firm.deferred} == {"psa", "erp"}
    assert not [key for key in run.firm.failures if key[2] in (0, 429, 502, 503, 504)]


@pytest.mark.slow
def test_every_timesheet_due_during_the_psa_outage_was_entered_and_approved(run: Simulated) -> None:
    days = {WEEK + timedelta(days=offset) for offset in range(5)}
    booked = {worker.worker_id for worker in run.firm.roster.workers.values()
              if any(hours >= 1 for (_, day), hours in week_plan(worker, WEEK).items() if day in days)}
    entries = [e for e in run.records("psa", "time_entries") if date.fromisoformat(e["date"]) in days]
    approved = {f.data["time_entry_id"] for f in run.firm.truth.of("time_approved")}

    assert len(booked) > 20
    assert booked <= {entry["resource_id"] for entry in entries}
    assert all(entry["id"] in approved for entry in entries)
    assert all(entry["status"] in ("APPROVED", "REOPENED", "SUBMITTED") for entry in entries)


@pytest.mark.slow
def test_the_billing_run_due_during_the_erp_outage_ran_once_per_entity(run: Simulated) -> None:
    facts = [f.data for f in run.firm.truth.of("billing_run")]
    runs = {record["id"]: record for record in run.records("erp", "billing_runs")}

    assert sorted(fact["legal_entity"] for fact in facts) == ["DE01", "UK01", "US01"]
    assert all(fact["period_end"] == "2026-01-31" and fact["billing_run_id"] in runs for fact in facts)
    assert len(runs) == 3
    assert sum(len(fact["invoice_ids"]) for fact in facts) > 0
