"""The ledger.db a simulated run leaves: its in-memory ledger copied at the end, as if written as it ran."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.runner.sim import SimRun, simulate
from scenarios.engine.config import load
from syncengine.ledger import InMemoryLedger, SqliteLedger
from tests.unit.syncengine.ledger_contract_support import fill, sqlite_tables

BAD_DATA = Path(__file__).with_name("tiny-bad-data.yaml")
TABLE_OF = {"tracking": "tracking", "received": "received", "xrefs": "xref", "counters": "counters",
            "exceptions": "exceptions", "dead_letters": "dead_letters", "cursors": "cursors",
            "applied_versions": "applied_versions"}
"""The SQLite table each kind of record of `LedgerContents` goes to."""


@dataclasses.dataclass
class Runs:
    copied: SimRun
    copied_file: Path
    in_file: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    scenario = load(str(BAD_DATA))
    directory = tmp_path_factory.mktemp("ledgers")
    copied = simulate(scenario, seed=scenario.seed, engine="builtin", ledger_path=directory / "copied.db")
    simulate(scenario, seed=scenario.seed, engine="builtin", ledger_path=directory / "in-file.db", ledger_in_file=True)
    return Runs(copied, directory / "copied.db", directory / "in-file.db")


def differing_tables(left: Path, right: Path) -> set[str]:
    left_tables, right_tables = sqlite_tables(left), sqlite_tables(right)
    return {name for name in left_tables.keys() | right_tables.keys()
            if left_tables.get(name) != right_tables.get(name)}


@pytest.mark.slow
def test_the_copied_ledger_file_holds_what_the_engine_would_have_written_to_it(runs: Runs) -> None:
    assert runs.copied.world.engine is not None
    assert isinstance(runs.copied.world.engine.ports.ledger, InMemoryLedger)
    written = sqlite_tables(runs.in_file)
    assert set(written) == set(TABLE_OF.values())
    assert all(rows for name, rows in written.items() if name != "dead_letters")  # the run dead-letters nothing
    assert sqlite_tables(runs.copied_file) == written


@pytest.mark.slow
@pytest.mark.parametrize("kind", [kind for kind in TABLE_OF if kind != "dead_letters"])
def test_a_copy_that_leaves_out_one_kind_of_record_is_told_apart(runs: Runs, kind: str, tmp_path: Path) -> None:
    assert runs.copied.world.engine is not None
    contents = runs.copied.world.engine.ports.ledger.contents()
    incomplete = SqliteLedger(tmp_path / "incomplete.db")
    incomplete.load(dataclasses.replace(contents, **{kind: type(getattr(contents, kind))()}))
    incomplete.close()
    assert differing_tables(tmp_path / "incomplete.db", runs.in_file) == {TABLE_OF[kind]}


@pytest.mark.slow
def test_firmsim_engine_reads_the_copied_file_as_the_one_written_as_the_run_went(runs: Runs) -> None:
    for command in (["exceptions", "--json"], ["dead-letters", "--json"], ["exceptions", "--status", "OPEN"]):
        answers = [CliRunner().invoke(main, ["engine", *command, "--store", str(path)])
                   for path in (runs.copied_file, runs.in_file)]
        assert [answer.exit_code for answer in answers] == [0, 0]
        assert answers[0].output == answers[1].output


def test_a_sqlite_ledger_copied_from_memory_equals_one_written_directly(tmp_path: Path) -> None:
    direct, original = SqliteLedger(tmp_path / "direct.db"), InMemoryLedger()
    fill(direct)
    fill(original)
    direct.close()
    copied = SqliteLedger(tmp_path / "copied.db")
    original.copy_to(copied)
    copied.close()
    tables = sqlite_tables(tmp_path / "direct.db")
    assert all(tables.values())
    assert sqlite_tables(tmp_path / "copied.db") == tables
    for kind, table in TABLE_OF.items():  # and each kind of record is needed for that
        incomplete = SqliteLedger(tmp_path / f"without-{kind}.db")
        contents = original.contents()
        incomplete.load(dataclasses.replace(contents, **{kind: type(getattr(contents, kind))()}))
        incomplete.close()
        assert differing_tables(tmp_path / f"without-{kind}.db", tmp_path / "direct.db") == {table}
