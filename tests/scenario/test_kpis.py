"""Realism: with default parameters the baseline firm lands in DOMAIN.md's published ranges, seed after seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (42, 1, 2)


def kpis_of(*seeds: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.scenario.simulate", "--kpis", "baseline",
                             *map(str, seeds)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def baseline_kpis() -> list[dict[str, Any]]:
    processes = [kpis_of(seed) for seed in SEEDS]
    found = []
    for process in processes:
        out, err = process.communicate(timeout=900)
        assert process.returncode == 0, err[-2000:]
        found += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(item["seed"] for item in found) == sorted(SEEDS)
    return found


@pytest.mark.slow
def test_baseline_utilization_is_between_65_and_78_percent(baseline_kpis: list[dict[str, Any]]) -> None:
    assert all(0.65 <= item["utilization"] <= 0.78 for item in baseline_kpis), [i["utilization"] for i in baseline_kpis]


@pytest.mark.slow
def test_baseline_dso_is_between_35_and_70_days(baseline_kpis: list[dict[str, Any]]) -> None:
    assert all(35 <= item["dso_days"] <= 70 for item in baseline_kpis), [i["dso_days"] for i in baseline_kpis]


@pytest.mark.slow
def test_baseline_win_rate_is_between_25_and_50_percent(baseline_kpis: list[dict[str, Any]]) -> None:
    assert all(0.25 <= item["win_rate"] <= 0.5 for item in baseline_kpis), [i["win_rate"] for i in baseline_kpis]


@pytest.mark.slow
def test_time_and_materials_is_40_to_60_percent_of_contracts(baseline_kpis: list[dict[str, Any]]) -> None:
    shares = [item["pricing_mix"].get("TIME_AND_MATERIALS", 0) for item in baseline_kpis]
    assert all(0.4 <= share <= 0.6 for share in shares), shares


@pytest.mark.slow
def test_most_projects_run_one_to_nine_months(baseline_kpis: list[dict[str, Any]]) -> None:
    assert all(item["projects_1_to_9_months"] >= 0.8 for item in baseline_kpis)
    assert all(1 <= item["project_months_median"] <= 9 for item in baseline_kpis)
