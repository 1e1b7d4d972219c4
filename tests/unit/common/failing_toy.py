"""The toy system with a createWidget that writes, emits and then may fail, to prove rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from simulators.common.api import Operations, Reply, Request, created
from simulators.common.app import build_app
from simulators.common.errors import business_error
from simulators.common.spec import ApiSpec, bundle
from tests.unit.common import toy

operations = Operations()
for operation_id, handler in toy.operations.handlers.items():
    if operation_id != "createWidget":
        operations(operation_id)(handler)


@operations("createWidget")
def create_widget_then_fail(request: Request) -> Reply:
    """Polish every existing widget, insert the new one, emit, then refuse or crash on its name."""
    for existing in request.store.all("widgets"):
        request.store.update("widgets", existing["id"], {"status": "POLISHED"})
    widget = request.store.insert("widgets", {**request.body, "status": "ROUGH"})
    request.emit("toy.widget.created", widget)
    if widget["name"] == "refuse":
        raise business_error("widget-refused", "Widget refused", "The handler refused after writing")
    if widget["name"] == "crash":
        raise RuntimeError("handler bug after writing")
    return created(widget, f"/widgets/{widget['id']}")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Return the failing toy app."""
    spec = ApiSpec("toy", bundle(Path(toy.__file__).with_name("toy.yaml")))
    return build_app("toy", [operations], {"VALIDATE_RESPONSES": True, **(config or {})}, {"widgets": "WID"},
                     spec=spec)
