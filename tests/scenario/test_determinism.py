"""Determinism: the same scenario file and seed give the same truth and the same four end states, process
after process; another seed gives another firm."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.scenarios.support import write_tiny

ROOT = Path(__file__).resolve().parents[2]


def run_in_process(scenario: Path, *seeds: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.scenario.simulate", str(scenario), *map(str, seeds)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONHASHSEED": "random", "PATH": ""})


def digests(process: subprocess.Popen[str]) -> dict[int, dict[str, str]]:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-2000:]
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {line.pop("seed"): line for line in lines}


@pytest.mark.slow
def test_same_file_and_seed_give_equal_hashes_in_two_processes_and_another_seed_differs(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path, seed=7)
    first, second = run_in_process(scenario, 7, 8), run_in_process(scenario, 7)
    one, two = digests(first), digests(second)
    assert one[7] == two[7]
    assert set(one[7]) == {"truth", "crm", "psa", "hcm", "erp"}
    assert one[8]["truth"] != one[7]["truth"]
    assert all(one[8][system] != one[7][system] for system in ("crm", "psa", "hcm", "erp"))
