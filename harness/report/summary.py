"""The one-screen summary printed at the end of a run."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _fmt_mix(mix: Any) -> str:
    if not isinstance(mix, dict) or not mix:
        return "—"
    return ", ".join(f"{model} {share:.0%}" for model, share in mix.items())


def summary_lines(report: dict[str, Any], report_dir: str) -> list[str]:
    """Return the lines of the end-of-run summary."""
    verdict = "PASS" if report["verdict"] == "pass" else "FAIL"
    lines = [
        f"{verdict}  {report['scenario']} seed={report['seed']} mode={report['mode']} engine={report['engine']}"
        f"  ({report['period']['start']} .. {report['period']['end']}, {report['timing']['wall_s']:.1f} s)",
        "",
        "invariants:",
    ]
    for invariant in report["invariants"]:
        mark = "ok  " if invariant["status"] == "pass" else "FAIL"
        extra = f"  {len(invariant['violations'])} violation(s)" if invariant["violations"] else ""
        lines.append(f"  {mark} {invariant['id']:<32} checked {invariant['checked']:>6}{extra}")
        for violation in invariant["violations"][:3]:
            lines.append(f"         {violation['system']} {violation['record_id']}: expected {violation['expected']}, "
                         f"actual {violation['actual']}")
    business = report["metrics"]["business"]
    technical = report["metrics"]["technical"]
    lag = technical.get("sync_lag_s", {})
    lines += [
        "",
        "KPIs: " + ", ".join(f"{name} {_fmt(business.get(name))}" for name in ("utilization", "dso_days", "win_rate")),
        "      pricing mix " + _fmt_mix(business.get("pricing_mix")),
        f"sync lag s: p50 {_fmt(lag.get('p50'))}  p95 {_fmt(lag.get('p95'))}  p99 {_fmt(lag.get('p99'))}  "
        f"max {_fmt(lag.get('max'))};  retries {technical.get('retries')}, "
        f"throttled {technical.get('throttled_calls')}, exceptions {technical.get('exceptions')}, "
        f"dead letters {technical.get('dead_letters')}",
        f"report: {report_dir}/report.html (and report.json, junit.xml)",
    ]
    return lines
