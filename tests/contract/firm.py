"""The firm's records the contract stories start from, reached through the public APIs."""

from __future__ import annotations

from typing import Any

from tests.contract.story import Story
from tests.unit.crm.builders import ACCOUNT, FIXED_FEE_DEAL

UK_ACCOUNT: dict[str, Any] = {"name": "Albion Retail plc", "country": "GB", "tax_id": "GB987654321",
                              "currency": "GBP", "industry": "Retail",
                              "billing_address": {"street": "1 Canal Street", "city": "Manchester",
                                                  "postcode": "M1 3HE"}}
UK_TM_DEAL: dict[str, Any] = {"name": "Albion — store systems review", "amount": "90000.00", "currency": "GBP",
                              "close_date": "2026-03-02", "billing_model": "TIME_AND_MATERIALS",
                              "legal_entity": "UK01", "practice": "TECHNOLOGY", "service_start": "2026-03-02",
                              "service_end": "2026-06-30", "estimated_hours": "450",
                              "rate_card": [{"role": "SENIOR_CONSULTANT", "hourly_rate": "185.00"},
                                            {"role": "MANAGER", "hourly_rate": "240.00"}]}
DE_ACCOUNT = ACCOUNT
DE_FIXED_FEE_DEAL = FIXED_FEE_DEAL
WORKER: dict[str, Any] = {"worker_type": "EMPLOYEE", "first_name": "Amara", "last_name": "Osei",
                          "email": "amara.osei@firmsim.example", "role": "SENIOR_CONSULTANT", "legal_entity": "UK01",
                          "practice": "TECHNOLOGY", "hire_date": "2026-01-05"}


def approved_deal(story: Story, account: dict[str, Any], deal: dict[str, Any]) -> dict[str, Any]:
    """Create an account and a deal in negotiation with an approved SOW (the engine has seen it all)."""
    created = story.act("crm", "POST", "/accounts", account)
    opportunity = story.act("crm", "POST", "/opportunities", {**deal, "account_id": created["id"]})
    path = f"/opportunities/{opportunity['id']}"
    story.act("crm", "POST", f"{path}/advance", {"stage": "NEGOTIATION"})
    story.act("crm", "POST", f"{path}/submit-sow")
    approved: dict[str, Any] = story.act("crm", "POST", f"{path}/approve-sow")
    story.settle()
    return approved


def synced_deal(story: Story, account: dict[str, Any], deal: dict[str, Any]) -> dict[str, Any]:
    """Close a deal won and let the engine create its customer, contract and project; return the opportunity."""
    opportunity = approved_deal(story, account, deal)
    story.act("crm", "POST", f"/opportunities/{opportunity['id']}/close-won")
    story.settle()
    synced: dict[str, Any] = story.act("crm", "GET", f"/opportunities/{opportunity['id']}")
    assert synced["erp_contract_id"] and synced["psa_project_id"], synced
    return synced


def staffed_worker(story: Story, project_id: str, hourly_cost: str = "70.00") -> dict[str, Any]:
    """Hire a worker with a cost rate, let the engine make the PSA resource, and staff it on a project."""
    worker: dict[str, Any] = story.act("hcm", "POST", "/workers", WORKER)
    story.act("hcm", "POST", f"/workers/{worker['id']}/cost-rates",
              {"effective_from": "2026-01-05", "reason": "HIRE", "hourly_cost": hourly_cost})
    story.settle()
    story.act("psa", "POST", "/assignments", {"project_id": project_id, "resource_id": worker["id"],
                                             "start_date": "2026-03-02", "end_date": "2026-06-30",
                                             "hours_per_week": "40.00"})
    return worker
