"""The built-in engine's flows: every module under syncengine/flows/ that exposes FLOW."""

from __future__ import annotations

import importlib
import pkgutil

from syncengine.runtime.registry import Flow


def builtin_flows() -> list[Flow]:
    """Return the FLOW of each syncengine.flows module, in module-name order."""
    package = importlib.import_module("syncengine.flows")
    flows = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"syncengine.flows.{module_info.name}")
        flow = getattr(module, "FLOW", None)
        if isinstance(flow, Flow):
            flows.append(flow)
    return flows
