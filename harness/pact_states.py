"""Provider states for Pact verification through the firmsim admin API, and the verifier's callbacks.

A state is reached by `POST /admin/reset`, then `POST /admin/seed` with the state's `seed` records
and `POST /admin/faults` with its `faults`; an event is produced by sending the state's `trigger`
request and reading the event back from `GET /events`. The Pact verifier asks for both through
HTTP callbacks, which `PactCallbacks` serves on a free local port.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import httpx
from werkzeug.serving import WSGIRequestHandler, make_server

from harness.pact_verification import TIMEOUT_S, BadInput, Interaction, Unreachable


class ProviderStates:
    """Set up each interaction's provider state through the admin API, and produce its event."""

    def __init__(self, base_url: str, token: str, admin_token: str | None, interactions: list[Interaction]) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=TIMEOUT_S)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.admin_auth = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.event_types = {item.description: item.event_type for item in interactions if item.event_type}
        self.trigger: dict[str, Any] | None = None
        self.triggers = 0
        self.setup_errors: dict[str, str] = {}

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

    def _admin(self, path: str, body: Any = None) -> None:
        response = self.http.post(f"/admin/{path}", json=body, headers=self.admin_auth)
        if response.status_code >= 300:
            raise RuntimeError(f"POST {self.base_url}/admin/{path} -> {response.status_code}: {response.text[:300]}")

    def check_admin_api(self) -> None:
        """Make sure provider states can be set up: the target answers the admin API's reset."""
        try:
            response = self.http.post("/admin/reset", headers=self.admin_auth)
        except httpx.HTTPError as error:
            raise Unreachable(f"{self.base_url}/admin/reset cannot be reached ({error})") from error
        if response.status_code in (401, 403):
            raise BadInput(f"{self.base_url}/admin/reset answered {response.status_code}: its admin API wants a "
                           f"bearer token (--admin-token)")
        if response.status_code >= 300:
            raise Unreachable(f"{self.base_url}/admin/reset answered {response.status_code}: provider states are set "
                              f"up through the firmsim admin API (POST /admin/reset, /admin/seed, /admin/faults), "
                              f"which this target does not offer")

    def setup(self, state: str, action: str, parameters: dict[str, Any] | None) -> None:
        """Bring the system to a provider state: reset, seed its records, schedule its faults.

        A failure is noted against the state rather than raised: the verifier would retry the state
        change with a growing backoff for minutes, and the report names it anyway.
        """
        if action != "setup" or not state:
            return
        params = parameters or {}
        self.trigger = params.get("trigger")
        try:
            self._admin("reset")
            if params.get("seed"):
                self._admin("seed", params["seed"])
            for fault in params.get("faults", []):
                self._admin("faults", fault)
        except (RuntimeError, httpx.HTTPError) as error:
            self.setup_errors[state] = str(error)

    def produce(self, name: str) -> dict[str, Any]:
        """Make the system emit the interaction's event with its trigger request, and return the event."""
        event_type = self.event_types.get(name)
        if event_type is None or self.trigger is None:
            raise RuntimeError(f"no event type or trigger known for message {name!r}")
        trigger, self.trigger = self.trigger, None
        self.triggers += 1
        headers = dict(self.auth)
        if trigger["method"] == "POST":
            headers["Idempotency-Key"] = f"firmsim-contracts-verify-{self.triggers}"
        response = self.http.request(trigger["method"], trigger["path"], json=trigger.get("body"),
                                     params=trigger.get("query"), headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"trigger {trigger['method']} {trigger['path']} -> {response.status_code}: "
                               f"{response.text[:300]}")
        event = self._last_event(event_type)
        if event is None:
            raise RuntimeError(f"{trigger['method']} {trigger['path']} emitted no {event_type} event on GET /events")
        return {"contents": json.dumps(event).encode(), "metadata": None, "content_type": "application/json"}

    def _last_event(self, event_type: str) -> dict[str, Any] | None:
        found = None
        cursor = "0"
        while True:
            response = self.http.get("/events", params={"after": cursor, "limit": 1000, "type": event_type},
                                     headers=self.auth)
            if response.status_code != 200:
                raise RuntimeError(f"GET /events -> {response.status_code}: {response.text[:300]}")
            page = response.json()
            found = next((event for event in reversed(page["items"]) if event.get("type") == event_type), found)
            if not page["items"] or page["next_cursor"] == cursor:
                return found
            cursor = page["next_cursor"]


class PactCallbacks:
    """The state-change and message endpoints the Pact verifier calls, served on a free local port.

    firmsim serves them itself rather than through pact-python's helpers, which leave their listening
    sockets open and take half a second each to shut down.
    """

    def __init__(self, states: ProviderStates) -> None:
        self.states = states
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="pact-callbacks", daemon=True)

    @property
    def state_url(self) -> str:
        """Return the URL of the state-change endpoint."""
        return f"http://127.0.0.1:{self.server.port}/_pact/state"

    def __enter__(self) -> PactCallbacks:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if path == "/_pact/state":
                self.states.setup(str(request.get("state", "")), str(request.get("action", "setup")),
                                  request.get("params"))
                start_response("200 OK", [("Content-Type", "application/json")])
                return [b"{}"]
            if path == "/_pact/message":
                message = self.states.produce(str(request.get("description", "")))
                metadata = base64.b64encode(json.dumps({"contentType": message["content_type"]}).encode())
                start_response("200 OK", [("Content-Type", message["content_type"]),
                                          ("Pact-Message-Metadata", metadata.decode())])
                return [message["contents"]]
        except Exception as error:  # noqa: BLE001 - reported to the verifier, which names the interaction
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [f"{type(error).__name__}: {error}".encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""
