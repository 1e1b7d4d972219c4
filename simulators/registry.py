"""The system kinds and their app factories, imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask

SYSTEM_KINDS = ("crm", "psa", "hcm", "erp")
PORT_OFFSETS = {"crm": 1, "psa": 2, "hcm": 3, "erp": 4}


def create_system_app(kind: str, config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app of one system kind."""
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"unknown system {kind!r}; expected one of {', '.join(SYSTEM_KINDS)}")
    module = importlib.import_module(f"simulators.{kind}")
    app: Flask = module.create_app(config)
    return app
