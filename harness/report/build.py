"""Assemble report.json from a finished run, and write the three report files."""

from __future__ import annotations

import json
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness.digest import run_digest
from harness.report.eventlog import write_event_log
from harness.report.html import write_html
from harness.report.junit import write_junit
from harness.runner.live import LiveRun
from harness.runner.sim import SimRun, api_call_counts, event_counts, percentile


def firmsim_version() -> str:
    """Return the installed firmsim version."""
    try:
        return version("firmsim")
    except PackageNotFoundError:
        return "0+unknown"


def _technical(run: SimRun) -> dict[str, Any]:
    if run.world.engine is None:
        return {"sync_lag_s": {"p50": None, "p95": None, "p99": None, "max": None}, "retries": 0,
                "throttled_calls": 0, "exceptions": 0, "dead_letters": 0, "api_calls_per_business_event": None}
    snapshot = run.world.engine.snapshot()
    lags = sorted(snapshot.sync_lag_s)  # once: percentile's own sort of a sorted list is a single pass
    return {
        "sync_lag_s": {"p50": percentile(lags, 50), "p95": percentile(lags, 95), "p99": percentile(lags, 99),
                       "max": lags[-1] if lags else 0.0},
        "retries": snapshot.retries,
        "throttled_calls": snapshot.throttled_calls,
        "exceptions": snapshot.exceptions,
        "dead_letters": snapshot.dead_letters,
        "api_calls_per_business_event": round(snapshot.api_calls_per_business_event, 3),
        "business_events": snapshot.business_events,
        "events_received": snapshot.events_received,
        "duplicate_events": snapshot.duplicate_events,
        "rejected_signatures": snapshot.rejected_signatures,
        "max_queue_depth": snapshot.max_queue_depth,
        "drained": run.drained,
    }


def build_report(run: SimRun | LiveRun, mode: str = "sim") -> dict[str, Any]:
    """Return the report.json document of a run (a LiveRun brings its own counts, metrics and notes)."""
    invariants = [result.to_dict() for result in run.invariants]
    series = dict(run.series)
    series["revenue_by_month"] = run.business.pop("revenue_by_month", {}) if "revenue_by_month" in run.business else {}
    if isinstance(run, LiveRun):
        mode, counts, technical = "live", dict(run.counts), run.technical
    else:
        counts = {"events": event_counts(run.world), "api_calls": api_call_counts(run.world)}
        technical = _technical(run)
    report: dict[str, Any] = {
        "firmsim_version": firmsim_version(),
        "scenario": run.scenario.name,
        "seed": run.seed,
        "mode": mode,
        "engine": run.engine,
        "digest": run_digest(run.states, run.truth.to_json()),
        "period": {"start": run.scenario.start.isoformat(), "end": run.scenario.end.isoformat()},
        "verdict": "pass" if all(item["status"] == "pass" for item in invariants) else "fail",
        "counts": {**counts, "truth": run.truth.counts()},
        "invariants": invariants,
        "metrics": {"business": run.business, "technical": technical},
        "faults": run.faults,
        "timing": {"wall_s": round(run.wall_s, 3), "simulated_days": run.scenario.days,
                   "simulated_days_per_s": round(run.scenario.days / max(run.wall_s, 1e-9), 2)},
        "series": series,
    }
    if isinstance(run, LiveRun):
        report["timing"].update(run.timing)
        report["notes"] = list(run.notes)
    return report


def write_reports(report: dict[str, Any], run: SimRun | LiveRun, out_dir: Path) -> None:
    """Write report.json, junit.xml, report.html, the scenario (as given and resolved), truth and events.log."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    write_junit([report], out_dir / "junit.xml")
    write_html(report, out_dir / "report.html")
    shutil.copyfile(run.scenario.source, out_dir / "scenario.yaml")
    (out_dir / "scenario.resolved.json").write_text(json.dumps(run.scenario.params, indent=2) + "\n",
                                                     encoding="utf-8")
    (out_dir / "truth.json").write_text(run.truth.to_json() + "\n", encoding="utf-8")
    write_event_log(run.truth, run.states, out_dir / "events.log", (run.scenario.start, run.scenario.end))
