"""RFC 9457 problem details: one exception type, one response builder, stable type URIs."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

PROBLEM_BASE = "https://firmsim.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    """A refusal the caller can act on; rendered as application/problem+json."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        self.extra = extra

    @property
    def type_uri(self) -> str:
        """Return the stable type URI of this kind of problem."""
        return PROBLEM_BASE + self.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """Return the problem document."""
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return body


def problem_response(problem: ApiProblem, instance: str | None = None) -> Response:
    """Render a problem as a Flask response."""
    response = Response(
        json.dumps(problem.to_dict(instance), separators=(",", ":")),
        status=problem.status,
        mimetype=PROBLEM_JSON,
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def not_found(kind: str, record_id: str) -> ApiProblem:
    """Say that a record does not exist."""
    return ApiProblem(404, "not-found", "Not found", f"No {kind} with id {record_id!r}", field=record_id)


def invalid_transition(kind: str, record_id: str, status: str, action: str) -> ApiProblem:
    """Say that a lifecycle transition is not allowed from the current status."""
    return ApiProblem(
        409,
        "invalid-transition",
        "Transition not allowed",
        f"Cannot {action} {kind} {record_id} in status {status}",
        current_status=status,
    )


def validation_error(field: str, message: str) -> ApiProblem:
    """Say that one field of the request is invalid."""
    return ApiProblem(400, "validation-error", "Invalid request", f"{field}: {message}", field=field,
                      errors=[{"field": field, "message": message}])


def business_error(slug: str, title: str, detail: str, **extra: Any) -> ApiProblem:
    """Refuse a request on a business rule (the sync engine routes these to its exception queue)."""
    return ApiProblem(422, slug, title, detail, **extra)


_HTTP_SLUGS = {
    400: "validation-error",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    429: "rate-limited",
    431: "request-header-fields-too-large",
}


def register_error_handlers(app: Flask) -> None:
    """Render every error, including Flask's own 404/405, as problem+json; never an HTML page."""

    @app.errorhandler(ApiProblem)
    def _problem(error: ApiProblem) -> Response:
        from flask import request

        return problem_response(error, request.path)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        from flask import request

        status = error.code or 500
        slug = _HTTP_SLUGS.get(status, "http-error")
        problem = ApiProblem(status, slug, error.name, error.description)
        response = problem_response(problem, request.path)
        if status == 405:
            allowed = error.get_response().headers.get("Allow")
            if allowed:
                response.headers["Allow"] = allowed
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        from flask import request

        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        problem = ApiProblem(500, "internal-error", "Internal error", f"{type(error).__name__}: {error}")
        return problem_response(problem, request.path)
