"""Staffing: HCM workers become PSA resources, with their effective-dated cost rates.

Events `hcm.worker.*` (hired, updated, role_changed, terminated, rehired) and `hcm.cost_rate.*`
(created, corrected), ordering key `worker:<hcm worker id>`.

- A worker event upserts the resource from the worker as the event carries it (`upsertResource`;
  a terminated worker becomes an inactive resource). Version-aware: the ledger keeps the worker
  version applied (`worker:<id>`), and an event not newer than it changes nothing.
- A cost-rate event replaces the resource's whole rate history with the HCM's rates in force,
  read fresh (`replaceResourceCostRates`): a retroactive correction or a backdated rate replaces
  the old history, and any order, duplicate or replay of the events ends in the same list. A
  resource the PSA does not have yet is upserted from the worker first. The PSA recosts the
  approved time whose rate changed (`psa.time_entry.recosted`), which the cost-actuals flow
  carries to the ERP.
"""

from __future__ import annotations

from syncengine.domain.deals import Worker, worker_key
from syncengine.domain.errors import PermanentFailure
from syncengine.domain.messages import SourceEvent
from syncengine.domain.ordering import by_field
from syncengine.flows.deal_support import PSA, failure_status
from syncengine.mapping import hcm, psa_deals
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow


def handle_worker_changed(message: SourceEvent, ports: Ports) -> None:
    """Upsert the worker's PSA resource, unless a newer version of the worker was applied."""
    worker = hcm.worker_from_record(message.data)
    applied = ports.ledger.applied_version(worker.key)
    if applied is not None and worker.version <= applied:
        return
    upsert_resource(worker, message.system, ports)


def handle_cost_rates_changed(message: SourceEvent, ports: Ports) -> None:
    """Replace the resource's cost rates with the worker's rates in force, corrections included."""
    worker_id = hcm.cost_rate_worker_id(message.data)
    source = ports.client(message.system)
    rates = [hcm.cost_rate_from_record(item)
             for item in source.pages(f"/workers/{worker_id}/cost-rates", {"include_superseded": "false"})
             if hcm.is_active_rate(item)]
    body = psa_deals.cost_rates_body(rates)
    psa = ports.client(PSA)
    try:
        psa.put(f"/resources/{worker_id}/cost-rates", body)
    except PermanentFailure as error:
        if failure_status(error) != 404:
            raise
        # The rate came before the PSA had the resource (its worker event failed or is still queued).
        upsert_resource(hcm.worker_from_record(source.get(f"/workers/{worker_id}").body), message.system, ports)
        psa.put(f"/resources/{worker_id}/cost-rates", body)


def upsert_resource(worker: Worker, system: str, ports: Ports) -> None:
    """Create or replace the worker's resource and record the worker version applied."""
    ports.client(PSA).put(f"/resources/{worker.worker_id}", psa_deals.resource_body(worker))
    ledger = ports.ledger
    applied = ledger.applied_version(worker.key)
    if applied is None or worker.version > applied:
        ledger.set_applied_version(worker.key, worker.version)
    ledger.link("worker", system, worker.worker_id, worker_key(worker.worker_id))
    ledger.link("resource", PSA, worker.worker_id, worker_key(worker.worker_id))


HANDLERS = {
    "hcm.worker.*": [handle_worker_changed],
    "hcm.cost_rate.*": [handle_cost_rates_changed],
}
FLOW = Flow("staffing", HANDLERS, ordering_key=by_field("worker_id", "id", prefix="worker"))
