"""The engine's operational state: bad records surfaced as business exceptions, and nothing left behind.

exceptions-surfaced: each deal truth marks with an `expected_exception` (bad master data injected by
the scenario) raised exactly one business exception with that reason, and none with another; no
other record raised one. An exception is the deal's when it names the opportunity (in its key,
message id or payload), failing that the deal's account. Without an engine view only the systems
are checked: an unfixed bad deal reached neither ERP nor PSA, and no billing run reported an
exception that no injected bad record explains.

converged: nothing in flight; every dead letter explained (an `explanation` on it, or an entry in
the engine view's `explained_dead_letters`); no exception left open for a deal whose data was
fixed; and every approved record reached its target system: won deals their ERP contract and PSA
project with the CRM write-back, their accounts the ERP customer link, change orders the ERP and
PSA versions (a separate contract for each change order that is one), approved billable time and
expenses an ERP posting, completed milestones the ERP billing plan, hired workers a PSA resource.
"""

from __future__ import annotations

from harness.oracle.billing import expected_expenses, expected_time
from harness.oracle.deals import is_separate, own_contract_version
from harness.oracle.evidence import Evidence
from harness.oracle.milestones import plan_milestone
from harness.oracle.model import InvariantResult
from harness.oracle.systems import EngineView, Record, names
from harness.oracle.truth_facts import Deal

OPEN = "OPEN"
# Scenario bad-data kinds name the problem with underscores; engines report problem slugs. Besides
# the kind hyphenated, a currency that does not fit the entity is what the ERP calls it.
REASON_ALIASES = {"invalid-currency-for-entity": ("currency-not-allowed",)}


def expected_reasons(kind: str) -> tuple[str, ...]:
    """Return the exception reasons that surface a bad-data kind (e.g. missing_tax_registration)."""
    slug = kind.replace("_", "-")
    return (slug, *REASON_ALIASES.get(slug, ()))


def _reason_slug(problem_type: object) -> str:
    return str(problem_type or "").rstrip("/").rsplit("/", 1)[-1]


def _status(item: Record) -> str:
    return str(getattr(item.get("status"), "value", item.get("status")))


def _owned(evidence: Evidence, deal: Deal, exceptions: list[Record]) -> list[Record]:
    """Return the exceptions that name the deal (or, when none does, its account)."""
    mine = [item for item in exceptions if names(item, deal.opportunity_id)]
    return mine or [item for item in exceptions if names(item, deal.account_id)]


def _check_engine_exceptions(result: InvariantResult, evidence: Evidence, engine: EngineView, bad: list[Deal]) -> None:
    exceptions = engine.exceptions
    attributed: set[str] = set()
    for deal in bad:
        result.checked += 1
        owned = _owned(evidence, deal, exceptions)
        attributed.update(str(item.get("id")) for item in owned)
        reasons = expected_reasons(str(deal.expected_exception))
        expected = [item for item in owned if item.get("reason") in reasons]
        if len(expected) != 1:
            result.violate("engine", deal.opportunity_id, f"1 {reasons[0]} exception",
                           [item.get("id") for item in expected],
                           f"injected bad record {deal.opportunity_id} raised {len(expected)} {reasons[0]} exceptions")
        for item in owned:
            if item.get("reason") not in reasons:
                result.violate("engine", str(item.get("id")), deal.expected_exception, item.get("reason"),
                               f"bad record {deal.opportunity_id} raised an exception of another kind")
    for item in exceptions:
        if str(item.get("id")) not in attributed:
            result.checked += 1
            result.violate("engine", str(item.get("id")), "no business exception",
                           f"{item.get('reason')} on {item.get('key')} ({_status(item)})",
                           "business exception raised by a record the scenario did not make bad")


def _check_systems(result: InvariantResult, evidence: Evidence, bad: list[Deal]) -> None:
    truth, systems = evidence.truth, evidence.systems
    for deal in bad:
        if truth.reaches_systems(deal):
            continue
        result.checked += 1
        for system, records in (("erp", systems.contracts_of(deal.opportunity_id)),
                                ("psa", systems.projects_of(deal.opportunity_id))):
            for record in records:
                result.violate(system, str(record.get("id")), "nothing created", deal.opportunity_id,
                               f"bad record {deal.opportunity_id} ({deal.expected_exception}) went through instead "
                               "of raising an exception")
    explained = {(deal.opportunity_id, reason) for deal in bad
                 for reason in expected_reasons(str(deal.expected_exception))}
    for run in systems.erp.all("billing_runs"):
        for item in run.get("exceptions") or []:
            if not isinstance(item, dict):
                continue
            result.checked += 1
            contract = systems.erp.get("contracts", item.get("contract_id")) or {}
            opportunity = contract.get("crm_opportunity_id") or contract.get("source_id")
            slug = _reason_slug(item.get("type"))
            if (opportunity, slug) not in explained:
                result.violate("erp", str(run.get("id")), "no billing exception",
                               f"{slug} on {item.get('contract_id')}",
                               "billing run refused a contract that no injected bad record explains")


def exceptions_surfaced(evidence: Evidence) -> InvariantResult:
    """Each injected bad record raised exactly one business exception of its kind, and nothing else raised one."""
    result = InvariantResult("exceptions-surfaced")
    bad = [deal for deal in sorted(evidence.truth.deals.values(), key=lambda d: d.sequence) if deal.expected_exception]
    if evidence.engine is not None:
        _check_engine_exceptions(result, evidence, evidence.engine, bad)
    else:
        result.note("no engine view: only what the systems show is checked")
    _check_systems(result, evidence, bad)
    return result


def _check_engine(result: InvariantResult, evidence: Evidence, engine: EngineView) -> None:
    result.checked += 1
    if engine.in_flight:
        result.violate("engine", "in-flight", 0, engine.in_flight, "messages still in flight after the drain")
    for letter in engine.dead_letters:
        result.checked += 1
        letter_id = str(letter.get("id"))
        if not (letter.get("explanation") or engine.explanations.get(letter_id)):
            result.violate("engine", letter_id, "an explained dead letter", f"{letter.get('reason')} on "
                           f"{letter.get('key')}", f"unexplained dead letter: {letter.get('detail') or ''}".strip())
    for opportunity_id in sorted(evidence.truth.fixed):
        deal = evidence.truth.deals.get(opportunity_id)
        if deal is None or evidence.truth.rebooked(opportunity_id):
            continue
        for item in _owned(evidence, deal, engine.exceptions):
            if _status(item) == OPEN:
                result.violate("engine", str(item.get("id")), "RESOLVED", OPEN,
                               f"{opportunity_id}'s data was fixed but its exception was never re-driven")


def _missing(result: InvariantResult, system: str, record_id: str, what: str) -> None:
    result.violate(system, record_id, what, None, f"{record_id} never reached {system}: {what}")


def _check_deals(result: InvariantResult, evidence: Evidence) -> None:
    systems = evidence.systems
    for deal in evidence.truth.delivered_deals():
        result.checked += 1
        contract, project = evidence.contract_of(deal), evidence.project_of(deal)
        opportunity = systems.crm.get("opportunities", deal.opportunity_id) or {}
        account = systems.crm.get("accounts", deal.account_id) or {}
        version, _ = evidence.truth.latest_version(deal)
        own_version, _ = own_contract_version(evidence.truth, deal)
        if not systems.contracts_of(deal.opportunity_id):
            _missing(result, "erp", deal.opportunity_id, "a contract")
        elif contract is not None and int(contract.get("source_version") or 0) < own_version:
            _missing(result, "erp", deal.opportunity_id, f"contract version {own_version}")
        for amendment in evidence.truth.amendments_of(deal.opportunity_id):
            if is_separate(amendment) and not systems.change_contracts_of(amendment.amendment_id):
                _missing(result, "erp", deal.opportunity_id, f"the separate contract of change order "
                                                             f"{amendment.amendment_id} (version {amendment.version})")
        if not systems.projects_of(deal.opportunity_id):
            _missing(result, "psa", deal.opportunity_id, "a project")
        elif project is not None and int(project.get("contract_version") or 0) < version:
            _missing(result, "psa", deal.opportunity_id, f"contract version {version}")
        if not (opportunity.get("erp_contract_id") and opportunity.get("psa_project_id")):
            _missing(result, "crm", deal.opportunity_id, "the ERP contract and PSA project links")
        if not account.get("erp_customer_number"):
            _missing(result, "crm", deal.account_id, "the ERP customer link")


def _check_entries(result: InvariantResult, evidence: Evidence) -> None:
    posted = {(str(t.get("source_id")), t.get("source_version"))
              for t in evidence.systems.erp.all("billable_transactions")}
    for (entry_id, revision) in sorted({**expected_time(evidence).expected, **expected_expenses(evidence).expected}):
        result.checked += 1
        if (entry_id, revision) not in posted:
            _missing(result, "erp", f"{entry_id} revision {revision}", "a billable transaction")
    for milestone in evidence.truth.milestones.values():
        deal = evidence.truth.deals.get(milestone.opportunity_id)
        contract = None if deal is None else evidence.contract_of(deal)
        if deal is None or contract is None:
            continue
        result.checked += 1
        plans = [found for held in (contract, *evidence.separate_contracts_of(deal))
                 if (found := plan_milestone(held, milestone)) is not None]
        plan = plans[0] if plans else None
        if plan is None or plan.get("status") == "PLANNED":
            _missing(result, "erp", milestone.milestone_id, "its billing-plan milestone completed")
    for worker_id in sorted(evidence.truth.workers):
        result.checked += 1
        if evidence.systems.psa.get("resources", worker_id) is None and not evidence.systems.psa.where(
                "resources", worker_id=worker_id):
            _missing(result, "psa", worker_id, "a resource")


def converged(evidence: Evidence) -> InvariantResult:
    """Nothing in flight, dead letters explained, every approved record at its target."""
    result = InvariantResult("converged")
    if evidence.engine is not None:
        _check_engine(result, evidence, evidence.engine)
    else:
        result.note("no engine view: in-flight work and dead letters are not checked")
    _check_deals(result, evidence)
    _check_entries(result, evidence)
    return result
