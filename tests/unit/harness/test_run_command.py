"""`firmsim run` and `firmsim replay` end to end on a tiny firm: exit codes, reports, digest."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.oracle.model import INVARIANT_IDS
from harness.runner import ledger_file
from harness.runner.sim import simulate
from scenarios.engine.config import load
from syncengine.ledger import SqliteLedger
from tests.unit.syncengine.ledger_contract_support import sqlite_tables

TINY = str(Path(__file__).with_name("tiny.yaml"))
REPORT_KEYS = {"firmsim_version", "scenario", "seed", "mode", "engine", "digest", "period", "counts", "invariants",
               "metrics", "faults", "timing"}


def firmsim(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = firmsim("run", TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def report(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.slow
def test_a_run_writes_a_complete_report_json_junit_and_html(run_dir: Path) -> None:
    data = report(run_dir)
    assert set(data) >= REPORT_KEYS
    assert [item["id"] for item in data["invariants"]] == list(INVARIANT_IDS)
    assert {"utilization", "dso_days", "win_rate", "pricing_mix"} <= set(data["metrics"]["business"])
    assert {"p50", "p95", "p99", "max"} == set(data["metrics"]["technical"]["sync_lag_s"])
    cases = ET.parse(run_dir / "junit.xml").getroot().iter("testcase")
    assert sorted(case.get("name") or "" for case in cases) == sorted(INVARIANT_IDS)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "PASS" in html and "<svg" in html and "http" not in html.split("<body>")[1].replace("https://firmsim", "")


@pytest.mark.slow
def test_replay_reproduces_the_same_digest(run_dir: Path) -> None:
    result = firmsim("replay", str(run_dir))
    assert result.exit_code == 0, result.output
    assert f"same digest {report(run_dir)['digest']}" in result.output


@pytest.mark.slow
def test_without_a_sync_engine_the_oracle_fails_and_the_exit_code_is_1(tmp_path: Path) -> None:
    result = firmsim("run", TINY, "--engine", "none", "--out", str(tmp_path / "none"))
    assert result.exit_code == 1, result.output
    failed = {item["id"] for item in report(tmp_path / "none")["invariants"] if item["status"] == "fail"}
    assert {"opportunity-to-project", "converged"} <= failed


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "no-such-scenario"], "not a library scenario"),
        (["run", "baseline", "--engine", "other"], "Invalid value for '--engine'"),
        (["replay", "/nonexistent/run"], "is not a run directory"),
    ],
)
def test_bad_input_exits_2_with_a_reason_and_no_traceback(args: list[str], expected: str) -> None:
    result = firmsim(*args)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("flag", ["--out", "--junit"])
def test_an_output_path_that_cannot_be_created_exits_2_before_running(tmp_path: Path, flag: str) -> None:
    (tmp_path / "a-file").write_text("")
    result = firmsim("run", TINY, flag, str(tmp_path / "a-file" / "sub" / "x.xml"))
    assert result.exit_code == 2
    assert f"firmsim run: {flag}: cannot create the directory" in result.output
    assert "Traceback" not in result.output and "day 7/14" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("fork", [True, False], ids=["copied-by-a-child-process", "copied-in-process"])
def test_the_ledger_a_run_leaves_is_the_engine_ledger_whole(fork: bool, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_file, "can_fork", lambda: fork)
    result = firmsim("run", TINY, "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    scenario = load(TINY)
    simulate(scenario, seed=scenario.seed, engine="builtin", ledger_path=tmp_path / "reference.db")
    tables = sqlite_tables(tmp_path / "run" / "ledger.db")
    assert tables["tracking"] and tables["xref"]
    assert tables == sqlite_tables(tmp_path / "reference.db")


@pytest.mark.slow
@pytest.mark.parametrize("fork", [True, False], ids=["copied-by-a-child-process", "copied-in-process"])
def test_a_ledger_that_cannot_be_written_exits_3_naming_the_file(fork: bool, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(ledger: SqliteLedger, contents: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ledger_file, "can_fork", lambda: fork)
    monkeypatch.setattr(SqliteLedger, "load", disk_full)
    result = firmsim("run", TINY, "--out", str(tmp_path / "run"))
    assert result.exit_code == 3, result.output
    assert f"could not be written to {tmp_path / 'run' / 'ledger.db'}" in result.output
    assert "Traceback" not in result.output
