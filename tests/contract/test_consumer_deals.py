"""Consumer contracts of the deal flows: a won deal becomes a customer, contract and project; change
orders, billing milestones and a cancellation follow it."""

from __future__ import annotations

from pathlib import Path

from tests.contract.firm import DE_ACCOUNT, DE_FIXED_FEE_DEAL, UK_ACCOUNT, UK_TM_DEAL, approved_deal, synced_deal
from tests.contract.story import Story

CHANGE = {"description": "Add a second warehouse site", "amount_change": "40000.00", "hours_change": "240",
          "distinct": False, "priced_at_standalone": False, "effective_date": "2026-07-01",
          "billing_milestones": [{"name": "Second site live", "amount": "40000.00", "due_date": "2026-10-16",
                                  "requires_acceptance": True}]}


def test_a_fixed_fee_deal_is_won_changed_delivered_and_cancelled(pact_dir: Path) -> None:
    story = Story(pact_dir)
    deal = approved_deal(story, DE_ACCOUNT, DE_FIXED_FEE_DEAL)
    path = f"/opportunities/{deal['id']}"
    story.act("crm", "POST", f"{path}/close-won")
    won = story.capture("crm", "crm.opportunity.closed_won", label="of a fixed-fee deal",
                        before="a fixed-fee deal in negotiation has an approved SOW",
                        after="a fixed-fee deal was just closed won")
    assert won.outcomes == ["opportunity_to_project.handle_closed_won: processed"]
    assert {"erp createCustomer 201", "erp createContract 201", "psa createProject 201",
            "crm setOpportunityDeliveryLink 200"} <= set(won.operations())
    story.settle()

    amendment = story.act("crm", "POST", "/amendments", {**CHANGE, "opportunity_id": deal["id"]})
    story.act("crm", "POST", f"/amendments/{amendment['id']}/submit")
    story.act("crm", "POST", f"/amendments/{amendment['id']}/approve")
    approved = story.capture("crm", "crm.amendment.approved", label="adding a site to a fixed-fee deal",
                             before="a won fixed-fee deal has a submitted change order",
                             after="a change order of a won fixed-fee deal was just approved")
    assert "erp addContractVersion 201" in approved.operations()
    story.capture("crm", "crm.opportunity.updated", label="by an approved change order already applied",
                  before="a won fixed-fee deal has a submitted change order",
                  after="a change order was just approved and the engine applied its contract version")
    story.settle()

    second = story.act("crm", "POST", "/amendments", {**CHANGE, "opportunity_id": deal["id"],
                                                      "description": "Add a third site"})
    story.act("crm", "POST", f"/amendments/{second['id']}/submit")
    story.act("crm", "POST", f"/amendments/{second['id']}/approve")
    updated = story.capture("crm", "crm.opportunity.updated", label="to contract version 3",
                            before="a won fixed-fee deal at contract version 2 has a submitted change order",
                            after="a second change order of a won fixed-fee deal was just approved")
    assert "erp addContractVersion 201" in updated.operations()
    story.settle()

    project_id = deal_project(story, deal["id"])
    story.act("psa", "POST", f"/projects/{project_id}/activate", {"effective_date": "2026-05-04"})
    milestones = story.act("psa", "GET", f"/projects/{project_id}/milestones")["items"]
    first, second_milestone = milestones[0], milestones[1]
    story.act("psa", "POST", f"/milestones/{first['id']}/complete", {"completed_on": "2026-06-12"})
    story.capture("psa", "psa.milestone.completed", label="of a fixed-fee deal",
                  before="a fixed-fee project has a planned billing milestone",
                  after="a billing milestone of a fixed-fee project was just completed")
    story.settle()
    story.act("psa", "POST", f"/milestones/{second_milestone['id']}/complete", {"completed_on": "2026-09-18"})
    story.settle()
    story.act("psa", "POST", f"/milestones/{second_milestone['id']}/accept",
              {"accepted_on": "2026-09-25", "accepted_by": "Katrin Vogel"})
    story.capture("psa", "psa.milestone.accepted", label="of a fixed-fee deal",
                  before="a fixed-fee project has a completed milestone that needs acceptance",
                  after="the customer just accepted a completed milestone of a fixed-fee project")
    story.settle()

    story.act("psa", "PUT", f"/projects/{project_id}/estimate",
              {"eac_cost": "180000.00", "as_of": "2026-06-30", "note": "Two more sprints"})
    story.capture("psa", "psa.project.estimate_changed", label="of a fixed-fee project",
                  before="an active fixed-fee project has no estimate at completion",
                  after="the estimate at completion of a fixed-fee project was just revised")
    story.settle()

    story.act("crm", "POST", f"{path}/cancel", {"effective_date": "2026-08-31", "unbilled_rule": "BILL",
                                                "reason": "Customer budget freeze"})
    cancelled = story.capture("crm", "crm.opportunity.cancelled", label="of a fixed-fee deal",
                              before="a won fixed-fee deal is being delivered",
                              after="the customer just cancelled a won fixed-fee deal")
    assert {"erp terminateContract 200", "psa cancelProject 200"} <= set(cancelled.operations())


def test_a_cancellation_finance_already_applied_is_taken_as_done(pact_dir: Path) -> None:
    story = Story(pact_dir)
    deal = synced_deal(story, UK_ACCOUNT, UK_TM_DEAL)
    story.act("erp", "POST", f"/contracts/{deal['erp_contract_id']}/terminate",
              {"effective_date": "2026-05-31", "unbilled_rule": "BILL", "reason": "Terminated by finance"})
    story.settle()
    story.act("crm", "POST", f"/opportunities/{deal['id']}/cancel", {"effective_date": "2026-05-31",
                                                                    "unbilled_rule": "BILL"})
    cancelled = story.capture("crm", "crm.opportunity.cancelled", label="whose contract finance terminated",
                              before="a won time-and-materials deal's ERP contract was terminated by finance",
                              after="the customer just cancelled a deal whose ERP contract is terminated already")
    assert cancelled.operations()[:2] == ["erp terminateContract 409", "erp getContract 200"]
    assert cancelled.outcomes == ["cancellations.handle_opportunity_cancelled: processed"]


def test_a_won_deal_without_the_vat_number_the_erp_needs_waits_until_the_account_has_one(pact_dir: Path) -> None:
    story = Story(pact_dir)
    german_account = {**DE_ACCOUNT, "name": "Rhein Logistik GmbH", "tax_id": None}
    deal = approved_deal(story, german_account, UK_TM_DEAL)
    story.act("crm", "POST", f"/opportunities/{deal['id']}/close-won")
    won = story.capture("crm", "crm.opportunity.closed_won", label="of a German account without a VAT number",
                        before="a UK deal of a German account without a VAT number has an approved SOW",
                        after="a UK deal of a German account without a VAT number was just closed won")
    assert won.outcomes == ["opportunity_to_project.handle_closed_won: BusinessException(missing-tax-registration)"]
    story.settle()

    story.act("crm", "PATCH", f"/accounts/{deal['account_id']}", {"tax_id": "DE811569869"})
    fixed = story.capture("crm", "crm.account.updated", label="adding the VAT number a parked deal needs",
                          before="a won UK deal waits in the exception queue for its German account's VAT number",
                          after="the German account of a deal parked for its VAT number just got one")
    assert {"erp createCustomer 201", "erp createContract 201", "psa createProject 201"} <= set(fixed.operations())


def test_a_change_order_on_a_completed_project_is_refused_by_the_psa(pact_dir: Path) -> None:
    story = Story(pact_dir)
    deal = synced_deal(story, DE_ACCOUNT, DE_FIXED_FEE_DEAL)
    story.act("psa", "POST", f"/projects/{deal['psa_project_id']}/activate", {"effective_date": "2026-05-04"})
    story.act("psa", "POST", f"/projects/{deal['psa_project_id']}/complete", {"effective_date": "2026-06-30"})
    story.settle()
    amendment = story.act("crm", "POST", "/amendments", {**CHANGE, "opportunity_id": deal["id"]})
    story.act("crm", "POST", f"/amendments/{amendment['id']}/submit")
    story.act("crm", "POST", f"/amendments/{amendment['id']}/approve")
    refused = story.capture("crm", "crm.amendment.approved", label="of a completed project",
                            before="a won fixed-fee deal whose PSA project is completed has a submitted change order",
                            after="a change order of a deal whose PSA project is completed was just approved")
    assert refused.operations()[-1] == "psa createProjectMilestone 422"
    assert refused.outcomes == ["change_orders.handle_amendment_approved: BusinessException(project-closed)"]


def deal_project(story: Story, opportunity_id: str) -> str:
    """Return the PSA project the engine made for a deal."""
    project_id: str = story.act("crm", "GET", f"/opportunities/{opportunity_id}")["psa_project_id"]
    return project_id
