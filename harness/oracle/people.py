"""Workforce and credit data aligned across systems.

cost-rates-aligned: for every worker HR hired, the effective-dated cost rates in truth (for each
start date the last rate set wins, so retroactive corrections replace what they correct) are
exactly the ACTIVE rates HCM holds and the cost rates of the worker's PSA resource: same start
dates, hourly costs and currencies.

credit-status-aligned: the ERP owns credit holds. Every CRM account linked to an ERP customer
shows that customer's hold, and every PSA project billed to it (through its ERP contract, or its
ERP customer number) shows it in its billing status; a project whose billing status was never
written counts as not on hold. The hold rule itself is the ERP's and is not recomputed here.
"""

from __future__ import annotations

from typing import Any

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record
from harness.oracle.values import BadValue, cents, decimal


def _row(effective_from: Any, hourly_cost: Any, currency: Any) -> tuple[str, str, str]:
    try:
        cost = f"{cents(decimal(hourly_cost)):f}"
    except BadValue:
        cost = repr(hourly_cost)
    return str(effective_from), cost, str(currency)


def _schedule(rows: list[Record]) -> list[tuple[str, str, str]]:
    return sorted(_row(row.get("effective_from"), row.get("hourly_cost"), row.get("currency")) for row in rows)


def cost_rates_aligned(evidence: Evidence) -> InvariantResult:
    """HCM and PSA hold each worker's cost rates as truth set them, corrections applied."""
    result = InvariantResult("cost-rates-aligned")
    truth, systems = evidence.truth, evidence.systems
    hcm_rates = systems.hcm.group("cost_rates", "worker_id")
    for worker_id in sorted(truth.workers):
        expected = [_row(rate.effective_from.isoformat(), f"{rate.hourly_cost:f}", rate.currency)
                    for rate in truth.cost_schedule(worker_id)]
        shown = [list(row) for row in expected]
        result.checked += 1
        in_hcm = _schedule([r for r in hcm_rates.get(worker_id, []) if r.get("status", "ACTIVE") == "ACTIVE"])
        if in_hcm != expected:
            result.violate("hcm", worker_id, shown, [list(row) for row in in_hcm],
                           "active cost rates [effective_from, hourly_cost, currency] differ from truth")
        result.checked += 1
        resource = systems.psa.get("resources", worker_id) or next(
            iter(systems.psa.where("resources", worker_id=worker_id)), None)
        if resource is None:
            result.violate("psa", worker_id, "a resource for the worker", None, "hired worker never reached PSA")
            continue
        in_psa = _schedule([row for row in resource.get("cost_rates") or [] if isinstance(row, dict)])
        if in_psa != expected:
            result.violate("psa", str(resource.get("id")), shown, [list(row) for row in in_psa],
                           "resource cost rates [effective_from, hourly_cost, currency] differ from HCM truth")
    return result


def _projects_of(evidence: Evidence, customer_id: str) -> list[Record]:
    """Return the PSA projects of an ERP customer (by contract or customer number), in id order."""
    psa = evidence.systems.psa
    by_contract = psa.group("projects", "erp_contract_id")
    contracts = {str(c.get("id")) for c in evidence.systems.erp.where("contracts", customer_id=customer_id)}
    found = {id(project): project for contract_id in contracts for project in by_contract.get(contract_id, [])}
    found.update((id(project), project) for project in psa.where("projects", erp_customer_number=customer_id))
    return sorted(found.values(), key=lambda project: psa.position("projects", project))


def credit_status_aligned(evidence: Evidence) -> InvariantResult:
    """CRM accounts and PSA projects show the credit hold the ERP set on their customer."""
    result = InvariantResult("credit-status-aligned")
    for customer in evidence.systems.erp.all("customers"):
        customer_id = str(customer.get("id"))
        hold = bool(customer.get("credit_hold"))
        for account in evidence.systems.crm.where("accounts", erp_customer_number=customer_id):
            result.checked += 1
            if bool(account.get("credit_hold")) != hold:
                result.violate("crm", str(account.get("id")), hold, account.get("credit_hold"),
                               f"account's credit hold differs from ERP customer {customer_id}")
        for project in _projects_of(evidence, customer_id):
            result.checked += 1
            status = project.get("billing_status") or {}
            shown = bool(status.get("credit_hold")) if isinstance(status, dict) else None
            if shown != hold:
                result.violate("psa", str(project.get("id")), hold, status.get("credit_hold") if status else None,
                               f"project's credit hold differs from ERP customer {customer_id}")
    return result
