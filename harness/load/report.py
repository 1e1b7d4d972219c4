"""load.html: the load report as one standalone page with inline SVG charts (harness/report/charts.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from harness.report.charts import bar_chart, line_chart

PERCENTILE_KEYS = ("p50", "p95", "p99", "p99_9", "max")

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>firmsim load — {{ r.profile }}</title>
<style>
 body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #0f172a; padding: 0 1rem; }
 h2 { margin-top: 2rem; border-bottom: 1px solid #e2e8f0; } table { border-collapse: collapse; width: 100%; }
 th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e2e8f0; } th { background: #f1f5f9; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; } .muted { color: #64748b; }
</style></head><body>
<h1>firmsim load: {{ r.profile }}</h1>
<p class="muted">{{ r.profile_description }}. Engine: {{ r.engine }}. Offered {{ r.options.rate }} events/s for
{{ r.options.duration_s }} s with {{ r.options.clients }} clients; {{ r.machine.cpus }} CPUs, load average
{{ r.machine.load_average_1m_at_end }} at the end (systems, engine and driver share them).</p>
<table>
 <tr><th>offered</th><td class="num">{{ r.run.offered }}</td>
     <th>completed</th><td class="num">{{ r.run.completed }}</td>
     <th>throughput</th><td class="num">{{ "%.1f"|format(r.run.throughput_per_s) }} /s</td></tr>
 <tr><th>errors</th><td colspan="3">{{ r.run.errors or "none" }}</td><th>drained</th><td>{{ r.run.drained }}</td></tr>
 <tr><th>unsynced</th><td colspan="5">{{ r.run.unsynced or "none" }}</td></tr>
</table>
<h2>Offered and completed events per second, sync lag p99</h2>
{{ charts.rate | safe }}
{{ charts.lag | safe }}
<h2>Percentiles (seconds)</h2>
<table><tr><th>measure</th><th>count</th>{% for p in keys %}<th>{{ p }}</th>{% endfor %}</tr>
{% for name, values in percentiles %}<tr><td>{{ name }}</td><td class="num">{{ values.count }}</td>
{% for p in keys %}<td class="num">{{ "%.4f"|format(values[p]) }}</td>{% endfor %}</tr>{% endfor %}
</table>
<h2>Where the time went</h2>
{{ charts.time | safe }}
<table><tr><th>part</th><th>seconds of work</th><th>share</th></tr>
{% for name, seconds in r.time.seconds.items() %}<tr><td>{{ name }}</td>
<td class="num">{{ "%.2f"|format(seconds) }}</td>
<td class="num">{{ "%.1f"|format(100 * r.time.share[name]) }} %</td></tr>{% endfor %}</table>
{% if r.time.latency_s %}<table><tr><th>broker wait (seconds)</th><th>count</th>
{% for p in keys %}<th>{{ p }}</th>{% endfor %}</tr>
{% for name, values in r.time.latency_s.items() %}<tr><td>{{ name }}</td><td class="num">{{ values.count }}</td>
{% for p in keys %}<td class="num">{{ "%.4f"|format(values[p]) }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
{% if r.time.cpu %}<table><tr><th>CPU</th><th>seconds</th><th>ms per business event</th></tr>
{% for name, seconds in r.time.cpu.seconds.items() %}<tr><td>{{ name }}</td>
<td class="num">{{ "%.2f"|format(seconds) }}</td>
<td class="num">{{ "%.3f"|format(r.time.cpu.ms_per_business_event[name]) }}</td></tr>{% endfor %}
<tr><th>total</th><td class="num">{{ "%.2f"|format(r.time.cpu.total_s) }}</td>
<td class="num">{{ "%.3f"|format(r.time.cpu.ms_per_business_event.total) }}</td></tr></table>
<p class="muted">CPU over {{ r.time.cpu.business_events|int }} business events, {{ r.time.cpu.note }}.</p>{% endif %}
{% for part in r.time.not_measured %}<p class="muted">Not measured: {{ part }}.</p>{% endfor %}
<p class="muted">Seconds of work are summed over threads. Engine API calls include the target systems' own time;
the ledger share includes waiting for the ledger (SQLite serialises units of work).</p>
{% if r.saturation %}<h2>Saturation</h2>
<p>{% if r.saturation.saturated_at_offered_rate %}Saturated at an offered {{ r.saturation.saturated_at_offered_rate }}
events/s{% else %}Not saturated within the ramp{% endif %};
{% if r.saturation.max_sustained_throughput_per_s is not none %}highest throughput kept up with:
{{ "%.1f"|format(r.saturation.max_sustained_throughput_per_s) }} events/s.
{%- else %}no step kept up (start the ramp at a lower --rate).{% endif %}{% if r.saturation.limited_by %}
Limited by {{ r.saturation.limited_by.says }}.{% endif %}</p>
{{ charts.saturation | safe }}
<table><tr><th>offered /s</th><th>throughput /s</th><th>lag p50</th><th>lag p99</th><th>keeps up</th>
<th>why not</th><th>cores used</th></tr>
{% for s in r.saturation.steps %}<tr><td class="num">{{ s.offered_rate }}</td>
<td class="num">{{ "%.1f"|format(s.throughput_per_s) }}</td>
<td class="num">{{ "%.3f"|format(s.sync_lag_s.all.p50) }}</td>
<td class="num">{{ "%.3f"|format(s.sync_lag_s.all.p99) }}</td><td>{{ s.keeps_up }}</td>
<td>{{ s.why_not | join("; ") }}</td>
<td>{% for group, cores in (s.cpu_cores or {}).items() %}{{ group }} {{ "%.2f"|format(cores) }}
{%- if not loop.last %}, {% endif %}{% endfor %}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""


def _charts(report: dict[str, Any]) -> dict[str, str]:
    timeline = report["run"]["timeline"]
    duration = f"{report['options']['duration_s']:g} s"
    charts = {
        "rate": line_chart("events per second", {
            "offered": [(row["second"], row["offered"]) for row in timeline],
            "completed": [(row["second"], row["completed"]) for row in timeline]}, ("0 s", duration)),
        "lag": line_chart("sync lag p99 (s) by second of source commit", {
            "sync lag p99 (s)": [(row["second"], row["lag_p99_s"]) for row in timeline]}, ("0 s", duration)),
        "time": bar_chart("seconds of work", [name.split(" (")[0] for name in report["time"]["seconds"]],
                          {"seconds": list(report["time"]["seconds"].values())}),
        "saturation": "",
    }
    saturation = report.get("saturation")
    if saturation and saturation["steps"]:
        steps = saturation["steps"]
        charts["saturation"] = bar_chart("offered vs achieved events per second", [f"{s['offered_rate']:g}/s"
                                                                                    for s in steps], {
            "offered": [s["offered_rate"] for s in steps], "achieved": [s["throughput_per_s"] for s in steps],
            "lag p99 x100": [100 * s["sync_lag_s"]["all"]["p99"] for s in steps]})
    return charts


def render_html(report: dict[str, Any]) -> str:
    """Return the load report page."""
    environment = Environment(autoescape=select_autoescape(default_for_string=True))
    run = report["run"]
    percentiles = [("response time (arrival to done)", run["response_time_s"]),
                   ("service time (client took it to done)", run["service_time_s"])]
    percentiles += [(f"sync lag: {kind}", values) for kind, values in run["sync_lag_s"].items()]
    percentiles += [(f"request: {name}", values) for name, values in report["requests"].items()]
    return environment.from_string(TEMPLATE).render(r=report, charts=_charts(report), keys=PERCENTILE_KEYS,
                                                    percentiles=percentiles)


def write_html(report: dict[str, Any], path: Path) -> None:
    """Write load.html."""
    path.write_text(render_html(report), encoding="utf-8")
