"""A small, consistent firm for the oracle's tests: truth and the four systems' end state, by hand.

One legal entity (US01, USD, services tax-exempt), two consultants, three companies (one entered
twice in CRM) and four deals:

- OPP-000001 TIME_AND_MATERIALS for Acme: CONSULTANT at a day rate of 1,521.00 / 8 h = 190.125/h,
  MANAGER at 260.00/h. TIM-000001 7.5 h (= 1,425.94 per line); TIM-000002 approved at 8 h, reopened,
  re-approved at 6 h (revision 2 = 1,560.00; revision 1 posted and reversed); TIM-000005 2 h not
  billable; EXP-000001 240.50.
- OPP-000002 FIXED_FEE for Globex, 50,000 (Design 20,000 with acceptance, Build 30,000), EAC
  20,000; change order v2 (+10,000, not distinct, from 2026-02-01, EAC 24,000). TIM-000003 10 h at
  WRK-000001's corrected cost 82.50; TIM-000004 20 h at 120.00; EXP-000002 99.99. Design completed
  and accepted in January and billed; Build completed in March, after the last billing run.
- OPP-000003 RETAINER for Acme, 5,000 a month, January to June.
- OPP-000004 for Initech, whose account lacks its tax registration: the engine raised one
  `missing-tax-registration` exception and created nothing.

Billing run BRN-000001 to 2026-01-31 invoiced INV-000001..3; Acme paid 1,000.00 on INV-000001; the CRM
opportunities and PSA projects show what their deal's invoice totals and was paid, the CRM accounts
of Acme and Globex their open AR (12,226.44 and 20,099.99);
revenue run RRN-000001 for 2026-02: T&M 3,226.44, fixed fee 60,000 x 3,225 / 24,000 = 8,062.50,
retainer 10,000.00.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.oracle import check
from harness.oracle.model import InvariantResult
from scenarios.engine.truth import Truth

Record = dict[str, Any]
START = datetime(2026, 1, 1, tzinfo=UTC)
BILLED = {1: ("3226.44", "1000.00"), 2: ("20099.99", "0.00"), 3: ("10000.00", "0.00")}
"""What each deal's invoices (INV-00000<n>) total and were paid: its CRM and PSA billing status."""


def _deal(opportunity_id: str, account_id: str, key: str, model: str, amount: str, **terms: Any) -> Record:
    base: Record = {"opportunity_id": opportunity_id, "account_id": account_id, "customer_key": key,
                    "legal_entity": "US01", "currency": "USD", "billing_model": model, "practice": "TECHNOLOGY",
                    "amount": amount, "service_start": "2026-01-05", "service_end": "2026-06-30", "rate_card": [],
                    "milestones": [], "monthly_fee": None, "cap_amount": None, "expected_exception": None}
    return {**base, **terms}


def _time(entry_id: str, revision: int, opportunity_id: str, worker: str, role: str, day: str, hours: str,
          rate: str, billable: bool = True) -> Record:
    project = "PRJ-000001" if opportunity_id == "OPP-000001" else "PRJ-000002"
    return {"time_entry_id": entry_id, "revision": revision, "project_id": project, "opportunity_id": opportunity_id,
            "resource_id": worker, "role": role, "date": day, "hours": hours, "billable": billable,
            "bill_rate": rate, "amount": "0", "currency": "USD"}


def _facts() -> list[tuple[str, Record]]:
    return [
        ("worker_hired", {"worker_id": "WRK-000001", "legal_entity": "US01", "role": "CONSULTANT",
                          "worker_type": "EMPLOYEE", "practice": "TECHNOLOGY", "hire_date": "2025-06-01",
                          "weekly_capacity_hours": "40"}),
        ("cost_rate_set", {"worker_id": "WRK-000001", "cost_rate_id": "CRT-000001", "effective_from": "2026-01-01",
                           "hourly_cost": "80.00", "currency": "USD", "reason": "ANNUAL_REVIEW", "retroactive": False}),
        ("worker_hired", {"worker_id": "WRK-000002", "legal_entity": "US01", "role": "MANAGER",
                          "worker_type": "EMPLOYEE", "practice": "TECHNOLOGY", "hire_date": "2024-03-01",
                          "weekly_capacity_hours": "40"}),
        ("cost_rate_set", {"worker_id": "WRK-000002", "cost_rate_id": "CRT-000003", "effective_from": "2026-01-01",
                           "hourly_cost": "120.00", "currency": "USD", "reason": "ANNUAL_REVIEW",
                           "retroactive": False}),
        *[("account_created", {"account_id": account_id, "customer_key": key, "name": name, "country": "US",
                               "tax_id": None, "parent_account_id": None})
          for account_id, key, name in (("ACC-000001", "acme", "Acme Corp"), ("ACC-000002", "acme", "ACME Corp."),
                                        ("ACC-000003", "globex", "Globex"), ("ACC-000004", "initech", "Initech"))],
        ("deal_won", _deal("OPP-000001", "ACC-000001", "acme", "TIME_AND_MATERIALS", "100000.00",
                           rate_card=[{"role": "CONSULTANT", "hourly_rate": "190.125"},
                                      {"role": "MANAGER", "hourly_rate": "260.00"}])),
        ("deal_won", _deal("OPP-000002", "ACC-000003", "globex", "FIXED_FEE", "50000.00",
                           milestones=[{"name": "Design", "amount": "20000.00", "requires_acceptance": True},
                                       {"name": "Build", "amount": "30000.00", "requires_acceptance": False}])),
        ("estimate_set", {"project_id": "PRJ-000002", "opportunity_id": "OPP-000002", "eac_cost": "20000.00",
                          "as_of": "2026-01-05"}),
        ("deal_won", _deal("OPP-000003", "ACC-000001", "acme", "RETAINER", "30000.00", monthly_fee="5000.00",
                           service_start="2026-01-01")),
        ("deal_won", _deal("OPP-000004", "ACC-000004", "initech", "TIME_AND_MATERIALS", "40000.00",
                           rate_card=[{"role": "CONSULTANT", "hourly_rate": "200.00"}],
                           expected_exception="missing_tax_registration")),
        ("time_approved", _time("TIM-000001", 1, "OPP-000001", "WRK-000001", "CONSULTANT", "2026-01-12", "7.5",
                                "190.125")),
        ("time_approved", _time("TIM-000002", 1, "OPP-000001", "WRK-000002", "MANAGER", "2026-01-13", "8", "260.00")),
        ("expense_approved", {"expense_id": "EXP-000001", "revision": 1, "project_id": "PRJ-000001",
                              "opportunity_id": "OPP-000001", "resource_id": "WRK-000001", "date": "2026-01-14",
                              "amount": "240.50", "currency": "USD", "billable": True}),
        ("time_reopened", {"time_entry_id": "TIM-000002", "revision": 1, "project_id": "PRJ-000001",
                           "opportunity_id": "OPP-000001"}),
        ("time_approved", _time("TIM-000002", 2, "OPP-000001", "WRK-000002", "MANAGER", "2026-01-13", "6", "260.00")),
        ("time_approved", _time("TIM-000003", 1, "OPP-000002", "WRK-000001", "CONSULTANT", "2026-01-20", "10",
                                "190.125")),
        ("time_approved", _time("TIM-000005", 1, "OPP-000001", "WRK-000001", "CONSULTANT", "2026-01-21", "2",
                                "190.125", billable=False)),
        ("expense_approved", {"expense_id": "EXP-000002", "revision": 1, "project_id": "PRJ-000002",
                              "opportunity_id": "OPP-000002", "resource_id": "WRK-000002", "date": "2026-01-22",
                              "amount": "99.99", "currency": "USD", "billable": True}),
        ("cost_rate_set", {"worker_id": "WRK-000001", "cost_rate_id": "CRT-000002", "effective_from": "2026-01-01",
                           "hourly_cost": "82.50", "currency": "USD", "reason": "CORRECTION", "retroactive": True}),
        ("milestone_completed", {"milestone_id": "MIL-000001", "project_id": "PRJ-000002",
                                 "opportunity_id": "OPP-000002", "name": "Design", "amount": "20000.00",
                                 "requires_acceptance": True, "completed_on": "2026-01-26"}),
        ("milestone_accepted", {"milestone_id": "MIL-000001", "project_id": "PRJ-000002",
                                "opportunity_id": "OPP-000002", "accepted_on": "2026-01-30"}),
        ("billing_run", {"billing_run_id": "BRN-000001", "legal_entity": "US01", "period_end": "2026-01-31",
                         "invoice_ids": ["INV-000001", "INV-000002", "INV-000003"]}),
        ("contract_amended", {"opportunity_id": "OPP-000002", "amendment_id": "AMD-000001", "contract_version": 2,
                              "contract_amount": "60000.00", "amount_change": "10000.00",
                              "effective_date": "2026-02-01", "distinct": False, "priced_at_standalone": False}),
        ("estimate_set", {"project_id": "PRJ-000002", "opportunity_id": "OPP-000002", "eac_cost": "24000.00",
                          "as_of": "2026-02-01"}),
        ("time_approved", _time("TIM-000004", 1, "OPP-000002", "WRK-000002", "MANAGER", "2026-02-10", "20",
                                "260.00")),
        ("payment_made", {"payment_id": "PAY-000001", "customer_id": "CUS-000001", "invoice_id": "INV-000001",
                          "amount": "1000.00", "currency": "USD", "received_on": "2026-02-20"}),
        ("revenue_run", {"revenue_run_id": "RRN-000001", "legal_entity": "US01", "period": "2026-02"}),
        ("milestone_completed", {"milestone_id": "MIL-000002", "project_id": "PRJ-000002",
                                 "opportunity_id": "OPP-000002", "name": "Build", "amount": "30000.00",
                                 "requires_acceptance": False, "completed_on": "2026-03-15"}),
    ]


def _crm() -> dict[str, list[Record]]:
    def account(account_id: str, customer: str | None, balance: str | None = None, hold: bool = False) -> Record:
        ar_status = None if balance is None else {"balance": balance, "overdue_amount": "0.00", "currency": "USD",
                                                  "as_of": "2026-02-20T12:00:00Z"}
        return {"id": account_id, "erp_customer_number": customer, "credit_hold": hold, "ar_status": ar_status,
                "version": 1}

    def opportunity(opportunity_id: str, contract: str | None, project: str | None, version: int | None,
                    amount: str | None, billed: tuple[str, str] | None = None, status: str = "WON") -> Record:
        billing_status = None if billed is None else {
            "invoiced_amount": billed[0], "credited_amount": "0.00", "paid_amount": billed[1], "currency": "USD",
            "as_of": "2026-02-20T12:00:00Z"}
        return {"id": opportunity_id, "status": status, "erp_contract_id": contract, "psa_project_id": project,
                "contract_version": version, "contract_amount": amount, "billing_status": billing_status,
                "version": 3}

    return {
        "accounts": [account("ACC-000001", "CUS-000001", "12226.44"), account("ACC-000002", None),
                     account("ACC-000003", "CUS-000002", "20099.99", hold=True), account("ACC-000004", None)],
        "opportunities": [opportunity("OPP-000001", "CON-000001", "PRJ-000001", 1, "100000.00", BILLED[1]),
                          opportunity("OPP-000002", "CON-000002", "PRJ-000002", 2, "60000.00", BILLED[2]),
                          opportunity("OPP-000003", "CON-000003", "PRJ-000003", 1, "30000.00", BILLED[3]),
                          opportunity("OPP-000004", None, None, 1, "40000.00")],
        "amendments": [{"id": "AMD-000001", "opportunity_id": "OPP-000002", "status": "APPROVED",
                        "contract_version": 2}],
    }


def _psa() -> dict[str, list[Record]]:
    def project(number: int, model: str, version: int, budget: str, hold: bool = False) -> Record:
        return {"id": f"PRJ-00000{number}", "crm_opportunity_id": f"OPP-00000{number}",
                "erp_contract_id": f"CON-00000{number}", "erp_customer_number": None, "practice": "TECHNOLOGY",
                "legal_entity": "US01", "currency": "USD", "billing_model": model, "status": "ACTIVE",
                "contract_version": version, "budget_amount": budget,
                "billing_status": {"invoiced": BILLED[number][0], "credited": "0.00", "paid": BILLED[number][1],
                                   "currency": "USD", "credit_hold": hold, "as_of": "2026-02-20"}}

    def entry(entry_id: str, revision: int) -> Record:
        return {"id": entry_id, "revision": revision, "status": "APPROVED"}

    rates = {"WRK-000001": "82.50", "WRK-000002": "120.00"}
    return {
        "projects": [project(1, "TIME_AND_MATERIALS", 1, "100000.00"), project(2, "FIXED_FEE", 2, "60000.00", True),
                     project(3, "RETAINER", 1, "30000.00")],
        "resources": [{"id": worker, "worker_id": worker, "cost_rates": [
            {"effective_from": "2026-01-01", "hourly_cost": rate, "currency": "USD", "source_version": 1}]}
            for worker, rate in rates.items()],
        "time_entries": [entry("TIM-000001", 1), entry("TIM-000002", 2), entry("TIM-000003", 1),
                         entry("TIM-000004", 1), entry("TIM-000005", 1)],
        "expenses": [entry("EXP-000001", 1), entry("EXP-000002", 1)],
        "milestones": [{"id": f"MIL-00000{n}", "project_id": "PRJ-000002"} for n in (1, 2, 3)],
    }


def _hcm() -> dict[str, list[Record]]:
    def rate(rate_id: str, worker: str, cost: str, status: str = "ACTIVE") -> Record:
        return {"id": rate_id, "worker_id": worker, "effective_from": "2026-01-01", "hourly_cost": cost,
                "currency": "USD", "status": status}

    return {"workers": [{"id": "WRK-000001"}, {"id": "WRK-000002"}],
            "cost_rates": [rate("CRT-000001", "WRK-000001", "80.00", "SUPERSEDED"),
                           rate("CRT-000002", "WRK-000001", "82.50"), rate("CRT-000003", "WRK-000002", "120.00")]}


@dataclass
class World:
    """Truth facts, state exports and the engine's report; tests break one thing and check."""

    facts: list[tuple[str, Record]]
    states: dict[str, dict[str, Any]]
    stamps: dict[int, datetime] = field(default_factory=dict)
    """When a fact (by its 1-based position) was recorded, where not six hours after the one before."""
    engine: dict[str, Any] | None = field(default_factory=lambda: {
        "exceptions": [{"id": "EXC-000001", "flow": "opportunity_to_project", "key": "opportunity:OPP-000004",
                        "message_id": "crm-000042/create_delivery", "reason": "missing-tax-registration",
                        "detail": "Initech has no tax registration", "payload": {}, "status": "OPEN"}],
        "dead_letters": [], "in_flight": 0})

    def records(self, system: str, collection: str) -> list[Record]:
        """Return a collection of a system's export, to change in place."""
        records: list[Record] = self.states[system]["records"].setdefault(collection, [])
        return records

    def record(self, system: str, collection: str, record_id: str) -> Record:
        """Return one record of a system's export, to change in place."""
        return next(record for record in self.records(system, collection) if record["id"] == record_id)

    def show_billing(self, deal: int, invoiced: str, credited: str, paid: str) -> None:
        """Write what OPP-00000<deal> was invoiced, credited and paid to its CRM opportunity and PSA project."""
        self.record("crm", "opportunities", f"OPP-00000{deal}")["billing_status"].update(
            invoiced_amount=invoiced, credited_amount=credited, paid_amount=paid)
        self.record("psa", "projects", f"PRJ-00000{deal}")["billing_status"].update(
            invoiced=invoiced, credited=credited, paid=paid)

    def show_balance(self, account_id: str, balance: str) -> None:
        """Write a customer's AR balance to its CRM account."""
        self.record("crm", "accounts", account_id)["ar_status"]["balance"] = balance

    def fact(self, kind: str, **match: Any) -> Record:
        """Return the data of the first fact of a kind whose fields match, to change in place."""
        return next(data for fact_kind, data in self.facts
                    if fact_kind == kind and all(data.get(name) == value for name, value in match.items()))

    def truth(self) -> Truth:
        """Return the facts recorded as truth (Truth.record checks each against its kind's fields)."""
        truth = Truth()
        for number, (kind, data) in enumerate(self.facts, start=1):
            truth.record(kind, self.stamp(number), **copy.deepcopy(data))
        return truth

    def stamp(self, number: int) -> str:
        """Return when the fact at a 1-based position was recorded (ISO instant)."""
        return self.stamps.get(number, START + timedelta(hours=6 * number)).isoformat()

    def check(self) -> dict[str, InvariantResult]:
        """Run the oracle; return the results by invariant id."""
        return {result.id: result for result in check(self.truth(), self.states, self.engine)}


def consistent_world() -> World:
    """Return the test firm with every system consistent with truth."""
    from tests.unit.harness.oracle.world_erp import erp

    def export(system: str, records: dict[str, list[Record]]) -> dict[str, Any]:
        return {"system": system, "kind": system, "records": records, "state": {}, "events": 0}

    return World(copy.deepcopy(_facts()), {"crm": export("crm", _crm()), "psa": export("psa", _psa()),
                                            "hcm": export("hcm", _hcm()), "erp": export("erp", erp())})


def violations(result: InvariantResult) -> list[str]:
    """Return the record ids a result names, in order."""
    return [violation.record_id for violation in result.violations]
