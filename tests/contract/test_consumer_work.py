"""Consumer contracts of time and expenses: approved work becomes ERP billable transactions and cost
actuals; reopened, returned and recalled work is reversed; throttling and refusals are sorted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract.firm import (
    DE_ACCOUNT,
    DE_FIXED_FEE_DEAL,
    UK_ACCOUNT,
    UK_TM_DEAL,
    WORKER,
    staffed_worker,
    synced_deal,
)
from tests.contract.story import Story, article

DAY = 86400.0


@pytest.fixture
def staffed(pact_dir: Path) -> tuple[Story, dict[str, Any], dict[str, Any]]:
    """A story with a won, synced and active T&M deal and a consultant staffed on its project."""
    story = Story(pact_dir)
    deal = synced_deal(story, UK_ACCOUNT, UK_TM_DEAL)
    story.act("psa", "POST", f"/projects/{deal['psa_project_id']}/activate", {"effective_date": "2026-03-02"})
    worker = staffed_worker(story, deal["psa_project_id"])
    story.settle()
    return story, deal, worker


def _lifecycle(story: Story, path: str, kind: str, body: dict[str, Any]) -> None:
    """Approve, reopen, return and recall entries of one kind, capturing each event the engine consumes."""
    noun = kind.replace("_", " ")
    entry = story.act("psa", "POST", path, body)
    story.act("psa", "POST", f"{path}/{entry['id']}/submit")
    story.act("psa", "POST", f"{path}/{entry['id']}/approve")
    approved = story.capture("psa", f"psa.{kind}.approved", label="of a T&M project",
                             before=f"a submitted {noun} of a T&M project awaits approval",
                             after=f"{article(noun)} {noun} of a T&M project was just approved")
    assert all(outcome.endswith(": processed") for outcome in approved.outcomes), approved.outcomes
    story.settle()
    story.act("psa", "POST", f"{path}/{entry['id']}/reopen", {"reason": "Booked to the wrong week"})
    story.capture("psa", f"psa.{kind}.reopened", label="after it was posted",
                  before=f"an approved {noun} of a T&M project is posted to the ERP",
                  after=f"a posted {noun} of a T&M project was just reopened")
    story.settle()
    story.act("psa", "POST", f"{path}/{entry['id']}/submit")
    story.act("psa", "POST", f"{path}/{entry['id']}/return", {"reason": "Book it to the workshop task"})
    story.capture("psa", f"psa.{kind}.returned", label="after it was reopened",
                  before=f"a reopened {noun} of a T&M project was submitted again",
                  after=f"a resubmitted {noun} of a T&M project was just returned")
    story.settle()
    recalled = story.act("psa", "POST", path, body)
    story.act("psa", "POST", f"{path}/{recalled['id']}/submit")
    story.act("psa", "POST", f"{path}/{recalled['id']}/recall")
    story.capture("psa", f"psa.{kind}.recalled", label="before approval",
                  before=f"a submitted {noun} of a T&M project awaits approval",
                  after=f"a submitted {noun} of a T&M project was just recalled by its owner")
    story.settle()


def test_time_and_expenses_of_a_time_and_materials_project_are_posted_and_reversed(
        staffed: tuple[Story, dict[str, Any], dict[str, Any]]) -> None:
    story, deal, worker = staffed
    staffing = {"resource_id": worker["id"], "project_id": deal["psa_project_id"]}
    _lifecycle(story, "/time-entries", "time_entry",
               {**staffing, "date": "2026-03-03", "hours": "7.50", "billable": True, "notes": "Store visits"})
    _lifecycle(story, "/expenses", "expense",
               {**staffing, "date": "2026-03-03", "category": "TRAVEL", "amount": "184.60", "currency": "GBP",
                "receipt": True, "billable": True, "description": "Train London-Manchester"})


def test_a_throttled_posting_is_retried_and_a_terminated_contract_is_a_business_exception(
        staffed: tuple[Story, dict[str, Any], dict[str, Any]]) -> None:
    story, deal, worker = staffed
    body = {"resource_id": worker["id"], "project_id": deal["psa_project_id"], "date": "2026-03-04",
            "hours": "8.00", "billable": True, "notes": "Design workshop"}
    throttled = story.act("psa", "POST", "/time-entries", body)
    story.act("psa", "POST", f"/time-entries/{throttled['id']}/submit")
    story.fault("erp", {"kind": "throttle", "params": {"operations": ["postBillableTransactionBatch"],
                                                       "retry_after": 30}})
    story.act("psa", "POST", f"/time-entries/{throttled['id']}/approve")
    capture = story.capture("psa", "psa.time_entry.approved", label="while the ERP throttles postings",
                            before="a submitted time entry of a T&M project awaits approval",
                            after="a time entry of a T&M project was just approved and the ERP throttles postings")
    assert "time_expense_billing.handle_entry_changed: TransientHttpError(rate-limited) retry after 30 s" \
        in capture.outcomes
    story.settle()

    story.act("erp", "POST", f"/contracts/{deal['erp_contract_id']}/terminate",
              {"effective_date": "2026-03-31", "unbilled_rule": "BILL", "reason": "Customer ended the review"})
    story.settle()
    late = story.act("psa", "POST", "/time-entries", {**body, "date": "2026-04-06"})
    story.act("psa", "POST", f"/time-entries/{late['id']}/submit")
    story.act("psa", "POST", f"/time-entries/{late['id']}/approve")
    refused = story.capture("psa", "psa.time_entry.approved", label="after the contract was terminated",
                            before="a submitted time entry dated after its ERP contract's termination awaits approval",
                            after="a time entry dated after its ERP contract's termination was just approved")
    batch = next(e for e in refused.exchanges if e.path == "/billable-transactions/batch")
    assert [result["problem"]["type"].rsplit("/", 1)[-1] for result in batch.response_body["results"]
            if "problem" in result] == ["contract-terminated"]


def test_time_recosted_after_a_retroactive_rate_correction_restates_the_erp_cost_actuals(pact_dir: Path) -> None:
    story = Story(pact_dir)
    deal = synced_deal(story, DE_ACCOUNT, DE_FIXED_FEE_DEAL)
    project_id = deal["psa_project_id"]
    story.act("psa", "POST", f"/projects/{project_id}/activate", {"effective_date": "2026-05-04"})
    worker = story.act("hcm", "POST", "/workers", {**WORKER, "legal_entity": "DE01",
                                                   "email": "amara.osei.de@firmsim.example"})
    story.act("hcm", "POST", f"/workers/{worker['id']}/cost-rates",
              {"effective_from": "2026-01-05", "reason": "HIRE", "hourly_cost": "70.00"})
    story.settle()
    story.act("psa", "POST", "/assignments", {"project_id": project_id, "resource_id": worker["id"],
                                             "start_date": "2026-05-04", "end_date": "2026-06-30",
                                             "hours_per_week": "40.00"})
    entry = story.act("psa", "POST", "/time-entries", {"resource_id": worker["id"], "project_id": project_id,
                                                       "date": "2026-05-05", "hours": "8.00", "billable": True,
                                                       "notes": "Data model workshop"})
    story.act("psa", "POST", f"/time-entries/{entry['id']}/submit")
    story.act("psa", "POST", f"/time-entries/{entry['id']}/approve")
    story.settle()

    # What the staffing flow writes when HCM corrects the hire rate back to its effective date.
    story.act("psa", "PUT", f"/resources/{worker['id']}/cost-rates", {"cost_rates": [
        {"effective_from": "2026-01-05", "hourly_cost": "66.50", "currency": "EUR", "source_version": 2}]})
    recosted = story.capture("psa", "psa.time_entry.recosted", label="after a retroactive rate correction",
                             before="an approved time entry of a fixed-fee project is in the ERP's cost actuals",
                             after="an approved time entry of a fixed-fee project was just recosted at a "
                                   "corrected cost rate")
    assert "erp postCostActual 201" in recosted.operations()
    assert recosted.outcomes == ["cost_actuals.handle_cost_changed: processed"]
