"""Scenario files: merged with defaults and `extends`, refused with the file, field and expectation named."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from scenarios.engine.config import ScenarioError, library_names, load, parse_offset


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_library_scenario_is_valid() -> None:
    assert "baseline" in library_names()
    for name in library_names():
        assert load(name).name == name


def test_a_minimal_file_inherits_the_defaults(tmp_path: Path) -> None:
    text = "name: tiny\ndescription: A tiny firm.\nperiod: {start: 2026-02-01, end: 2026-02-28}\n"
    scenario = load(str(write(tmp_path, text)))
    assert scenario.days == 28
    assert scenario.section("sales")["win_rate"] == pytest.approx(0.38)
    assert set(scenario.section("firm")["legal_entities"]) == {"US01", "UK01", "DE01"}


def test_extends_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = write(tmp_path, "name: more-change\ndescription: d\nextends: baseline\nchange_orders: {rate: 0.4}\n")
    scenario = load(str(path))
    assert scenario.section("change_orders")["rate"] == pytest.approx(0.4)
    assert scenario.section("change_orders")["distinct_rate"] == pytest.approx(0.3)
    assert scenario.start.isoformat() == "2026-01-01"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\ndescription: d\nsales: {win_rate: 1.5}\n", "sales.win_rate: 1.5 is greater than the maximum of 1"),
        ("name: x\ndescription: d\nfirm: {practices: [ASTROLOGY]}\n", "firm.practices.0"),
        ("name: x\ndescription: d\nfaults: [{kind: meteor, system: erp, start: 1d, duration: 6h}]\n",
         "faults.0.kind"),
        ("name: x\ndescription: d\nfaults: [{kind: outage, system: erp, start: soon, duration: 6h}]\n",
         "faults.0.start"),
        ("name: x\ndescription: d\nperiod: {start: 2026-03-01, end: 2026-02-01}\n", "period.end: must not be before"),
        ("name: x\ndescription: d\nsales: {pricing_mix: {FIXED_FEE: 0.5}}\n",
         "sales.pricing_mix: the shares must add up to 1"),
        ("name: x\ndescription: d\nfinance: {payment_terms_mix: {'30': 0.9}}\n",
         "finance.payment_terms_mix: the shares must add up to 1"),
        ("name: x\ndescription: d\nfinance: {payment_terms_mix: {net30: 1}}\n", "finance.payment_terms_mix"),
        ("name: x\ndescription: d\nunexpected: 1\n", "(top level)"),
        ("name: x\ndescription: d\nextends: nowhere\n", "extends: nowhere: not a library scenario"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: x\n  bad: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_file_is_refused_naming_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as refused:
        load(str(path))
    assert str(path) in str(refused.value)
    assert expected in str(refused.value)


def test_an_unknown_name_lists_the_library() -> None:
    with pytest.raises(ScenarioError, match="baseline"):
        load("no-such-scenario")


def test_offsets_read_days_hours_and_minutes() -> None:
    assert parse_offset("29d18h").total_seconds() == (29 * 24 + 18) * 3600
    assert parse_offset("90m").total_seconds() == 5400
    with pytest.raises(ScenarioError):
        parse_offset("soon")


def test_validate_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, "name: x\ndescription: d\nsales: {win_rate: 2}\n")
    result = CliRunner().invoke(main, ["scenarios", "validate", "baseline", str(bad)])
    assert result.exit_code == 2
    assert "ok      " in result.output
    assert f"INVALID {bad}: sales.win_rate" in result.output
    assert "Traceback" not in result.output


def test_show_prints_the_merged_scenario() -> None:
    result = CliRunner().invoke(main, ["scenarios", "show", "baseline"])
    assert result.exit_code == 0
    assert "win_rate: 0.38" in result.output


def test_changing_a_loaded_scenarios_parameters_changes_no_later_load() -> None:
    first = load("baseline")
    first.params["finance"]["payment_days"]["mean"] = 1  # a default baseline does not override
    first.params["delivery"]["return_rate"] = 0.9
    again = load("baseline")
    assert again.params["finance"]["payment_days"]["mean"] == 42
    assert again.params["delivery"]["return_rate"] != 0.9
