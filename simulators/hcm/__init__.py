"""The HCM mock: workers, skills, effective-dated cost rates, capacity and time off."""

from __future__ import annotations

from typing import Any

from flask import Flask

from simulators.common.app import build_app
from simulators.hcm import availability, cost_rates, lifecycle, skills, time_off, workers
from simulators.hcm.demo import demo_seeder

PREFIXES = {"workers": "WRK", "skills": "SKL", "cost_rates": "CRT", "time_off": "TOF"}
DEFAULTS: dict[str, Any] = {
    "DEMO_WORKERS": 0,  # hire this many demo workers on reset (firmsim serve); tests start empty
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Return the HCM Flask app."""
    settings = {**DEFAULTS, **(config or {})}
    demo_count = int(settings["DEMO_WORKERS"])
    seeder = demo_seeder(demo_count, int(settings.get("SEED", 0))) if demo_count > 0 else None
    modules = [workers.operations, lifecycle.operations, skills.operations, cost_rates.operations,
               time_off.operations, availability.operations]
    return build_app("hcm", modules, settings, PREFIXES, seeder)
