"""A deliberately broken PSA for the drift tests: a test-only middleware in front of the real mock.

It renames the created project's `id` to `project_id` and answers 200 instead of 201 (`createProject`),
and renames `project_id` in the data of time-entry events to `projectId` (`GET /events`): the kinds of
drift a new release of a real system brings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

WsgiApp = Callable[..., Iterable[bytes]]


def drifted_psa(app: WsgiApp) -> WsgiApp:
    """Wrap the PSA mock so that it drifts from its contract."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = Response.from_app(app, environ)
        if request.method == "POST" and request.path == "/projects" and response.status_code == 201:
            body = json.loads(response.get_data())
            body["project_id"] = body.pop("id")
            response.set_data(json.dumps(body))
            response.status_code = 200
        elif request.method == "GET" and request.path == "/events" and response.status_code == 200:
            page = json.loads(response.get_data())
            for event in page["items"]:
                if event["type"].startswith("psa.time_entry."):
                    event["data"]["projectId"] = event["data"].pop("project_id")
            response.set_data(json.dumps(page))
        return response(environ, start_response)

    return wsgi
