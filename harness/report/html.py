"""The standalone HTML report: verdict, invariants with violations, charts, KPIs against ranges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.report.charts import bar_chart, line_chart, range_bar

# Published ranges (DOMAIN.md §1) the KPIs are shown against: (low, high, axis low, axis high).
KPI_RANGES: dict[str, tuple[float, float, float, float]] = {
    "utilization": (0.65, 0.78, 0.0, 1.0),
    "dso_days": (35.0, 70.0, 0.0, 120.0),
    "win_rate": (0.25, 0.50, 0.0, 1.0),
    "time_and_materials_share": (0.40, 0.60, 0.0, 1.0),
}


def _charts(report: dict[str, Any]) -> dict[str, str]:
    series = report.get("series", {})
    start, end = report["period"]["start"], report["period"]["end"]
    lag = [(float(t) / 86400, float(v)) for t, v in series.get("sync_lag", [])]
    depth = [(float(t) / 86400, float(v)) for t, v in series.get("queue_depth", [])]
    months = sorted(series.get("revenue_by_month", {}))
    by_month = series.get("revenue_by_month", {})
    return {
        "sync_lag": line_chart("Sync lag (s) over the period (days)", {"sync lag s": lag}, (start, end)),
        "queue_depth": line_chart("Queue depth over the period", {"messages in flight": depth}, (start, end)),
        "revenue": bar_chart("Invoiced vs recognized revenue by closed month", months, {
            "invoiced": [float(by_month[m].get("invoiced", 0)) for m in months],
            "recognized": [float(by_month[m].get("recognized", 0)) for m in months],
        }),
    }


def _kpis(report: dict[str, Any]) -> list[dict[str, Any]]:
    business = report["metrics"]["business"]
    values = {
        "utilization": business.get("utilization"),
        "dso_days": business.get("dso_days"),
        "win_rate": business.get("win_rate"),
        "time_and_materials_share": (business.get("pricing_mix") or {}).get("TIME_AND_MATERIALS"),
    }
    rows = []
    for name, (low, high, axis_low, axis_high) in KPI_RANGES.items():
        value = values[name]
        rows.append({
            "name": name, "value": value, "low": low, "high": high,
            "inside": value is not None and low <= value <= high,
            "bar": range_bar(value, low, high, axis_low, axis_high),
        })
    return rows


def render_html(report: dict[str, Any]) -> str:
    """Return the report page as one standalone HTML document."""
    environment = Environment(loader=PackageLoader("harness.report", "templates"),
                              autoescape=select_autoescape(["html"]))
    template = environment.get_template("report.html.j2")
    return template.render(report=report, charts=_charts(report), kpis=_kpis(report),
                           pretty=lambda value: json.dumps(value, default=str))


def write_html(report: dict[str, Any], path: Path) -> None:
    """Write the report page."""
    path.write_text(render_html(report), encoding="utf-8")
