"""`firmsim load`: a short steady run over real HTTP with the embedded engine gives complete load.json and
load.html; bad profiles and flags are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.load.driver import schedule
from harness.load.profiles import PROFILES, mean_multiplier
from harness.load_command import load


@pytest.mark.slow
def test_a_short_steady_run_reports_throughput_latency_and_sync_lag_percentiles(tmp_path: Path) -> None:
    out = tmp_path / "load"
    result = CliRunner().invoke(load, ["steady", "--duration", "4", "--rate", "8", "--deals", "1",
                                       "--ramp-steps", "2", "--step", "3", "--out", str(out)])

    assert result.exit_code == 0, result.output
    report = json.loads((out / "load.json").read_text())
    run = report["run"]
    assert run["offered"] > 0 and run["completed"] == run["offered"] - sum(run["errors"].values())
    assert run["errors"] == {}
    lag = run["sync_lag_s"]["all"]
    assert lag["count"] >= run["by_kind"].get("time_approval", 0) > 0
    assert 0 < lag["p50"] <= lag["p95"] <= lag["p99"] <= lag["p99_9"] <= lag["max"] < 30
    assert set(run["sync_lag_s"]) >= {"all", "time_approval"}
    assert run["response_time_s"]["count"] == run["completed"]
    assert any(key.startswith("psa bulkApproveTimeEntries 200") for key in report["requests"])
    assert run["by_kind"]["time_approval"] % 20 == 0, "a week of time is approved in bulk, 20 entries a sheet"
    assert 0 < run["actor_calls_per_event"] < 1
    seconds = report["time"]["seconds"]
    assert seconds["systems (request handling, all callers)"] > 0
    assert seconds["engine: API calls (client side, incl. target systems)"] > 0
    assert report["time"]["engine_counters"]["business_events"] > 0
    assert [step["offered_rate"] for step in report["saturation"]["steps"]][:1] == [8.0]
    assert all(step["cpu_cores"]["load process (systems, driver, embedded engine)"] > 0
               for step in report["saturation"]["steps"])
    assert report["machine"]["cpus"] >= 1
    html = (out / "load.html").read_text()
    assert "<svg" in html and "Where the time went" in html and "sync lag" in html
    assert "sync lag  p50" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["weekly"], "unknown profile 'weekly'"),
    (["steady", "--rate", "fast"], "--rate"),
    (["steady", "--duration", "0"], "--duration"),
    (["steady", "--bus", "amqp://guest:guest@127.0.0.1:5672/"], "--bus and --store go together"),
    (["steady", "--bus", "http://x", "--store", "postgresql://x"], "--bus: expected an amqp:// URL"),
    (["steady", "--speed", "2"], "No such option"),
    ([], "Missing argument 'PROFILE'"),
    (["steady", "--out", "/dev/null/load"], "--out: cannot create the directory"),
])
def test_bad_profile_or_flag_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(load, args)

    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_month_end_surges_and_its_arrivals_follow_the_shape() -> None:
    import random

    profile = PROFILES["month-end"]
    arrivals = schedule(profile, 100.0, 100.0, random.Random(3))
    early = sum(1 for offset, _ in arrivals if offset < 50)
    surge = sum(1 for offset, _ in arrivals if 75 <= offset < 90)

    assert 0.9 < mean_multiplier(profile) < 1.2
    assert early / 50 == pytest.approx(50, rel=0.15)
    assert surge / 15 == pytest.approx(250, rel=0.15)
    assert not any(kind == "invoice" for offset, kind in arrivals if offset < 60)
    assert any(kind == "invoice" for offset, kind in arrivals if offset >= 60)


def test_bulk_actions_carry_their_events_so_the_offered_event_rate_holds() -> None:
    import random

    sizes = {"time_approval": 20, "expense_approval": 5, "invoice": 1, "payment": 1}
    arrivals = schedule(PROFILES["steady"], 200.0, 100.0, random.Random(5), sizes)
    events = sum(sizes[kind] for _, kind in arrivals)
    by_kind = {kind: sum(sizes[kind] for _, k in arrivals if k == kind) for kind in sizes}

    assert events / 100 == pytest.approx(200, rel=0.1)
    assert len(arrivals) < events / 4, "bulk approvals: far fewer actions than events"
    assert by_kind["time_approval"] / events == pytest.approx(0.6, abs=0.06)
    assert by_kind["payment"] / events == pytest.approx(0.1, abs=0.03)
