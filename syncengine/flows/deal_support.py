"""What the deal flows share: ordering keys, keyed POSTs, the deal's links and parked state, PSA milestones.

Not a flow itself (no FLOW): opportunity_to_project, change_orders and cancellations use it.

Ordering: a deal's creation runs under `deal:<opportunity id>`, its contract's later changes
(versions, termination) under `contract:<opportunity id>`. Two keys, so that a deal parked in the
exception queue for bad master data does not hold its change orders and cancellation behind it in
the engine's queue: they see that the deal is parked and defer to its re-drive (which catches up
with the CRM's current contract version) or, for a cancellation, close the parked exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from syncengine.adapters.http import ApiResult, SystemClient
from syncengine.adapters.outcomes import HttpFailure, problem_slug
from syncengine.domain.deals import ContractTerms, contract_version_key, deal_key, milestone_key
from syncengine.domain.errors import BusinessException, PermanentFailure, TransientFailure
from syncengine.domain.messages import SourceEvent
from syncengine.domain.ordering import by_field
from syncengine.ledger.records import ExceptionItem, ExceptionStatus
from syncengine.mapping.fields import digest
from syncengine.mapping.psa_deals import milestone_body, milestone_source_id
from syncengine.ports import Ports

ERP = "erp"
PSA = "psa"
DEAL_NOT_SYNCED = "deal-not-synced"
DEAL_FLOW = "opportunity_to_project"

deal_ordering_key = by_field("opportunity_id", "id", prefix="deal")
"""The deal's creation is handled in order per deal: `deal:<opportunity id>`."""

contract_ordering_key = by_field("opportunity_id", "id", prefix="contract")
"""A won deal's contract changes (amendments, cancellation) in order per deal: `contract:<opportunity id>`."""


@contextmanager
def refusals_as_exceptions() -> Iterator[None]:
    """Send a target's 422 refusal to the exception queue (with its problem slug), not to dead letters.

    The HTTP client sorts the well-known business slugs already; a deal can meet others (an
    ERP `invalid-billing-plan`, a PSA `project-closed`) that equally need a person to fix data.
    """
    try:
        yield
    except PermanentFailure as error:
        slug = failure_slug(error)
        if failure_status(error) == 422 and slug != "idempotency-key-reused":
            raise BusinessException(slug or "refused", error.detail) from error
        raise


def post_keyed(client: SystemClient, path: str, body: dict[str, Any], message: SourceEvent, ports: Ports,
               purpose: str) -> ApiResult:
    """POST with an Idempotency-Key from the message, the purpose and the body.

    The same attempt repeated (a lost response, an outage) sends the same key and is replayed; a
    body that changed since (the master data was fixed before a re-drive) gets a fresh key, so the
    target's stored refusal of the old body is not replayed. Creates look before they POST, so a
    fresh key never makes a second record.
    """
    key = ports.idempotency_key(message, f"{purpose}:{digest(body)}")
    return client.post(path, body, idempotency_key=key)


def first_item(client: SystemClient, path: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Return the first item of a filtered list, or None."""
    for item in client.pages(path, params):
        return dict(item)
    return None


def failure_slug(error: Exception) -> str:
    """Return the problem slug of an HTTP failure ('' for anything else)."""
    return problem_slug(error.problem) if isinstance(error, HttpFailure) else ""


def failure_status(error: Exception) -> int | None:
    """Return the HTTP status of an HTTP failure (None for anything else)."""
    return error.status if isinstance(error, HttpFailure) else None


def synced_deal(ports: Ports, opportunity_id: str) -> tuple[str, str] | None:
    """Return the deal's ERP contract and PSA project, None while it has not been synced."""
    key = deal_key(opportunity_id)
    contract_id = ports.ledger.external_id("contract", ERP, key)
    project_id = ports.ledger.external_id("project", PSA, key)
    return None if contract_id is None or project_id is None else (contract_id, project_id)


def deal_exception(ports: Ports, opportunity_id: str, status: ExceptionStatus) -> ExceptionItem | None:
    """Return the deal's closed-won exception in a status (OPEN: the deal is parked on bad data)."""
    key = deal_key(opportunity_id)
    return next((item for item in ports.ledger.exceptions(status, DEAL_FLOW) if item.key == key), None)


def not_synced_yet(opportunity_id: str) -> TransientFailure:
    """Return the failure that makes a contract change wait for its deal's closed-won sync (retried)."""
    return TransientFailure(DEAL_NOT_SYNCED, f"{opportunity_id} has no ERP contract and PSA project yet; "
                                             f"waiting for its closed-won sync")


def applied_contract_version(ports: Ports, opportunity_id: str) -> int | None:
    """Return the contract version the ERP and PSA were last brought to for this deal."""
    return ports.ledger.applied_version(contract_version_key(opportunity_id))


def record_contract_version(ports: Ports, opportunity_id: str, version: int) -> None:
    """Record that the deal's ERP contract and PSA budget stand at `version` (never lowered)."""
    current = applied_contract_version(ports, opportunity_id)
    if current is None or version > current:
        ports.ledger.set_applied_version(contract_version_key(opportunity_id), version)


def link_erp_milestones(ports: Ports, opportunity_id: str, contract_id: str, terms: ContractTerms) -> None:
    """Link each billing milestone to its ERP billing-plan milestone (`<contract>/<code>`)."""
    for milestone in terms.milestones:
        ports.ledger.link("milestone", ERP, f"{contract_id}/{milestone.code}",
                          milestone_key(opportunity_id, milestone.index))


def ensure_psa_milestones(ports: Ports, message: SourceEvent, opportunity_id: str, currency: str,
                          terms: ContractTerms, project_id: str, *, fresh_project: bool) -> None:
    """Create the PSA milestones of the terms' billing milestones that have none yet, and link them."""
    ledger = ports.ledger
    pending = [milestone for milestone in terms.milestones
               if ledger.external_id("milestone", PSA, milestone_key(opportunity_id, milestone.index)) is None]
    if not pending:
        return
    psa = ports.client(PSA)
    existing: dict[str, str] = {}
    if not fresh_project:
        for item in psa.pages(f"/projects/{project_id}/milestones"):
            if isinstance(item.get("source_id"), str):
                existing.setdefault(item["source_id"], item["id"])
    for milestone in pending:
        milestone_id = existing.get(milestone_source_id(opportunity_id, milestone))
        if milestone_id is None:
            body = milestone_body(opportunity_id, currency, milestone, terms.version)
            milestone_id = post_keyed(psa, f"/projects/{project_id}/milestones", body, message, ports,
                                      f"psa-milestone:{milestone.index}").body["id"]
        ledger.link("milestone", PSA, milestone_id, milestone_key(opportunity_id, milestone.index))
