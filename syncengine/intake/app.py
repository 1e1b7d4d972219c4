"""The webhook endpoint for live mode: a small Flask app exposing `POST /webhooks/<system>`."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from syncengine.intake.webhooks import WebhookReceiver


def create_webhook_app(receiver: WebhookReceiver) -> Flask:
    """Return a Flask app that passes each webhook delivery to `receiver`."""
    app = Flask("syncengine.webhooks")

    @app.post("/webhooks/<system>")
    def webhook(system: str) -> tuple[Response, int]:
        answer = receiver.receive(system, dict(request.headers), request.get_data(cache=False))
        return jsonify(answer.body), answer.status

    @app.get("/healthz")
    def health() -> Response:
        return jsonify({"ok": True, "accepted": receiver.accepted, "rejected": dict(sorted(receiver.rejected.items()))})

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _http_error(error: Exception) -> tuple[Response, int]:
        status = getattr(error, "code", 404) or 404
        return jsonify({"error": "not-found" if status == 404 else "method-not-allowed"}), status

    return app
