"""`firmsim engine exceptions|redrive|dead-letters|replay` against live local systems and a SQLite ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.engine_store import drain
from harness.local_systems import LocalSystems, start_local_systems
from harness.runner.flows import builtin_flows
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.domain.messages import SourceEvent
from syncengine.flows import opportunity_to_project
from syncengine.ports import Ports
from syncengine.runtime.engine import Engine
from syncengine.runtime.registry import Flow
from tests.unit.syncengine.flows.deal_world import FIXED_FEE_TERMS
from tests.unit.syncengine.ledger_contract import T0

TOKEN = "ops-token"
KINDS = ("crm", "psa", "hcm", "erp")


@dataclass
class Site:
    """Live systems, a ledger file, and the engine workers that wrote it."""

    systems: LocalSystems
    store: str

    def call(self, system: str, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, self.systems.url(system) + path, json=body,
                                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.is_success, f"{method} {system}{path} -> {response.status_code}: {response.text}"
        return response.json() if response.content else None

    def count(self, system: str, collection: str) -> int:
        return len(self.call(system, "GET", f"/{collection}?limit=200")["items"])

    def won_deal(self, *, tax_id: str | None) -> tuple[str, str]:
        body = {"name": "Tailspin Toys Ltd", "country": "GB", "currency": "GBP",
                **({"tax_id": tax_id} if tax_id else {})}
        account = self.call("crm", "POST", "/accounts", body)["id"]
        deal = {"account_id": account, "name": "Analytics platform", "stage": "PROPOSAL",
                "close_date": "2026-03-02", **FIXED_FEE_TERMS}
        opportunity = self.call("crm", "POST", "/opportunities", deal)["id"]
        for step in ("submit-sow", "approve-sow", "close-won"):
            self.call("crm", "POST", f"/opportunities/{opportunity}/{step}")
        return account, opportunity

    def run_workers(self, flows: list[Flow] | None = None) -> Engine:
        """Run the engine as its workers would: read every feed, handle what it read."""
        engine = bootstrap(EngineConfig(
            systems=tuple(SystemConfig(kind, base_url=self.systems.url(kind), token=TOKEN) for kind in KINDS),
            ledger="sqlite", ledger_path=self.store, flows=tuple(flows or builtin_flows())))
        for _ in range(3):
            for kind in KINDS:
                engine.poll(kind)
            drain(engine, 5.0)
        engine.ports.ledger.close()
        return engine

    def system_flags(self) -> list[str]:
        return [flag for kind in KINDS for flag in ("--system", f"{kind}={self.systems.url(kind)}")]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with start_local_systems(KINDS, TOKEN) as systems:
        yield Site(systems, str(tmp_path / "ledger.db"))


def engine_cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["engine", *args], catch_exceptions=False)


def test_a_refused_deal_is_listed_and_a_re_drive_after_the_fix_makes_it_flow_once(site: Site) -> None:
    account, _ = site.won_deal(tax_id=None)
    site.run_workers()
    listed = engine_cli("exceptions", "--store", site.store, "--json")
    [item] = json.loads(listed.stdout)
    assert (listed.exit_code, item["id"], item["reason"], item["status"]) == (
        0, "EXC-000001", "missing-tax-registration", "OPEN")

    still_broken = engine_cli("redrive", "EXC-000001", "--store", site.store, "--token", TOKEN,
                              *site.system_flags())
    assert still_broken.exit_code == 1
    assert "EXC-000001  OPEN  missing-tax-registration" in still_broken.output

    site.call("crm", "PATCH", f"/accounts/{account}", {"tax_id": "GB987654321"})
    fixed = engine_cli("redrive", "--all", "--reason", "missing-tax-registration", "--store", site.store,
                       "--token", TOKEN, *site.system_flags())
    assert (fixed.exit_code, fixed.stdout.strip()) == (0, "EXC-000001  RESOLVED")
    assert site.count("erp", "customers") == site.count("erp", "contracts") == site.count("psa", "projects") == 1

    again = engine_cli("redrive", "EXC-000001", "--store", site.store, *site.system_flags())
    assert again.exit_code == 2
    assert again.stderr.strip() == ("firmsim engine redrive: exception EXC-000001 is RESOLVED, "
                                    "only an OPEN one can be re-driven")


def test_a_replay_from_the_start_posts_nothing_twice(site: Site) -> None:
    site.won_deal(tax_id="GB123456789")
    site.run_workers()
    assert site.count("erp", "contracts") == site.count("psa", "projects") == 1

    replayed = engine_cli("replay", "--system", "crm", "--from", "0", "--store", site.store, "--token", TOKEN,
                          *site.system_flags())
    assert replayed.exit_code == 0, replayed.output
    assert " 0 applied, " in replayed.stdout and " 0 already applied" not in replayed.stdout
    assert site.count("erp", "customers") == site.count("erp", "contracts") == site.count("psa", "projects") == 1


def test_a_dead_letter_is_re_driven_once_the_bug_behind_it_is_fixed(site: Site) -> None:
    def handle_closed_won(message: SourceEvent, ports: Ports) -> None:
        raise RuntimeError("bug 123: KeyError 'practice'")

    buggy = [Flow(flow.name, {**flow.handlers, "crm.opportunity.closed_won": [handle_closed_won]},
                  flow.ordering_key) if flow.name == opportunity_to_project.FLOW.name else flow
             for flow in builtin_flows()]
    site.won_deal(tax_id="GB123456789")
    site.run_workers(buggy)
    listed = engine_cli("dead-letters", "--store", site.store)
    assert listed.exit_code == 0 and "DLQ-000001  OPEN" in listed.output and "unexpected-error" in listed.output
    assert site.count("erp", "contracts") == 0

    redriven = engine_cli("dead-letters", "--store", site.store, "redrive", "DLQ-000001", "--token", TOKEN,
                          *site.system_flags())
    assert redriven.exit_code == 0, redriven.output
    assert site.count("erp", "contracts") == site.count("psa", "projects") == 1
    [letter] = json.loads(engine_cli("dead-letters", "--store", site.store, "--json").stdout)
    assert letter["status"] == "REDRIVEN"
    again = engine_cli("dead-letters", "--store", site.store, "redrive", "DLQ-000001", *site.system_flags())
    assert again.exit_code == 2 and "only an OPEN one" in again.stderr


def test_a_malformed_event_re_driven_unchanged_fails_again(site: Site, tmp_path: Path) -> None:
    engine = bootstrap({"ledger": "sqlite", "ledger_path": site.store, "flows": builtin_flows()})
    engine.submit("crm", {"id": "crm-bad", "type": "crm.opportunity.closed_won"})
    engine.ports.ledger.close()
    result = engine_cli("dead-letters", "--store", site.store, "redrive", "DLQ-000001", *site.system_flags())
    assert result.exit_code == 1
    assert "failed again: DLQ-000002" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["exceptions", "--store", "nowhere.db"], "firmsim engine exceptions: --store: expected a ledger file"),
    (["exceptions", "--store", "postgresql://postgres@127.0.0.1:1/test"],
     "firmsim engine exceptions: --store: store_url: cannot reach PostgreSQL"),
    (["redrive", "--store", "{store}"], "give exception ids or --all"),
    (["redrive", "EXC-000001", "--all", "--store", "{store}"], "give exception ids or --all"),
    (["redrive", "EXC-000001", "--reason", "x", "--store", "{store}"], "--reason filters --all"),
    (["redrive", "EXC-000009", "--store", "{store}"], "no exception 'EXC-000009'"),
    (["redrive", "--all", "--store", "{store}", "--system", "crm=ftp://x"], "--system: expected name=http"),
    (["dead-letters", "--store", "{store}", "redrive", "DLQ-000009"], "no dead letter 'DLQ-000009'"),
    (["dead-letters", "redrive", "DLQ-000009", "--store", "{store}"], "no dead letter 'DLQ-000009'"),
    (["dead-letters", "redrive", "DLQ-000009"], "firmsim engine dead-letters redrive: Missing option '--store'"),
    (["dead-letters"], "firmsim engine dead-letters: Missing option '--store'"),
    (["replay", "--from", "0", "--store", "{store}", "--system", "crm=http://127.0.0.1:9"], "name the one feed"),
    (["replay", "--from", "0", "--store", "{store}", "--system", "psa"], "give psa=URL"),
    (["replay", "--store", "{store}", "--system", "psa"], "firmsim engine replay: Missing option '--from'"),
    (["exceptions"], "firmsim engine exceptions: Missing option '--store'"),
    (["redrive", "--all", "--store", "{store}", "--max-wait", "soon"], "Invalid value for '--max-wait'"),
    (["dead-letters", "--store", "{store}", "redrive"], "firmsim engine dead-letters redrive: Missing argument"),
])
def test_bad_input_is_named_in_one_line_with_exit_2(tmp_path: Path, args: list[str], message: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIRMSIM_STORE", raising=False)
    store = str(tmp_path / "ledger.db")
    bootstrap({"ledger": "sqlite", "ledger_path": store}).ports.ledger.close()
    result = engine_cli(*(arg.replace("{store}", store) for arg in args))
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_re_drive_that_names_one_bad_id_re_drives_none(tmp_path: Path) -> None:
    store = str(tmp_path / "ledger.db")
    ledger = bootstrap({"ledger": "sqlite", "ledger_path": store}).ports.ledger
    payload = {"system": "crm", "event": {}, "handler": opportunity_to_project.CLOSED_WON_HANDLER, "key": "deal:1"}
    for number in (1, 2):
        ledger.record_exception(flow="opportunity_to_project", key=f"deal:{number}", message_id=f"m{number}",
                                reason="missing-tax-registration", detail="", payload=payload, now=T0)
    ledger.resolve_exception("EXC-000002", T0)
    ledger.close()
    result = engine_cli("redrive", "EXC-000001", "EXC-000002", "--store", store, "--system", "crm=http://127.0.0.1:9")
    assert (result.exit_code, result.stderr.strip()) == (
        2, "firmsim engine redrive: exception EXC-000002 is RESOLVED, only an OPEN one can be re-driven")
    statuses = json.loads(engine_cli("exceptions", "--store", store, "--json").stdout)
    assert [item["status"] for item in statuses] == ["OPEN", "RESOLVED"]


def test_a_worker_following_a_clock_file_needs_the_clocks_epoch(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock.bin"
    clock_file.write_bytes(bytes(16))

    result = engine_cli("worker", "--bus", "amqp://guest:guest@127.0.0.1:1/", "--store",
                        "postgresql://nobody@127.0.0.1:1/none", "--system", "crm=http://127.0.0.1:9",
                        "--clock-file", str(clock_file))

    assert result.exit_code == 2
    assert "--clock-epoch" in result.output and "aware ISO 8601 instant" in result.output
