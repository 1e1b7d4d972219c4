"""Consumer contracts of staffing: HCM worker and cost-rate events become PSA resources and their rates."""

from __future__ import annotations

from pathlib import Path

from tests.contract.story import Story

WORKER = {"worker_type": "EMPLOYEE", "first_name": "Oliver", "last_name": "Bennett",
          "email": "oliver.bennett@firmsim.example", "role": "SENIOR_CONSULTANT", "legal_entity": "UK01",
          "practice": "TECHNOLOGY", "hire_date": "2026-03-02"}


def test_a_worker_from_hire_to_rehire_keeps_the_psa_resource_and_its_cost_rates_in_step(pact_dir: Path) -> None:
    story = Story(pact_dir)
    worker = story.act("hcm", "POST", "/workers", WORKER)
    path = f"/workers/{worker['id']}"
    hired = story.capture("hcm", "hcm.worker.hired", label="of a new employee",
                          before="the HCM is about to hire an employee", after="an employee was just hired")
    assert hired.operations() == ["psa upsertResource 201"]
    story.settle()

    story.act("hcm", "POST", f"{path}/cost-rates", {"effective_from": "2026-03-02", "reason": "HIRE",
                                                    "hourly_cost": "65.00"})
    created = story.capture("hcm", "hcm.cost_rate.created", label="of a new employee's first rate",
                            before="a newly hired employee has no cost rate yet",
                            after="a newly hired employee just got a cost rate")
    assert created.operations() == ["hcm listWorkerCostRates 200", "psa replaceResourceCostRates 200"]
    story.settle()

    story.act("hcm", "POST", f"{path}/cost-rates", {"effective_from": "2026-03-02", "reason": "CORRECTION",
                                                    "hourly_cost": "66.50"})
    story.capture("hcm", "hcm.cost_rate.corrected", label="correcting a rate retroactively",
                  before="an employee has a cost rate in force since the hire date",
                  after="an employee's cost rate was just corrected back to the hire date")
    story.settle()

    story.act("hcm", "POST", f"{path}/change-role", {"role": "MANAGER", "effective_date": "2026-04-01",
                                                     "reason": "PROMOTION"})
    story.capture("hcm", "hcm.worker.role_changed", label="of a promotion",
                  before="a senior consultant is synced to the PSA", after="the senior consultant was just promoted")
    story.settle()

    story.act("hcm", "PATCH", path, {"practice": "DATA_AI"})
    story.capture("hcm", "hcm.worker.updated", label="of a practice move",
                  before="a manager is synced to the PSA", after="the manager just moved practice")
    story.settle()

    story.act("hcm", "POST", f"{path}/terminate", {"termination_date": "2026-09-30", "reason": "RESIGNATION"})
    terminated = story.capture("hcm", "hcm.worker.terminated", label="of a resignation",
                               before="an active manager is synced to the PSA", after="the manager just resigned")
    assert terminated.outcomes == ["staffing.handle_worker_changed: processed"]
    story.settle()

    story.act("hcm", "POST", f"{path}/rehire", {"rehire_date": "2026-12-01", "role": "MANAGER"})
    story.capture("hcm", "hcm.worker.rehired", label="of a returning manager",
                  before="a manager who left is inactive in the PSA", after="the manager was just rehired")
