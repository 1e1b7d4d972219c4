"""audit-trail-complete: every ERP posting names an existing source record and version."""

from __future__ import annotations

from harness.oracle.systems import SystemState
from tests.unit.harness.oracle.world import World, violations


def test_a_posting_without_its_source_version_is_caught(world: World) -> None:
    world.record("erp", "billable_transactions", "BTX-000003")["source_version"] = None

    result = world.check()["audit-trail-complete"]

    assert violations(result) == ["BTX-000003"]
    assert result.violations[0].message == "names no source record and version"


def test_a_posting_naming_a_revision_psa_never_had_is_caught(world: World) -> None:
    world.record("erp", "billable_transactions", "BTX-000001")["source_version"] = 2

    assert "later than TIM-000001's revision 1" in world.check()["audit-trail-complete"].violations[0].message


def test_a_posting_naming_an_unknown_source_is_caught(world: World) -> None:
    world.record("erp", "contracts", "CON-000003")["source_id"] = "OPP-000099"

    assert violations(world.check()["audit-trail-complete"]) == ["CON-000003"]


def test_an_invoice_line_without_a_source_is_caught(world: World) -> None:
    world.record("erp", "invoices", "INV-000003")["lines"][1]["source_id"] = None

    assert violations(world.check()["audit-trail-complete"]) == ["INV-000003/2"]


def test_an_invoice_line_billing_no_transaction_is_caught(world: World) -> None:
    world.record("erp", "invoices", "INV-000001")["lines"][0]["billable_transaction_id"] = "BTX-000099"

    result = world.check()["audit-trail-complete"]

    assert violations(result) == ["INV-000001/1"]
    assert result.violations[0].actual == "BTX-000099"


def test_a_completed_plan_milestone_must_name_its_psa_milestone(world: World) -> None:
    world.record("erp", "contracts", "CON-000002")["billing_plan"]["milestones"][1]["source_id"] = None

    assert violations(world.check()["audit-trail-complete"]) == ["CON-000002/M2"]


def test_a_source_id_is_looked_up_in_the_first_of_its_collections_that_holds_it() -> None:
    crm = SystemState("crm", "crm", {"opportunities": [{"id": "OPP-1", "name": "deal"}],
                                     "accounts": [{"id": "OPP-1", "name": "account"}, {"id": "ACC-1", "name": "a"}]})

    assert crm.first_of(("opportunities", "accounts"))["OPP-1"]["name"] == "deal"
    assert crm.first_of(("accounts", "opportunities"))["OPP-1"]["name"] == "account"
    assert crm.first_of(("opportunities", "accounts"))["ACC-1"]["name"] == "a"
    assert "ACC-2" not in crm.first_of(("opportunities", "accounts"))
