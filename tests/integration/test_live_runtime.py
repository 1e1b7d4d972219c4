"""The live runtime on real sockets: feeds polled on wall-clock time, signed webhooks over HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.server import SystemServers
from syncengine.bootstrap import EngineConfig, SystemConfig, bootstrap
from syncengine.flows import opportunity_to_project, time_expense_billing
from syncengine.intake.webhooks import signature
from syncengine.runtime.live import LiveRuntime
from tests.integration.live_firm import ENGINE_TOKEN, Firm, eventually, served_systems

SECRET = "live-webhook-secret"


@pytest.fixture
def systems() -> Iterator[SystemServers]:
    with served_systems() as servers:
        yield servers


def _runtime(systems: SystemServers, tmp_path: Path, **options: object) -> LiveRuntime:
    engine = bootstrap(EngineConfig(
        systems=tuple(SystemConfig(system.kind, base_url=system.base_url, token=ENGINE_TOKEN,
                                   client_id="firmsim", client_secret="firmsim-secret", webhook_secret=SECRET)
                      for system in systems.systems),
        ledger="sqlite", ledger_path=tmp_path / "ledger.db", virtual_latency=False,
        flows=(opportunity_to_project.FLOW, time_expense_billing.FLOW)))
    return LiveRuntime(engine, poll_interval_s=0.1, **options)  # type: ignore[arg-type]


def test_a_won_deal_becomes_a_project_and_its_approved_time_is_billed_once(
        systems: SystemServers, tmp_path: Path) -> None:
    with contextlib.closing(Firm({system.kind: system.base_url for system in systems.systems})) as firm:
        with _runtime(systems, tmp_path, workers=3) as runtime:
            opportunity_id = firm.win_deal()
            project = eventually(lambda: firm.project_of(opportunity_id))
            assert project["erp_contract_id"]
            worker = firm.staff(project["id"])
            entries = firm.approve_time(project["id"], worker, 12)
            assert runtime.wait_idle(quiet_s=0.5, timeout_s=30)
            assert firm.transactions_by_entry() == {entry: 1 for entry in entries}
            snapshot = runtime.snapshot()
        opportunity = firm.call("crm", "GET", f"/opportunities/{opportunity_id}")
    assert snapshot.exceptions == 0 and snapshot.dead_letters == 0
    assert snapshot.flows["time_expense_billing"].processed >= 12
    assert opportunity["psa_project_id"] == project["id"]


def test_webhooks_over_http_are_verified_and_a_bad_signature_is_refused(
        systems: SystemServers, tmp_path: Path) -> None:
    with _runtime(systems, tmp_path, webhook_port=0, poll=False) as runtime:
        url = runtime.webhook_url("crm")
        body = b'{"id": "evt-1", "type": "crm.account.created"}'
        good = {"Firmsim-Signature": signature(SECRET, int(runtime.engine.ports.clock.now().timestamp()), body)}
        assert httpx.post(url, content=body, headers=good).status_code == 202
        assert httpx.post(url, content=body, headers={"Firmsim-Signature": "t=1,v1=00"}).status_code == 401
        assert runtime.wait_idle(quiet_s=0.2, timeout_s=10)
        snapshot = runtime.snapshot()
    assert snapshot.rejected_signatures == 1
    assert snapshot.events_received == 1


def test_the_runtime_serves_the_engines_metrics_to_prometheus_while_it_runs(
        systems: SystemServers, tmp_path: Path) -> None:
    with _runtime(systems, tmp_path, poll=False, metrics_port=0) as runtime:
        url = runtime.metrics_url
        assert url is not None
        scraped = httpx.get(url).text
    assert "firmsim_engine_events_received_total 0.0" in scraped
    assert "firmsim_engine_runtime_idle 1.0" in scraped
    assert "firmsim_engine_sync_lag_seconds" in scraped
    with pytest.raises(httpx.TransportError):
        httpx.get(url)  # stopped with the runtime
