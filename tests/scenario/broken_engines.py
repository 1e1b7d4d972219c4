"""Deliberately broken variants of the built-in engine, made from its flow list without touching its code.

Each variant takes the flows `harness.runner.flows.builtin_flows()` returns and gives them back with
one defect a real integration could have: a flow left out, an event type nobody subscribes to, or
a handler wrapped so that what it sends the systems is what a careless engine would send. They are
what `tests/scenario/test_broken_engines.py` runs to show that each invariant catches its defect.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from syncengine.adapters.http import ApiResult, SystemClient
from syncengine.domain import BusinessException
from syncengine.domain.messages import SourceEvent
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow, Handler

ERP = "erp"
TIME_FLOW = "time_expense_billing"
REVERSE_PATH = re.compile(r"^/billable-transactions/[^/]+/reverse$")
POSTING_PATHS = ("/billable-transactions", "/billable-transactions/batch")
Variant = Callable[[Sequence[Flow]], list[Flow]]


def _flow(flows: Sequence[Flow], name: str) -> Flow:
    found = [flow for flow in flows if flow.name == name]
    if len(found) != 1:
        raise LookupError(f"the built-in engine has no flow {name!r} (flows: {[flow.name for flow in flows]})")
    return found[0]


def replace_flow(flows: Sequence[Flow], name: str, change: Callable[[Flow], Flow | None]) -> list[Flow]:
    """Return the flows with the one named changed (dropped when `change` returns None)."""
    target = _flow(flows, name)
    changed = [change(flow) if flow is target else flow for flow in flows]
    return [flow for flow in changed if flow is not None]


def without_events(flow: Flow, *event_types: str) -> Flow:
    """Return the flow unsubscribed from some of its event types (each must be one it handles)."""
    missing = set(event_types) - set(flow.handlers)
    if missing:
        raise LookupError(f"flow {flow.name} handles no {sorted(missing)}")
    handlers = {event_type: list(handlers) for event_type, handlers in flow.handlers.items()
                if event_type not in event_types}
    return Flow(flow.name, handlers, flow.ordering_key)


def wrapped(flow: Flow, wrap: Callable[[Handler], Handler]) -> Flow:
    """Return the flow with every handler wrapped (one wrapper per handler, keeping its name)."""
    wrappers: dict[Handler, Handler] = {}

    def one(handler: Handler) -> Handler:
        if handler not in wrappers:
            wrappers[handler] = functools.wraps(handler)(wrap(handler))
        return wrappers[handler]

    return Flow(flow.name, {event_type: [one(handler) for handler in handlers]
                            for event_type, handlers in flow.handlers.items()}, flow.ordering_key)


Rewrite = Callable[[str, str, Any, str | None], "tuple[Any, str | None] | ApiResult"]
"""(method, path, body, Idempotency-Key) -> what to send instead, or the answer to give without calling."""


class RewritingClient:
    """A system's client with a broken engine's habit applied to what it POSTs and PUTs."""

    def __init__(self, inner: SystemClient, rewrite: Rewrite) -> None:
        self._inner = inner
        self._rewrite = rewrite

    def post(self, path: str, body: Any = None, *, idempotency_key: str, **options: Any) -> ApiResult:
        """POST what the broken engine would, or answer for the system when the engine would not call it."""
        rewritten = self._rewrite("POST", path, body, idempotency_key)
        if isinstance(rewritten, ApiResult):
            return rewritten
        body, key = rewritten
        return self._inner.post(path, body, idempotency_key=key or idempotency_key, **options)

    def put(self, path: str, body: Any, **options: Any) -> ApiResult:
        """PUT what the broken engine would."""
        rewritten = self._rewrite("PUT", path, body, None)
        if isinstance(rewritten, ApiResult):
            return rewritten
        return self._inner.put(path, rewritten[0], **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def rewiring(systems: Sequence[str], rewrite_for_attempt: Callable[[int], Rewrite]) -> Callable[[Handler], Handler]:
    """Wrap handlers so that each attempt (each call) reaches the systems through `rewrite_for_attempt(n)`."""
    attempts = itertools.count(1)

    def wrap(handler: Handler) -> Handler:
        def broken(message: SourceEvent, ports: Ports) -> None:
            rewrite = rewrite_for_attempt(next(attempts))
            clients = {**ports.clients, **{system: RewritingClient(ports.client(system), rewrite)
                                           for system in systems}}
            handler(message, dataclasses.replace(ports, clients=cast("dict[str, SystemClient]", clients)))
        return broken

    return wrap


def _items(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    items = body.get("items")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else [body]


# -- the variants ----------------------------------------------------------------------------------


def fresh_keys_every_attempt(flows: Sequence[Flow]) -> list[Flow]:
    """Time and expense postings carry a new Idempotency-Key and external id on every attempt: a retry
    after a lost answer posts the same approved work again."""
    def rewrite_for(attempt: int) -> Rewrite:
        def rewrite(method: str, path: str, body: Any, key: str | None) -> tuple[Any, str | None]:
            if method == "POST" and path in POSTING_PATHS:
                body = {**body, "items": [{**item, "external_id": f"{item['external_id']}~{attempt}"}
                                          for item in body["items"]]} if "items" in body else {
                    **body, "external_id": f"{body['external_id']}~{attempt}"}
            return body, f"{key}~attempt-{attempt}" if key else key
        return rewrite

    return replace_flow(flows, TIME_FLOW, lambda flow: wrapped(flow, rewiring([ERP], rewrite_for)))


def ignoring_change_orders(flows: Sequence[Flow]) -> list[Flow]:
    """No change-order flow: approved amendments never reach the ERP contract or the PSA budget."""
    return replace_flow(flows, "change_orders", lambda flow: None)


def dropping_reversals(flows: Sequence[Flow]) -> list[Flow]:
    """A posting of time or expenses taken back in PSA is never reversed in the ERP (the engine
    believes it was: the reversal call is answered without reaching the ERP)."""
    def rewrite_for(attempt: int) -> Rewrite:
        def rewrite(method: str, path: str, body: Any, key: str | None) -> tuple[Any, str | None] | ApiResult:
            if method == "POST" and REVERSE_PATH.match(path):
                return ApiResult(200, {"status": "REVERSED"}, {})
            return body, key
        return rewrite

    return replace_flow(flows, TIME_FLOW, lambda flow: wrapped(flow, rewiring([ERP], rewrite_for)))


def whole_hours(quantity: Decimal) -> Decimal:
    """Return hours rounded half up to the whole hour."""
    return quantity.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def rounding_per_hour(flows: Sequence[Flow]) -> list[Flow]:
    """Time is billed in whole hours: each line's hours rounded to the hour, then priced, instead of
    pricing the line's exact hours and rounding its amount once."""
    def rewrite_for(attempt: int) -> Rewrite:
        def rewrite(method: str, path: str, body: Any, key: str | None) -> tuple[Any, str | None]:
            if method != "POST" or path not in POSTING_PATHS:
                return body, key
            rounded = []
            for item in _items(body):
                if item.get("kind") == "TIME":
                    hours, rate = whole_hours(Decimal(str(item["quantity"]))), Decimal(str(item["rate"]))
                    amount = (hours * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    item = {**item, "quantity": f"{hours:f}", "amount": f"{amount:f}"}
                rounded.append(item)
            return ({**body, "items": rounded} if "items" in body else rounded[0]), key
        return rewrite

    return replace_flow(flows, TIME_FLOW, lambda flow: wrapped(flow, rewiring([ERP], rewrite_for)))


def skipping_cost_rate_corrections(flows: Sequence[Flow]) -> list[Flow]:
    """Retroactive cost-rate corrections (`hcm.cost_rate.corrected`) are ignored; new rates still flow."""
    def wrap(handler: Handler) -> Handler:
        def broken(message: SourceEvent, ports: Ports) -> None:
            if message.type != "hcm.cost_rate.corrected":
                handler(message, ports)
        return broken

    return replace_flow(flows, "staffing", lambda flow: wrapped(flow, wrap))


def swallowing_business_exceptions(flows: Sequence[Flow]) -> list[Flow]:
    """A business rule's refusal is logged and forgotten instead of parked in the exception queue."""
    def wrap(handler: Handler) -> Handler:
        def broken(message: SourceEvent, ports: Ports) -> None:
            try:
                handler(message, ports)
            except BusinessException:
                return
        return broken

    return [wrapped(flow, wrap) for flow in flows]


def never_syncing_credit_holds(flows: Sequence[Flow]) -> list[Flow]:
    """The ERP's credit hold is never carried over: its events are not subscribed to, and the AR and
    billing statuses the engine writes to CRM accounts and PSA projects always say "not on hold"
    (the field is required there, and the engine fills it with a default instead of the ERP's value)."""
    def rewrite_for(attempt: int) -> Rewrite:
        def rewrite(method: str, path: str, body: Any, key: str | None) -> tuple[Any, str | None]:
            if method == "PUT" and isinstance(body, dict) and "credit_hold" in body:
                body = {**body, "credit_hold": False}
            return body, key
        return rewrite

    def change(flow: Flow) -> Flow:
        unsubscribed = without_events(flow, "erp.customer.credit_hold_set", "erp.customer.credit_hold_released")
        return wrapped(unsubscribed, rewiring(["crm", "psa"], rewrite_for))

    return replace_flow(flows, "billing_cash", change)


def dropping_payment_status(flows: Sequence[Flow]) -> list[Flow]:
    """Payments are not subscribed to: CRM and PSA learn what was paid only when another document comes."""
    return replace_flow(flows, "billing_cash", lambda flow: without_events(flow, "erp.payment.*"))


def without_billing(flows: Sequence[Flow]) -> list[Flow]:
    """Deals, change orders and people are synced, but nothing is billed: no time, expense or milestone flow."""
    kept = replace_flow(flows, TIME_FLOW, lambda flow: None)
    return replace_flow(kept, "milestones", lambda flow: None)
