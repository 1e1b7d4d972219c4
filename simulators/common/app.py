"""Build a system's Flask app from its spec and handlers, with the request pipeline every mock shares.

The pipeline itself (faults, auth, rate limits, validation, idempotency, handler, feed) is in
`simulators.common.pipeline`; this module wires it to Flask routes, to a direct route that skips
Flask's request context for business requests whose operation is unambiguous, and to
`SystemApp.call_in_process`, which hands the same pipeline a request from a caller in the same
process (the firm and the engine in a simulated run) without building a WSGI environ or a Werkzeug
response.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from flask import Request as WerkzeugRequest

from simulators.common.api import Operations, Reply, Request
from simulators.common.clock import Clock, SystemClock
from simulators.common.errors import register_error_handlers
from simulators.common.exchange import Answer, LocalRequest, local_json
from simulators.common.faults import FaultPlane
from simulators.common.feed import EventFeed
from simulators.common.idempotency import IdempotencyStore
from simulators.common.metrics import SystemMetrics
from simulators.common.pipeline import LATENCY_HEADER, LOST_RESPONSE_HEADER, answer
from simulators.common.routing import OperationRouter, refuse_shadowed_methods
from simulators.common.security import RateLimiter, TokenRegistry
from simulators.common.spec import ApiSpec, Operation, load_spec
from simulators.common.store import Store
from simulators.common.webhooks import WebhookDispatcher

__all__ = ["DEFAULTS", "DEFAULT_TOKEN", "LATENCY_HEADER", "LOST_RESPONSE_HEADER", "Seeder", "SystemApp",
           "SystemContext", "build_app", "context_of"]

DEFAULT_TOKEN = "firmsim-dev-token"

DEFAULTS: dict[str, Any] = {
    "SYSTEM_NAME": None,  # defaults to the kind; "erp-legacy" etc. for a second instance
    "API_TOKENS": [DEFAULT_TOKEN],
    "OAUTH_CLIENTS": {"firmsim": "firmsim-secret"},
    "ADMIN_TOKEN": None,  # when set, the admin API wants it as a bearer token
    "CLOCK": None,  # a Clock; SystemClock when None
    "SEED": 0,  # seeds the fault plane's random stream
    "RATE_LIMIT": None,  # requests per second per caller, None = unlimited
    "RATE_BURST": 100,
    "SLEEP_LATENCY": False,  # live mode: really wait out injected latency
    "LOST_RESPONSE_MODE": "header",  # "header" (in-process transports) or "drop" (close the socket)
    "VALIDATE_RESPONSES": False,  # record responses that break the spec (the test suite turns it on)
    "WEBHOOK_SENDER": None,
}

Seeder = Callable[[Store], None]


@dataclass(slots=True)
class SystemContext:
    """Everything one system instance holds: spec, store, feed, faults, webhooks, security."""

    kind: str
    name: str
    spec: ApiSpec
    clock: Clock
    store: Store
    feed: EventFeed
    faults: FaultPlane
    webhooks: WebhookDispatcher
    tokens: TokenRegistry
    limiter: RateLimiter
    idempotency: IdempotencyStore
    config: dict[str, Any]
    seeder: Seeder | None = None
    calls: Counter[tuple[str, int]] = field(default_factory=Counter)
    metrics: SystemMetrics | None = None
    response_violations: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Return the system to its freshly started state."""
        with self.store.lock:
            self.store.clear()
            self.feed.clear()
            self.idempotency.reset()
            self.faults.reset(self.config["SEED"])
            self.webhooks.reset()
            self.tokens.reset()
            self.limiter.reset()
            self.calls.clear()
            if self.seeder:
                with self.store.transaction():
                    self.seeder(self.store)

    def deliver_webhooks(self) -> int:
        """Push due webhooks through the configured sender."""
        sender = self.config.get("WEBHOOK_SENDER")
        if sender is None:
            return 0
        return self.webhooks.deliver_due(self.clock.now(), sender)


def _view(app: Flask, context: SystemContext, operation: Operation,
          handler: Callable[[Request], Reply]) -> Callable[..., Response]:
    def view(**view_args: Any) -> Response:
        return answer(context, operation, handler, view_args, request._get_current_object(),  # type: ignore[attr-defined]
                      app.logger).to_response()

    view.__name__ = operation.operation_id
    return view


class DirectRoute:
    """Answer business requests whose operation is unambiguous without Flask's request context.

    As a WSGI callable, a request whose operation `OperationRouter` finds goes straight to the
    pipeline with a plain request object over its environ (the same parsing of query, headers and
    body Flask uses); everything else (admin, /openapi.json, /metrics, 404, 405, OPTIONS, HEAD) goes
    through Flask. Flask would add nothing to these answers (no session, no after-request hooks), and
    skipping its request context is a large share of an in-process call's cost in a simulated run.
    `local` takes such a request already parsed, from a caller in the same process.
    """

    def __init__(self, app: Flask, context: SystemContext, handlers: dict[str, Callable[[Request], Reply]]) -> None:
        self.router = OperationRouter(context.spec)
        self.flask_app = app.wsgi_app
        self.logger = app.logger
        self.context = context
        self.handlers = handlers
        self.operations = context.spec.operations

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        found = None
        if not environ.get("SCRIPT_NAME") and "HTTP_TRANSFER_ENCODING" not in environ:
            found = self.router.match(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if found is None:
            return self.flask_app(environ, start_response)
        operation_id, view_args = found
        response = answer(self.context, self.operations[operation_id], self.handlers[operation_id], view_args,
                          WerkzeugRequest(environ), self.logger)
        return response.to_response()(environ, start_response)

    def local(self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str],
              body: bytes) -> Answer | None:
        """Answer a request handed over in-process, or None when only Flask can route it."""
        found = self.router.match(method, path)
        if found is None:
            return None
        operation_id, view_args = found
        return answer(self.context, self.operations[operation_id], self.handlers[operation_id], view_args,
                      LocalRequest(method, path, query, headers, body), self.logger, local_json)


class SystemApp(Flask):
    """A system's Flask app, which a caller in the same process may also hand requests to directly."""

    direct: DirectRoute | None = None

    def call_in_process(self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str],
                        body: bytes) -> Answer | None:
        """Answer a request without WSGI, as the WSGI route would; None means: send it through WSGI.

        `query` is the decoded query string as (name, value) pairs, `headers` the request headers (any
        spelling), `body` the raw body. The answer's status, headers (as Werkzeug would send them,
        Content-Type and Content-Length included) and body bytes are those a WSGI call would give.
        An app whose WSGI callable was wrapped (middleware) answers None: the wrapper must see the call.
        """
        direct = self.direct
        if direct is None or self.wsgi_app is not direct:
            return None
        return direct.local(method, path, query, headers, body)


def build_app(kind: str, modules: Iterable[Operations], config: dict[str, Any] | None,
              prefixes: dict[str, str], seeder: Seeder | None = None, spec: ApiSpec | None = None) -> SystemApp:
    """Return a Flask app serving the `kind` spec with the handlers of `modules`."""
    from simulators.common import admin, builtin

    app = SystemApp(f"firmsim.{kind}")
    app.config.from_mapping(DEFAULTS)
    if config:
        app.config.from_mapping(config)
    settings = app.config
    clock = settings["CLOCK"] or SystemClock()
    name = settings["SYSTEM_NAME"] or kind
    spec = spec or load_spec(kind)
    faults = FaultPlane(settings["SEED"])
    context = SystemContext(
        kind=kind, name=name, spec=spec, clock=clock, store=Store(clock, prefixes), feed=EventFeed(name),
        faults=faults, webhooks=WebhookDispatcher(faults),
        tokens=TokenRegistry(settings["API_TOKENS"], settings["OAUTH_CLIENTS"]),
        limiter=RateLimiter(settings["RATE_LIMIT"], settings["RATE_BURST"]),
        idempotency=IdempotencyStore(), config=settings, seeder=seeder,
    )
    webhooks = context.webhooks

    def enqueue_webhooks(event: dict[str, Any]) -> None:
        if webhooks.subscriptions:  # no subscriber, nothing to queue: no clock read per event
            webhooks.enqueue(event, clock.now())

    context.feed.subscribe(enqueue_webhooks)
    context.metrics = SystemMetrics(lambda: context, name)
    handlers = dict(builtin.operations.handlers)
    for module in modules:
        for operation_id, handler in module.handlers.items():
            if operation_id in handlers:
                raise ValueError(f"two handlers for {operation_id}")
            handlers[operation_id] = handler
    missing = sorted(set(spec.operations) - set(handlers))
    extra = sorted(set(handlers) - set(spec.operations) - set(builtin.operations.handlers))
    if missing or extra:
        raise ValueError(f"{kind}: operations without handlers {missing}, handlers without operations {extra}")
    for operation in spec.operations.values():
        app.add_url_rule(operation.rule, endpoint=operation.operation_id, methods=[operation.method],
                         view_func=_view(app, context, operation, handlers[operation.operation_id]))
    refuse_shadowed_methods(app, spec)
    app.add_url_rule("/openapi.json", "openapi", lambda: Response(spec.json, mimetype="application/json"))
    app.add_url_rule("/metrics", "metrics", context.metrics.exposition)
    app.register_blueprint(admin.blueprint(context))
    register_error_handlers(app)
    app.extensions["firmsim"] = context
    app.direct = DirectRoute(app, context, handlers)
    app.wsgi_app = app.direct  # type: ignore[method-assign]
    context.reset()
    return app


def context_of(app: Flask) -> SystemContext:
    """Return the system context of an app built by `build_app`."""
    context: SystemContext = app.extensions["firmsim"]
    return context
