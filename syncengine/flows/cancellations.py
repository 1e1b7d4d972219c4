"""Cancellations: a deal the customer cancelled terminates its ERP contracts and cancels its PSA project.

Event `crm.opportunity.cancelled`, ordering key `contract:<opportunity id>` (shared with the change
orders). The ERP contract is terminated from the cancellation's effective date with the deal's
unbilled rule (BILL: the next billing run bills work done up to the date; WRITE_OFF: it is written
off now), and so is any contract booked from one of its change orders (a separate contract), then
the PSA project is cancelled (from its activation date at the earliest, which the
PSA requires). Both steps are safe to repeat: an already terminated contract or cancelled project
is left as it is. Until the deal's contract and project exist the message waits (a transient
failure, retried with backoff); a deal parked in the exception queue on bad master data was never
delivered, so its cancellation closes that exception and changes nothing else.
"""

from __future__ import annotations

from syncengine.domain.deals import Deal
from syncengine.domain.errors import ConflictFailure, PoisonMessage
from syncengine.domain.messages import SourceEvent
from syncengine.flows.deal_support import (
    ERP,
    PSA,
    contract_ordering_key,
    deal_exception,
    failure_slug,
    not_synced_yet,
    post_keyed,
    refusals_as_exceptions,
    synced_deal,
)
from syncengine.ledger.records import ExceptionStatus
from syncengine.mapping import crm, erp_deals, psa_deals
from syncengine.mapping.fields import Fields
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow

CANCELLABLE = ("PLANNED", "ACTIVE")
TERMINATED = "TERMINATED"


def handle_opportunity_cancelled(message: SourceEvent, ports: Ports) -> None:
    """Terminate the deal's ERP contract with its unbilled rule and cancel its PSA project."""
    deal = crm.deal_from_opportunity(message.data)
    if deal.cancellation is None:
        raise PoisonMessage("malformed-record", f"{message.message_id}: cancelled opportunity "
                                                f"{deal.opportunity_id} carries no cancellation")
    with refusals_as_exceptions():
        cancel_deal(deal, message, ports)


def cancel_deal(deal: Deal, message: SourceEvent, ports: Ports) -> None:
    """Terminate the contract, then cancel the project; each left alone when already done."""
    if deal.cancellation is None:
        raise ValueError(f"{deal.opportunity_id} carries no cancellation")
    links = synced_deal(ports, deal.opportunity_id)
    if links is None:
        parked = deal_exception(ports, deal.opportunity_id, ExceptionStatus.OPEN)
        if parked is None:
            raise not_synced_yet(deal.opportunity_id)
        # Parked on bad master data, never delivered, now cancelled: nothing to terminate; the
        # exception is closed (the firm rebooks the deal with good data, as a new opportunity).
        ports.ledger.resolve_exception(parked.id, ports.now())
        return
    contract_id, project_id = links
    erp = ports.client(ERP)
    terminate(deal, contract_id, "erp-terminate", message, ports)
    # Change orders booked as separate contracts (R5 branch 1) belong to the cancelled engagement too.
    for item in erp.pages("/contracts", {"crm_opportunity_id": deal.opportunity_id}):
        if str(item["id"]) != contract_id and item.get("status") != TERMINATED:
            terminate(deal, str(item["id"]), f"erp-terminate:{item['id']}", message, ports)
    psa = ports.client(PSA)
    project = Fields(psa.get(f"/projects/{project_id}").body, f"psa project {project_id}")
    if project.text("status") in CANCELLABLE:
        body = psa_deals.cancel_body(deal.cancellation, project.optional_day("activated_on"))
        post_keyed(psa, f"/projects/{project_id}/cancel", body, message, ports, "psa-cancel")


def terminate(deal: Deal, contract_id: str, purpose: str, message: SourceEvent, ports: Ports) -> None:
    """Terminate one ERP contract with the deal's cancellation; one terminated already is left as it is."""
    erp = ports.client(ERP)
    try:
        post_keyed(erp, f"/contracts/{contract_id}/terminate", erp_deals.terminate_body(deal), message, ports, purpose)
    except ConflictFailure as error:
        # Terminated already (by an earlier attempt, or by finance): nothing left to do in the ERP.
        if failure_slug(error) != "invalid-transition" or erp.get(f"/contracts/{contract_id}").body["status"] \
                != TERMINATED:
            raise


HANDLERS = {"crm.opportunity.cancelled": [handle_opportunity_cancelled]}
FLOW = Flow("cancellations", HANDLERS, ordering_key=contract_ordering_key)
