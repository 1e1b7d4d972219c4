"""`firmsim run --mode live` on a tiny firm: real sockets, the firm on real time, the same oracle and reports."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.oracle.model import INVARIANT_IDS
from simulators.registry import PORT_OFFSETS
from tests.integration.live_firm import free_port_base

TINY = str(Path(__file__).parents[1] / "unit" / "harness" / "tiny.yaml")
EXAMPLE = Path(__file__).parents[2] / "examples" / "minimal_engine" / "engine.py"
FAST = ["--mode", "live", "--speed", "864000", "--quiet-period", "2", "--quiescence-timeout", "60"]


def firmsim(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def report(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return loaded


def failed(directory: Path) -> set[str]:
    return {item["id"] for item in report(directory)["invariants"] if item["status"] == "fail"}


@pytest.mark.slow
def test_a_tiny_firm_run_live_with_the_embedded_engine_passes_every_invariant(tmp_path: Path) -> None:
    out = tmp_path / "embedded"
    result = firmsim("run", TINY, *FAST, "--out", str(out))
    assert result.exit_code == 0, result.output
    data = report(out)
    assert data["mode"] == "live" and data["engine"] == "builtin"
    assert [item["id"] for item in data["invariants"]] == list(INVARIANT_IDS)
    assert failed(out) == set()
    assert data["timing"]["quiesced"] and data["timing"]["engine_mode"] == "embedded"
    assert any("not expected to repeat" in note for note in data["notes"])
    technical = data["metrics"]["technical"]
    assert technical["events_received"] > 0 and technical["rejected_signatures"] == 0
    lag = technical["sync_lag_s"]  # simulated seconds: 0 for work synced while the clock waited for the firm
    assert 0 <= lag["p50"] <= lag["p99"] <= lag["max"] and lag["max"] > 0
    assert sum(data["counts"]["api_calls"].values()) > 0 and data["counts"]["events"]
    assert re.search(r"engine metrics \(Prometheus\): http://127\.0\.0\.1:\d+/metrics", result.output)
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    assert sorted(case.get("name") or "" for case in cases) == sorted(INVARIANT_IDS)
    assert "not expected to repeat" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_tiny_firm_run_live_without_an_engine_fails_opportunity_to_project(tmp_path: Path) -> None:
    out = tmp_path / "none"
    result = firmsim("run", TINY, *FAST, "--engine", "none", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert {"opportunity-to-project", "converged"} <= failed(out)
    assert report(out)["mode"] == "live"


@pytest.mark.slow
def test_a_minimal_external_engine_passes_the_invariants_it_covers_and_fails_the_others(tmp_path: Path) -> None:
    base, token, out = free_port_base(), "external-engine-token", tmp_path / "external"
    urls = [f"--{kind}=http://127.0.0.1:{base + offset}" for kind, offset in PORT_OFFSETS.items()]
    with (tmp_path / "engine.log").open("wb") as log:
        engine = subprocess.Popen([sys.executable, str(EXAMPLE), *urls, "--token", token], stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            result = firmsim("run", TINY, *FAST, "--engine", "external", "--port-base", str(base), "--token", token,
                             "--quiet-period", "4", "--out", str(out))
        finally:
            engine.terminate()
            engine.wait(timeout=10)
    assert result.exit_code == 1, result.output
    assert f"crm  http://127.0.0.1:{base + 1}" in result.output and token in result.output
    statuses = {item["id"]: item for item in report(out)["invariants"]}
    covered = ("opportunity-to-project", "contract-versions-aligned", "time-billed-exactly-once",
               "audit-trail-complete", "cost-rates-aligned")
    assert [name for name in covered if statuses[name]["status"] != "pass"] == []
    assert statuses["opportunity-to-project"]["checked"] > 0 and statuses["time-billed-exactly-once"]["checked"] > 0
    # it never posts expenses: the oracle names each approved billable expense missing from the ERP
    expenses = statuses["expenses-billed-exactly-once"]
    assert expenses["status"] == "fail" and all(item["actual"] is None for item in expenses["violations"])
    assert report(out)["engine"] == "external"


@pytest.mark.slow
def test_a_tiny_firm_run_live_with_two_distributed_workers_passes_every_invariant(
        tmp_path: Path, rabbitmq_url: str, postgres_url: str) -> None:
    out = tmp_path / "distributed"
    result = firmsim("run", TINY, *FAST, "--bus", rabbitmq_url, "--store", postgres_url, "--workers", "2",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    assert failed(out) == set()
    data = report(out)
    technical = data["metrics"]["technical"]
    assert data["timing"]["engine_mode"] == "distributed (2 workers)" and technical["workers"] == 2
    assert technical["workers_reporting"] == 2, "each worker writes its metrics as it stops"
    assert data["series"]["sync_lag"], "the daily sync-lag series comes from what the workers write every second"
    lag = technical["sync_lag_s"]
    # In simulated seconds: while the clock is held back for a firm that cannot keep this speed (a slow
    # machine: 900-1,500 h behind at 10 days a second), work synced meanwhile took no simulated time, so
    # the median can be 0; some lag is always measured.
    assert 0 <= lag["p50"] <= lag["p95"] <= lag["p99"] <= lag["max"] and lag["max"] > 0
    assert technical["business_events"] > 0 and technical["api_calls_per_business_event"] > 0
    assert result.output.count("engine metrics (Prometheus): http://127.0.0.1:") == 2
    assert (out / "worker-1.log").read_text(encoding="utf-8") and (out / "worker-2.log").exists()


def test_a_port_in_use_ends_the_run_with_exit_3_and_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        base = taken.getsockname()[1] - 4  # erp listens on base + 4
        result = firmsim("run", TINY, *FAST, "--engine", "none", "--port-base", str(base), "--out", str(tmp_path))
    assert result.exit_code == 3
    assert "cannot listen on 127.0.0.1:" in result.output  # erp's port, or another one taken meanwhile
    assert "Traceback" not in result.output


def test_an_unreachable_broker_ends_the_run_with_exit_3(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = firmsim("run", TINY, *FAST, "--bus", f"amqp://guest:guest@127.0.0.1:{closed_port}/",
                     "--store", f"postgresql://postgres@127.0.0.1:{closed_port}/test", "--out", str(tmp_path))
    assert result.exit_code == 3, result.output
    assert "could not complete" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--engine", "external"], "--engine external needs --mode live"),
        (["--speed", "10"], "--speed needs --mode live"),
        (["--mode", "live", "--bus", "amqp://localhost/"], "--bus and --store go together"),
        (["--mode", "live", "--bus", "http://x/", "--store", "postgresql://y/"], "expected amqp://"),
        (["--mode", "live", "--workers", "2"], "--workers needs --bus and --store"),
        (["--mode", "live", "--engine", "none", "--bus", "amqp://x/", "--store", "postgresql://y/"],
         "make no sense with --engine none"),
        (["--mode", "live", "--speed", "0"], "Invalid value for '--speed'"),
        (["--metrics-port", "9464"], "--metrics-port needs --mode live"),
        (["--mode", "live", "--engine", "none", "--metrics-port", "9464"], "--engine none serves none"),
    ],
)
def test_bad_live_flags_exit_2_with_a_reason(args: list[str], expected: str) -> None:
    result = firmsim("run", TINY, *args)
    assert result.exit_code == 2
    assert expected in result.output and "Traceback" not in result.output
