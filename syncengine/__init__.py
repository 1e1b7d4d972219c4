"""The sync engine: the reference middleware under test.

It knows the four systems only through their HTTP APIs and events (contracts/), never by importing
them. Writing a flow (one module under `syncengine/flows/`):

    from syncengine.domain import BusinessException, SourceEvent, by_field
    from syncengine.ports import Ports
    from syncengine.runtime import Flow

    def handle_time_entry_approved(message: SourceEvent, ports: Ports) -> None:
        erp = ports.client("erp")                                  # SystemClient by system name
        contract_id = ports.ledger.external_id("contract", "erp", f"deal:{message.data['opportunity_id']}")
        if contract_id is None:
            raise BusinessException("unknown-contract", f"no ERP contract for {message.subject}")
        erp.post("/billable-transactions", {...},
                 idempotency_key=ports.idempotency_key(message, "billable-transaction"))

    HANDLERS = {"psa.time_entry.approved": [handle_time_entry_approved]}
    FLOW = Flow("time_billing", HANDLERS, ordering_key=by_field("project_id", prefix="project"))

The flow is passed to `bootstrap(EngineConfig(flows=(FLOW, ...)))`. A handler is synchronous, never
sleeps, reads time only from `ports.now()`, and raises to fail: HTTP failures arrive already sorted
(transient -> retried with backoff, business 422 -> exception queue, conflict -> a few retries,
other 4xx -> dead letter); anything else it raises is dead-lettered. Its ledger writes and the
tracking record commit together, so a re-run after a failure starts clean, and a duplicate is
skipped before the handler runs.
"""
