"""A toy system (widgets) that exercises the shared mechanics without any real system's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.app import build_app
from simulators.common.errors import invalid_transition
from simulators.common.spec import ApiSpec, bundle

operations = Operations()


@operations("listWidgets")
def list_widgets(request: Request) -> Reply:
    return request.page(request.store.all("widgets"))


@operations("createWidget")
def create_widget(request: Request) -> Reply:
    widget = request.store.insert("widgets", {**request.body, "status": "ROUGH"})
    request.emit("toy.widget.created", widget)
    return created(widget, f"/widgets/{widget['id']}")


@operations("getWidget")
def get_widget(request: Request) -> Reply:
    return ok(request.store.get("widgets", request.path["widget_id"]))


@operations("polishWidget")
def polish_widget(request: Request) -> Reply:
    widget = request.store.get("widgets", request.path["widget_id"])
    request.check_if_match(widget)
    if widget["status"] != "ROUGH":
        raise invalid_transition("widget", widget["id"], widget["status"], "polish")
    widget = request.store.update("widgets", widget["id"], {"status": "POLISHED"})
    request.emit("toy.widget.polished", widget)
    return ok(widget)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    spec = ApiSpec("toy", bundle(Path(__file__).with_name("toy.yaml")))
    return build_app("toy", [operations], {"VALIDATE_RESPONSES": True, **(config or {})},
                     {"widgets": "WID"}, spec=spec)
