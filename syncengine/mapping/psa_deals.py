"""The canonical deal and workforce model <-> PSA shapes: projects, milestones, budgets, resources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from syncengine.domain.deals import BillingMilestone, Cancellation, ContractTerms, CostRate, Project, Worker
from syncengine.mapping.fields import amount_text, hours_text

NAME_MAX = 200
REASON_MAX = 500
DEFAULT_CANCEL_REASON = "Cancelled by the customer (CRM)"


def project_body(project: Project) -> dict[str, Any]:
    """Return the body of `createProject`: template, ERP dimensions, budget of the version, deal rates."""
    body: dict[str, Any] = {
        "name": project.name[:NAME_MAX], "practice": project.practice,
        "customer_name": project.customer_name[:NAME_MAX],
        "billing_model": project.billing_model, "currency": project.currency, "legal_entity": project.legal_entity,
        "start_date": project.start_date.isoformat(), "end_date": project.end_date.isoformat(),
        "crm_opportunity_id": project.opportunity_id, "source_system": "crm", "source_id": project.opportunity_id,
        "source_version": project.contract_version, "erp_contract_id": project.erp_contract_id,
        "erp_customer_number": project.erp_customer_number, "cost_center": project.cost_center,
        "service_line": project.service_line, "contract_version": project.contract_version,
        "budget_hours": hours_text(project.budget_hours),
        "budget_amount": amount_text(project.budget_amount, project.currency),
    }
    if project.rates:
        body["rates"] = [{"role": line.role, "bill_rate": amount_text(line.hourly_rate, project.currency),
                          "effective_from": project.rates_from.isoformat()} for line in project.rates]
    return body


def dimensions_body(project: Project) -> dict[str, Any]:
    """Return the body of `setProjectDimensions`."""
    return {"erp_contract_id": project.erp_contract_id, "erp_customer_number": project.erp_customer_number,
            "cost_center": project.cost_center, "service_line": project.service_line}


def milestone_source_id(opportunity_id: str, milestone: BillingMilestone) -> str:
    """Return the source id a PSA milestone carries (`OPP-000007-M2`)."""
    return f"{opportunity_id}-{milestone.code}"


def milestone_body(opportunity_id: str, currency: str, milestone: BillingMilestone, version: int) -> dict[str, Any]:
    """Return the body of `createProjectMilestone` for one billing milestone of the deal."""
    return {"name": milestone.name[:NAME_MAX], "amount": amount_text(milestone.amount, currency), "currency": currency,
            "due_date": milestone.due_date.isoformat(), "requires_acceptance": milestone.requires_acceptance,
            "source_system": "crm", "source_id": milestone_source_id(opportunity_id, milestone),
            "source_version": version}


def budget_body(terms: ContractTerms, currency: str, effective_date: date) -> dict[str, Any]:
    """Return the body of `setProjectBudget` for one contract version."""
    return {"contract_version": terms.version, "budget_hours": hours_text(terms.estimated_hours or Decimal(0)),
            "budget_amount": amount_text(terms.total_price, currency), "effective_date": effective_date.isoformat()}


def budget_body_of(project: Project) -> dict[str, Any]:
    """Return the body of `setProjectBudget` for the version a project was created at."""
    return {"contract_version": project.contract_version, "budget_hours": hours_text(project.budget_hours),
            "budget_amount": amount_text(project.budget_amount, project.currency),
            "effective_date": project.start_date.isoformat()}


def cancel_body(cancellation: Cancellation, activated_on: date | None) -> dict[str, Any]:
    """Return the body of `cancelProject`; the PSA refuses a date before the project's activation."""
    effective = cancellation.effective_date
    if activated_on is not None and effective < activated_on:
        effective = activated_on
    return {"effective_date": effective.isoformat(),
            "reason": (cancellation.reason or DEFAULT_CANCEL_REASON)[:REASON_MAX]}


def resource_body(worker: Worker) -> dict[str, Any]:
    """Return the body of `upsertResource` for an HCM worker (an inactive resource once terminated)."""
    body: dict[str, Any] = {"name": worker.name[:NAME_MAX], "role": worker.role, "legal_entity": worker.legal_entity,
                            "worker_type": worker.worker_type, "active": worker.active,
                            "source_version": worker.version}
    if worker.email is not None:
        body["email"] = worker.email
    if worker.practice is not None:
        body["practice"] = worker.practice
    return body


def cost_rates_body(rates: Sequence[CostRate]) -> dict[str, Any]:
    """Return the body of `replaceResourceCostRates`: the worker's whole active history, oldest first."""
    ordered = sorted(rates, key=lambda rate: rate.effective_from)
    return {"cost_rates": [{"effective_from": rate.effective_from.isoformat(),
                            "hourly_cost": amount_text(rate.hourly_cost, rate.currency), "currency": rate.currency,
                            "source_version": rate.source_version} for rate in ordered]}
