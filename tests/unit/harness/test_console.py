"""The `firmsim` console script ends a run without freeing its heap: the exit code and every line still arrive."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

TINY = str(Path(__file__).with_name("tiny.yaml"))
FIRMSIM = str(Path(sys.executable).with_name("firmsim"))


def firmsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FIRMSIM, *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_the_console_script_exits_with_the_runs_code_and_all_its_output(tmp_path: Path) -> None:
    passed = firmsim("run", TINY, "--out", str(tmp_path / "pass"))
    assert passed.returncode == 0, passed.stderr[-2000:]
    assert passed.stdout.startswith("PASS  tiny seed=42")
    assert passed.stdout.rstrip().endswith(f"report: {tmp_path / 'pass' / 'report.html'} (and report.json, junit.xml)")
    assert re.search(r"^tiny seed=42: day 14/14 2026-01-18  events \d+  exceptions 0  \(\d+ s\)$", passed.stderr, re.M)
    digest = json.loads((tmp_path / "pass" / "report.json").read_text(encoding="utf-8"))["digest"]
    assert (tmp_path / "pass" / "ledger.db").stat().st_size > 0

    failed = firmsim("run", TINY, "--engine", "none", "--out", str(tmp_path / "none"))
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert failed.stdout.startswith("FAIL")

    replayed = firmsim("replay", str(tmp_path / "pass"))
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert replayed.stdout.rstrip().endswith(f"same digest {digest}: the run reproduces exactly")


def test_a_bad_scenario_file_still_exits_2_with_its_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nperiod: {start: 2026-01-05}\nfirm: 7\n", encoding="utf-8")
    result = firmsim("run", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "Traceback" not in result.stderr
