"""bootstrap: ports wired from configuration, bad configuration named, no I/O at import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from simulators.common.clock import ManualClock
from syncengine.bootstrap import ConfigError, EngineConfig, SystemConfig, bootstrap
from syncengine.ledger import InMemoryLedger, SqliteLedger
from tests.unit.common.toy import create_app

PACKAGE = Path(__file__).parents[3] / "syncengine"
IO_LIBRARIES = {"httpx", "flask", "werkzeug", "sqlite3", "simpy", "socket", "requests", "urllib", "os", "pathlib",
                "io", "subprocess", "threading", "random", "time", "uuid"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_engine_is_wired_with_a_memory_ledger_by_default(clock: ManualClock) -> None:
    engine = bootstrap(EngineConfig(systems=(SystemConfig("crm", app=create_app({"CLOCK": clock}), token="t"),),
                                    clock=clock))
    assert isinstance(engine.ports.ledger, InMemoryLedger)
    assert engine.ports.client("crm").name == "crm"
    assert list(engine.pollers) == ["crm"]
    with pytest.raises(LookupError, match="crm"):
        engine.ports.client("erp")


def test_a_sqlite_ledger_and_plain_settings_are_accepted(clock: ManualClock, tmp_path: Path) -> None:
    engine = bootstrap({"ledger": "sqlite", "ledger_path": str(tmp_path / "l.db"), "clock": clock, "seed": 3,
                        "systems": [{"name": "erp", "base_url": "http://127.0.0.1:1", "client_id": "firmsim",
                                     "client_secret": "s", "poll": False},
                                    {"name": "erp-legacy", "base_url": "http://127.0.0.1:2", "token": "t"}]})
    assert isinstance(engine.ports.ledger, SqliteLedger)
    assert sorted(engine.ports.clients) == ["erp", "erp-legacy"]
    assert list(engine.pollers) == ["erp-legacy"]
    engine.ports.ledger.close()


@pytest.mark.parametrize(("settings", "message"), [
    ({"ledger": "oracle"}, "ledger: expected one of memory, sqlite, postgresql"),
    ({"ledger": "sqlite"}, "ledger_path"),
    ({"ledger": "postgresql"}, "ledger_path: a postgresql ledger needs a postgresql://"),
    ({"ledger": "postgresql", "store_url": "mysql://x/y"}, "store_url: a postgresql ledger needs"),
    ({"ledger": "postgresql", "store_url": "postgresql://postgres@127.0.0.1:1/test"},
     "store_url: cannot reach PostgreSQL: connection failed"),
    ({"ledger": "postgresql", "store_url": "postgresql://x/y", "ledger_schema": "Drop table"}, "ledger_schema"),
    ({"systems": [{"name": "crm", "token": "t"}]}, "systems.crm: give a base_url"),
    ({"systems": [{"name": "crm", "base_url": "http://x"}]}, "systems.crm: give a token"),
    ({"systems": [{"name": "crm", "base_url": "http://x", "client_id": "a"}]}, "go together"),
    ({"systems": [{"name": "crm", "base_url": "http://x", "token": "t"}] * 2}, "unique"),
    ({"systems": [{"name": "crm", "url": "http://x"}]}, "systems[0]: unknown settings ['url']"),
    ({"ledgr": "memory"}, "unknown engine settings ['ledgr']"),
])
def test_a_bad_configuration_is_named(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        bootstrap(settings)


def test_the_engine_never_imports_the_systems_or_the_scenarios() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        bad = {name for name in imported_modules(path) if name.split(".")[0] in ("simulators", "scenarios", "harness")}
        assert not bad, f"{path} imports {bad}"


def test_the_domain_imports_no_io_library() -> None:
    for path in sorted((PACKAGE / "domain").rglob("*.py")):
        io = {name for name in imported_modules(path) if name.split(".")[0] in IO_LIBRARIES}
        assert not io, f"{path} imports {io}"
        assert all(not name.startswith("syncengine.") or name.startswith("syncengine.domain")
                   for name in imported_modules(path)), path

