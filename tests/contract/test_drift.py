"""The contracts bite: a PSA that drifted from what the engine relies on fails verification, readably."""

from __future__ import annotations

from click.testing import CliRunner

from harness.cli import main
from harness.local_systems import start_local_systems
from harness.pact_verification import verify_provider
from tests.contract.drift import drifted_psa

TOKEN = "firmsim-drift-token"


def test_a_renamed_field_and_a_changed_status_fail_exactly_the_interactions_that_rely_on_them() -> None:
    with start_local_systems(["psa"], TOKEN, middleware={"psa": drifted_psa}) as systems:
        report = verify_provider("psa", systems.url("psa"), TOKEN)

    failed = {result.interaction.description: result.mismatch for result in report.results if not result.ok}
    assert failed
    assert {description.split(" ", 1)[0] for description in failed} == {"createProject", "a"}
    created = [mismatch for description, mismatch in failed.items() if description.startswith("createProject")]
    assert all("Actual map is missing the following keys: id" in mismatch and "expected 201 but was 200" in mismatch
               for mismatch in created)
    events = [description for description in failed if description.startswith("a ")]
    assert events and all(description.startswith("a psa.time_entry.") for description in events)
    assert all("project_id" in failed[description] for description in events)
    assert sum(result.ok for result in report.results) > len(failed)


def test_contracts_verify_exits_1_and_prints_the_diff_of_a_drifted_sandbox() -> None:
    with start_local_systems(["psa"], TOKEN, middleware={"psa": drifted_psa}) as systems:
        result = CliRunner().invoke(main, ["contracts", "verify", "--provider", "psa", "--url", systems.url("psa"),
                                           "--token", TOKEN])

    assert result.exit_code == 1, result.output
    assert "MISMATCH  createProject on crm.opportunity.closed_won of a fixed-fee deal" in result.output
    assert "Mismatches:" in result.output
    assert "StatusMismatch: expected 201 but was 200" in result.output
