"""The admin API, apart from the business API: reset, seed, state export, faults, subscriptions.

Used by tests, Pact provider states and the scenario engine's operations actor; never by the sync
engine. When `ADMIN_TOKEN` is set it must be sent as a bearer token.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from simulators.common.clock import ManualClock, isoformat
from simulators.common.errors import ApiProblem, problem_response, validation_error
from simulators.common.faults import FaultError

if TYPE_CHECKING:
    from simulators.common.app import SystemContext


def _json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise validation_error("body", "a JSON body is required")
    return body


def export_state(context: SystemContext) -> dict[str, Any]:
    """Return the whole state of a system as deterministic JSON."""
    return {
        "system": context.name,
        "kind": context.kind,
        "records": context.store.export(),
        "state": context.store.state,
        "events": len(context.feed),
    }


def blueprint(context: SystemContext) -> Blueprint:
    """Return the admin blueprint bound to one system instance."""
    admin = Blueprint(f"admin_{context.name}", __name__, url_prefix="/admin")

    @admin.before_request
    def _authorize() -> Response | None:
        token = context.config.get("ADMIN_TOKEN")
        if token and request.headers.get("Authorization") != f"Bearer {token}":
            return problem_response(ApiProblem(401, "unauthorized", "Unauthorized", "Admin token required",
                                               field="Authorization"), request.path)
        return None

    @admin.errorhandler(ApiProblem)
    def _problem(error: ApiProblem) -> Response:
        return problem_response(error, request.path)

    @admin.post("/reset")
    def reset() -> Response:
        context.reset()
        return jsonify({"system": context.name, "reset": True})

    @admin.post("/seed")
    def seed() -> Response:
        body = _json_body()
        if not isinstance(body, dict):
            raise validation_error("body", "expected {collection: [records]}")
        counts: dict[str, int] = {}
        with context.store.lock, context.store.transaction():
            for collection, records in body.items():
                if collection not in context.store.collections():
                    raise validation_error(f"body/{collection}", f"unknown collection; expected one of "
                                           f"{', '.join(sorted(context.store.collections()))}")
                if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                    raise validation_error(f"body/{collection}", "expected a list of records")
                for record in records:
                    context.store.seed(collection, record)
                counts[collection] = len(records)
        return jsonify({"seeded": counts})

    @admin.get("/state")
    def state() -> Response:
        return jsonify(export_state(context))

    @admin.get("/stats")
    def stats() -> Response:
        calls: dict[str, dict[str, int]] = {}
        for (operation_id, status), count in sorted(context.calls.items()):
            calls.setdefault(operation_id, {})[str(status)] = count
        return jsonify({
            "system": context.name,
            "calls": calls,
            "faults_injected": dict(sorted(context.faults.injected.items())),
            "events": len(context.feed),
            "webhooks": {"pending": context.webhooks.pending(), "gave_up": context.webhooks.gave_up,
                         "subscriptions": [s.to_dict() for s in context.webhooks.subscriptions.values()]},
            "idempotency_keys": len(context.idempotency),
        })

    @admin.get("/faults")
    def list_faults() -> Response:
        return jsonify({"items": [fault.to_dict() for fault in context.faults.scheduled()]})

    @admin.post("/faults")
    def add_fault() -> tuple[Response, int]:
        body = _json_body()
        if not isinstance(body, dict):
            raise validation_error("body", "expected a fault object {kind, start, duration, params}")
        try:
            fault = context.faults.add(body)
        except FaultError as error:
            field, _, message = str(error).partition(": ")
            raise validation_error(field, message) from error
        return jsonify(fault.to_dict()), 201

    @admin.delete("/faults")
    def clear_faults() -> Response:
        context.faults.reset()
        return jsonify({"cleared": True})

    @admin.delete("/faults/<fault_id>")
    def remove_fault(fault_id: str) -> Response:
        if not context.faults.remove(fault_id):
            raise ApiProblem(404, "not-found", "Not found", f"No fault {fault_id!r}", field=fault_id)
        return jsonify({"removed": fault_id})

    @admin.get("/subscriptions")
    def list_subscriptions() -> Response:
        return jsonify({"items": [s.to_dict() for s in context.webhooks.subscriptions.values()]})

    @admin.post("/subscriptions")
    def subscribe() -> tuple[Response, int]:
        body = _json_body()
        if not isinstance(body, dict):
            raise validation_error("body", "expected {url, secret, types}")
        url, secret = body.get("url"), body.get("secret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise validation_error("url", "expected an http(s) URL")
        if not isinstance(secret, str) or len(secret) < 8:
            raise validation_error("secret", "expected a shared secret of at least 8 characters")
        types = body.get("types") or []
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise validation_error("types", "expected a list of event-type prefixes")
        subscription = context.webhooks.subscribe(url, secret, tuple(types))
        return jsonify(subscription.to_dict()), 201

    @admin.delete("/subscriptions/<subscription_id>")
    def unsubscribe(subscription_id: str) -> Response:
        if not context.webhooks.unsubscribe(subscription_id):
            raise ApiProblem(404, "not-found", "Not found", f"No subscription {subscription_id!r}")
        return jsonify({"removed": subscription_id})

    @admin.post("/webhooks/deliver")
    def deliver() -> Response:
        return jsonify({"delivered": context.deliver_webhooks(), "pending": context.webhooks.pending()})

    @admin.get("/clock")
    def read_clock() -> Response:
        return jsonify({"now": isoformat(context.clock.now()), "manual": isinstance(context.clock, ManualClock)})

    @admin.post("/clock")
    def set_clock() -> Response:
        if not isinstance(context.clock, ManualClock):
            raise ApiProblem(409, "conflict", "Clock is real", "This system runs on the real clock")
        body = _json_body()
        if "advance_s" in body:
            if not isinstance(body["advance_s"], int | float) or body["advance_s"] < 0:
                raise validation_error("advance_s", "expected seconds >= 0")
            context.clock.advance(float(body["advance_s"]))
        elif "now" in body:
            try:
                context.clock.set(datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00")))
            except ValueError as error:
                raise validation_error("now", "expected an ISO 8601 instant with a zone") from error
        return jsonify({"now": isoformat(context.clock.now())})

    return admin
