"""Milestones to ERP billing events: a PSA milestone completed or accepted by the customer completes or
accepts the linked milestone of the ERP contract's billing plan, which the next billing run bills.

Events: `psa.milestone.completed`, `psa.milestone.accepted`, keyed per project
(`project:<id>/milestones`, apart from time billing so a milestone problem never holds time back).
The link comes from the deal flow: `milestone:<opp>:<index>` <- ("milestone", psa, id) and
-> ("milestone", erp, "<contract id>/<billing-plan milestone id>").

Each event is applied against the ERP milestone's current status, so any order converges: an
acceptance seen before the completion completes the ERP milestone first (with the completion date
the PSA record carries), and a completion seen after the acceptance changes nothing. A milestone
the contract's termination cancelled is not billed (a cancellation's rule); only one that was done
on or before the termination date raises `milestone-cancelled`, since it should have billed.
"""

from __future__ import annotations

from datetime import date

from syncengine.domain import BusinessException
from syncengine.domain.messages import SourceEvent
from syncengine.domain.ordering import by_field
from syncengine.domain.work import BillingTerms, Milestone
from syncengine.flows.time_expense_billing import ERP, billing_terms
from syncengine.mapping import erp_billing, psa_work
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow, Handler


def handle_milestone_changed(message: SourceEvent, ports: Ports) -> None:
    """Bring the linked ERP billing-plan milestone to the PSA milestone's completion and acceptance."""
    milestone = psa_work.milestone(message.system, message.data)
    canonical = ports.ledger.canonical_key("milestone", message.system, milestone.milestone_id)
    reference = ports.ledger.external_id("milestone", ERP, canonical) if canonical else None
    contract_id, _, plan_id = (reference or "").partition("/")
    if not contract_id or not plan_id:
        raise BusinessException("unknown-milestone", f"{message.system} milestone {milestone.milestone_id} is "
                                                     f"linked to no ERP billing-plan milestone")
    terms = billing_terms(ports, contract_id)
    planned = terms.milestone(plan_id)
    if planned is None:
        raise BusinessException("unknown-milestone", f"ERP contract {contract_id} has no billing-plan milestone "
                                                     f"{plan_id} (linked from {milestone.milestone_id})")
    status = planned.status
    if status == "CANCELLED" or (status == "PLANNED" and terms.status != "ACTIVE"):
        _check_lost(milestone, terms, reference or "")
        return
    if milestone.completed_on is not None and status == "PLANNED":
        _send(ports, message, milestone, contract_id, plan_id, "complete", milestone.completed_on)
        status = "COMPLETED"
    if milestone.accepted_on is not None and planned.requires_acceptance and status == "COMPLETED":
        _send(ports, message, milestone, contract_id, plan_id, "accept", milestone.accepted_on)


def _check_lost(milestone: Milestone, terms: BillingTerms, reference: str) -> None:
    """A milestone the contract's termination cancelled is not billed; one completed on or before the
    termination date should have been, so that is a business exception (revenue would be lost)."""
    done = milestone.accepted_on if milestone.requires_acceptance else milestone.completed_on
    if done is not None and terms.terminated_on is not None and done <= terms.terminated_on:
        raise BusinessException("milestone-cancelled", f"ERP milestone {reference} was cancelled by the contract's "
                                                       f"termination on {terms.terminated_on}, but PSA milestone "
                                                       f"{milestone.milestone_id} was done on {done}")


def _send(ports: Ports, message: SourceEvent, milestone: Milestone, contract_id: str, plan_id: str, action: str,
          on: date) -> None:
    body = erp_billing.milestone_event_body(on, erp_billing.source_system(message.system), milestone.milestone_id,
                                            milestone.version)
    ports.client(ERP).post(f"/contracts/{contract_id}/milestones/{plan_id}/{action}", body,
                           idempotency_key=ports.idempotency_key(message, f"milestone-{action}"))


HANDLERS: dict[str, list[Handler]] = {
    "psa.milestone.completed": [handle_milestone_changed],
    "psa.milestone.accepted": [handle_milestone_changed],
}
_by_project = by_field("project_id", prefix="project")
FLOW = Flow("milestones", HANDLERS, ordering_key=lambda event: f"{_by_project(event)}/milestones")
