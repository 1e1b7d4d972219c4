"""A project's contract and a contract's facts are read from the ledger once, and kept only once committed."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from syncengine.flows.contract_lookup import contract_currency, contract_fact, contract_of_project, forget
from syncengine.ledger import InMemoryLedger
from syncengine.ports import Ports


class Boom(Exception):
    pass


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 3, 2, tzinfo=UTC)


class CountingLedger(InMemoryLedger):
    """An in-memory ledger that counts its reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def canonical_key(self, kind: str, system: str, external_id: str) -> str | None:
        self.reads += 1
        return super().canonical_key(kind, system, external_id)

    def applied_version(self, key: str) -> int | None:
        self.reads += 1
        return super().applied_version(key)


@pytest.fixture
def ledger() -> CountingLedger:
    ledger = CountingLedger()
    ledger.link("project", "psa", "PRJ-000001", "deal:OPP-000001")
    ledger.link("contract", "erp", "CON-000001", "deal:OPP-000001")
    ledger.set_applied_version("contract-cost-to-cost:CON-000001", 0)
    return ledger


def test_a_projects_contract_and_its_facts_are_read_from_the_ledger_once(ledger: CountingLedger) -> None:
    ports = Ports(ledger, {}, FixedClock())
    for _ in range(3):
        with ledger.unit_of_work():
            assert contract_of_project(ports, "psa", "PRJ-000001") == "CON-000001"
            assert not contract_fact(ports, "CON-000001", "cost-to-cost")
    assert ledger.reads == 2
    assert contract_of_project(Ports(CountingLedger(), {}, FixedClock()), "psa", "PRJ-000001") is None, \
        "what one ledger holds is not another's"


def test_a_link_read_in_a_unit_of_work_that_rolled_back_is_not_kept() -> None:
    ledger = CountingLedger()
    ports = Ports(ledger, {}, FixedClock())
    with pytest.raises(Boom), ledger.unit_of_work():
        ledger.link("project", "psa", "PRJ-000002", "deal:OPP-000002")
        ledger.link("contract", "erp", "CON-000002", "deal:OPP-000002")
        assert contract_of_project(ports, "psa", "PRJ-000002") == "CON-000002"
        raise Boom
    assert contract_of_project(ports, "psa", "PRJ-000002") is None
    assert contract_of_project(ports, "psa", "PRJ-000003") is None
    ledger.link("project", "psa", "PRJ-000003", "deal:OPP-000003")
    ledger.link("contract", "erp", "CON-000003", "deal:OPP-000003")
    assert contract_of_project(ports, "psa", "PRJ-000003") == "CON-000003", "an unknown project is not kept"


class ContractReads:
    """An ERP client stand-in that answers getContract and counts the reads."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def get(self, path: str, params: object = None) -> SimpleNamespace:
        self.reads.append(path)
        contract_id = path.rsplit("/", 1)[-1]
        return SimpleNamespace(body={
            "id": contract_id, "version": 1, "customer_id": "CUS-000001", "billing_model": "FIXED_FEE",
            "revenue_policy": "COST_TO_COST", "currency": "GBP", "status": "ACTIVE", "billing_plan": {"milestones": []},
            "termination": None})


def test_a_contracts_currency_is_read_from_the_erp_once_per_ledger() -> None:
    erp = ContractReads()
    ledger = InMemoryLedger()
    ports = Ports(ledger, cast(Any, {"erp": erp}), FixedClock())
    for _ in range(3):
        with ledger.unit_of_work():
            assert contract_currency(ports, "CON-000001") == "GBP"
    assert erp.reads == ["/contracts/CON-000001"]
    assert contract_currency(Ports(InMemoryLedger(), cast(Any, {"erp": erp}), FixedClock()), "CON-000001") == "GBP"
    assert len(erp.reads) == 2, "what one ledger keeps is not another's"


def test_a_ledger_forgotten_reads_again_as_an_engine_restarted_on_it_would() -> None:
    erp = ContractReads()
    ledger = InMemoryLedger()
    ports = Ports(ledger, cast(Any, {"erp": erp}), FixedClock())
    contract_currency(ports, "CON-000001")
    forget(ledger)
    contract_currency(ports, "CON-000001")
    assert erp.reads == ["/contracts/CON-000001"] * 2
