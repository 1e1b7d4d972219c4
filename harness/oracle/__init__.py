"""The oracle: invariants over truth and the four systems' end state.

`check(truth, states, engine_view)` recomputes what the systems should hold from truth alone, with
its own arithmetic (billing per line, ASC 606 in `asc606`), and returns one result per invariant id
of `model.INVARIANT_IDS`, in that order. It never imports the simulators' or the engine's code.

- truth: `scenarios.engine.truth.Truth` (or any iterable of its `Fact`s);
- states: the admin state exports (`GET /admin/state`) of crm, psa, hcm and erp, keyed by system
  name (or a list of exports);
- engine_view: {"exceptions": [...], "dead_letters": [...], "in_flight": n} as plain dicts (the
  ledger's ExceptionItem and DeadLetter fields; a dead letter is explained by an `explanation`
  field or an entry in "explained_dead_letters": {id: why}), or None for an engine that reports
  nothing, in which case `exceptions-surfaced` and `converged` check only what the systems show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import InvalidOperation
from typing import Any

from harness.gc_pause import gc_paused
from harness.oracle.audit import audit_trail_complete
from harness.oracle.billing import expenses_billed_exactly_once, time_billed_exactly_once
from harness.oracle.deals import contract_versions_aligned, no_duplicate_customers, opportunity_to_project
from harness.oracle.evidence import Evidence
from harness.oracle.milestones import milestones_billed_exactly_once
from harness.oracle.model import INVARIANT_IDS, InvariantResult
from harness.oracle.operations import converged, exceptions_surfaced
from harness.oracle.people import cost_rates_aligned, credit_status_aligned
from harness.oracle.receivables import ar_ties_out
from harness.oracle.revenue import revenue_matches_policy
from harness.oracle.systems import AmbiguousSystem, EngineView, Systems
from harness.oracle.truth_view import TruthView
from harness.oracle.values import BadValue
from scenarios.engine.truth import Fact

Invariant = Callable[[Evidence], InvariantResult]

INVARIANTS: dict[str, Invariant] = {
    "opportunity-to-project": opportunity_to_project,
    "no-duplicate-customers": no_duplicate_customers,
    "contract-versions-aligned": contract_versions_aligned,
    "time-billed-exactly-once": time_billed_exactly_once,
    "expenses-billed-exactly-once": expenses_billed_exactly_once,
    "milestones-billed-exactly-once": milestones_billed_exactly_once,
    "revenue-matches-policy": revenue_matches_policy,
    "ar-ties-out": ar_ties_out,
    "audit-trail-complete": audit_trail_complete,
    "cost-rates-aligned": cost_rates_aligned,
    "credit-status-aligned": credit_status_aligned,
    "exceptions-surfaced": exceptions_surfaced,
    "converged": converged,
}
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, InvalidOperation)


def _unchecked(invariant_id: str, system: str, error: Exception, what: str) -> InvariantResult:
    result = InvariantResult(invariant_id)
    result.violate(system, invariant_id, what, str(error), f"the oracle could not evaluate {invariant_id}: {error}")
    return result


def check(truth: Iterable[Fact], states: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
          engine_view: Mapping[str, Any] | None) -> list[InvariantResult]:
    """Check every invariant; return one result per id of INVARIANT_IDS, in that order."""
    with gc_paused():
        return _check(truth, states, engine_view)


def _check(truth: Iterable[Fact], states: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
           engine_view: Mapping[str, Any] | None) -> list[InvariantResult]:
    try:
        evidence = Evidence(TruthView(truth), Systems.from_exports(states), EngineView.read(engine_view))
    except BadValue as error:
        return [_unchecked(invariant_id, "truth", error, "readable truth facts") for invariant_id in INVARIANT_IDS]
    except AmbiguousSystem as error:
        return [_unchecked(invariant_id, "harness", error, "one system per kind") for invariant_id in INVARIANT_IDS]
    results = []
    for invariant_id in INVARIANT_IDS:
        try:
            result = INVARIANTS[invariant_id](evidence)
        except UNREADABLE as error:
            result = _unchecked(invariant_id, "oracle", error, "records the oracle can read")
        if result.checked == 0 and not result.violations:
            result.note("nothing in this run exercised this invariant (it passes vacuously)")
        results.append(result)
    return results
