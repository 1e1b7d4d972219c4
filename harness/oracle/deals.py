"""Sold work reaching delivery and finance: one contract and one project per deal, one customer per
company, every system at the latest approved contract version.

A change order adding distinct services at their standalone selling price is a separate contract
(DOMAIN R5 branch 1; the ERP refuses it as a version and asks for a new contract): it must be one
ERP contract of its own, for its added price, of the deal's customer and dimensions, and the deal's
own contract stays at the latest change that was not one, its price net of the separate ones. The
CRM and the PSA project (which delivers both) stand at the latest version and the whole amount.
"""

from __future__ import annotations

from decimal import Decimal

from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.systems import Record, opportunity_of_contract, opportunity_of_project
from harness.oracle.truth_facts import Amendment, Deal
from harness.oracle.truth_view import TruthView
from harness.oracle.values import money_text, same_money

CONTRACT_DIMENSIONS = ("legal_entity", "currency", "billing_model")
PROJECT_DIMENSIONS = ("legal_entity", "currency", "billing_model", "practice")


def _ids(records: list[Record]) -> list[str]:
    return [str(record.get("id")) for record in records]


def customer_key_of(evidence: Evidence, customer: Record) -> str | None:
    """Return the real-world company (truth customer_key) an ERP customer stands for, via its CRM account."""
    account_id = customer.get("crm_account_id")
    if not account_id and customer.get("source_system") == "crm":
        account_id = customer.get("source_id")
    key = evidence.truth.customer_key_of(account_id)
    if key is not None:
        return key
    linked = {evidence.truth.customer_key_of(account.get("id"))
              for account in evidence.systems.crm.where("accounts", erp_customer_number=customer.get("id"))}
    linked.discard(None)
    return linked.pop() if len(linked) == 1 else None


def _check_contract(result: InvariantResult, evidence: Evidence, deal: Deal, contract: Record) -> None:
    for name in CONTRACT_DIMENSIONS:
        if contract.get(name) != getattr(deal, name):
            result.violate("erp", str(contract.get("id")), getattr(deal, name), contract.get(name),
                           f"contract of {deal.opportunity_id}: {name} differs from the deal")
    customer = evidence.systems.erp.get("customers", contract.get("customer_id"))
    key = None if customer is None else customer_key_of(evidence, customer)
    if key != deal.customer_key:
        result.violate("erp", str(contract.get("id")), f"a customer of {deal.customer_key}",
                       f"{contract.get('customer_id')} ({key or 'unknown company'})",
                       f"contract of {deal.opportunity_id} bills the wrong customer")
    _check_status(result, evidence, deal, contract)


def _check_status(result: InvariantResult, evidence: Evidence, deal: Deal, contract: Record) -> None:
    """A contract of a deal (its own, or a separate one of a change order) is active until the deal is cancelled."""
    cancellation = evidence.truth.cancellations.get(deal.opportunity_id)
    if cancellation is None:
        if contract.get("status") != "ACTIVE":
            result.violate("erp", str(contract.get("id")), "ACTIVE", contract.get("status"),
                           f"contract of {deal.opportunity_id} is not active, and the deal was not cancelled")
        return
    termination = contract.get("termination") or {}
    expected = ["TERMINATED", cancellation.effective.isoformat(), cancellation.unbilled_rule]
    actual = [contract.get("status"), termination.get("effective_date"), termination.get("unbilled_rule")]
    if actual != expected:
        result.violate("erp", str(contract.get("id")), expected, actual,
                       f"{deal.opportunity_id} was cancelled: contract status, effective date, unbilled rule")


def _check_project(result: InvariantResult, evidence: Evidence, deal: Deal, project: Record,
                   contract: Record | None) -> None:
    for name in PROJECT_DIMENSIONS:
        if project.get(name) != getattr(deal, name):
            result.violate("psa", str(project.get("id")), getattr(deal, name), project.get(name),
                           f"project of {deal.opportunity_id}: {name} differs from the deal")
    if contract is not None and project.get("erp_contract_id") != contract.get("id"):
        result.violate("psa", str(project.get("id")), contract.get("id"), project.get("erp_contract_id"),
                       f"project of {deal.opportunity_id} does not name its ERP contract")
    cancelled = deal.opportunity_id in evidence.truth.cancellations
    if cancelled != (project.get("status") == "CANCELLED"):
        result.violate("psa", str(project.get("id")), "CANCELLED" if cancelled else "not CANCELLED",
                       project.get("status"), f"project status of {deal.opportunity_id}")


def _check_write_back(result: InvariantResult, evidence: Evidence, deal: Deal, contract: Record | None,
                      project: Record | None) -> None:
    opportunity = evidence.systems.crm.get("opportunities", deal.opportunity_id)
    if opportunity is None:
        result.violate("crm", deal.opportunity_id, "the won opportunity", None, "opportunity missing from CRM")
        return
    expected = [None if contract is None else contract.get("id"), None if project is None else project.get("id")]
    actual = [opportunity.get("erp_contract_id"), opportunity.get("psa_project_id")]
    if actual != expected:
        result.violate("crm", deal.opportunity_id, expected, actual,
                       "opportunity does not link its ERP contract and PSA project [erp_contract_id, psa_project_id]")


def opportunity_to_project(evidence: Evidence) -> InvariantResult:
    """Every delivered deal has exactly one ERP contract and one PSA project with its dimensions; nothing else does."""
    result = InvariantResult("opportunity-to-project")
    systems = evidence.systems
    delivered = {deal.opportunity_id: deal for deal in evidence.truth.delivered_deals()}
    for deal in delivered.values():
        result.checked += 1
        contracts = systems.contracts_of(deal.opportunity_id)
        projects = systems.projects_of(deal.opportunity_id)
        if len(contracts) != 1:
            result.violate("erp", deal.opportunity_id, "1 contract", _ids(contracts),
                           f"won deal {deal.opportunity_id} has {len(contracts)} ERP contracts")
        if len(projects) != 1:
            result.violate("psa", deal.opportunity_id, "1 project", _ids(projects),
                           f"won deal {deal.opportunity_id} has {len(projects)} PSA projects")
        contract = contracts[0] if len(contracts) == 1 else None
        project = projects[0] if len(projects) == 1 else None
        if contract is not None:
            _check_contract(result, evidence, deal, contract)
        for separate in evidence.separate_contracts_of(deal):
            _check_status(result, evidence, deal, separate)
        if project is not None:
            _check_project(result, evidence, deal, project, contract)
        _check_write_back(result, evidence, deal, contract, project)
    separate = {amendment.amendment_id: deal.opportunity_id for deal in delivered.values()
                for amendment in evidence.truth.amendments_of(deal.opportunity_id) if is_separate(amendment)}
    for contract in systems.erp.all("contracts"):
        result.checked += 1
        opportunity_id = opportunity_of_contract(contract)
        amendment_id = systems.amendment_of_contract(contract)
        if amendment_id is not None and separate.get(amendment_id) != opportunity_id:
            result.violate("erp", str(contract.get("id")), "no contract", amendment_id,
                           f"contract booked from change order {amendment_id} of {opportunity_id}, which truth does "
                           "not record as a separate contract of that deal (distinct, at standalone price)")
        elif opportunity_id not in delivered:
            result.violate("erp", str(contract.get("id")), "no contract", opportunity_id,
                           _stray_reason(evidence, opportunity_id, "contract"))
    for project in systems.psa.all("projects"):
        result.checked += 1
        opportunity_id = opportunity_of_project(project)
        if opportunity_id not in delivered:
            result.violate("psa", str(project.get("id")), "no project", opportunity_id,
                           _stray_reason(evidence, opportunity_id, "project"))
    return result


def _stray_reason(evidence: Evidence, opportunity_id: str | None, what: str) -> str:
    truth = evidence.truth
    if opportunity_id is None:
        return f"{what} names no CRM opportunity"
    if opportunity_id in truth.lost:
        return f"{what} for lost deal {opportunity_id}"
    deal = truth.deals.get(opportunity_id)
    if deal is not None:
        return (f"{what} for {opportunity_id}, whose bad master data ({deal.expected_exception}) should have "
                "raised a business exception and was never fixed")
    return f"{what} for {opportunity_id}, which truth never won"


def no_duplicate_customers(evidence: Evidence) -> InvariantResult:
    """One ERP customer per company and legal entity; every CRM account of it linked to it."""
    result = InvariantResult("no-duplicate-customers")
    truth = evidence.truth
    groups: dict[tuple[str, str], list[Record]] = {}
    keys: dict[str, str] = {}
    for customer in evidence.systems.erp.all("customers"):
        result.checked += 1
        key = customer_key_of(evidence, customer)
        if key is None:
            result.violate("erp", str(customer.get("id")), "a customer traceable to a CRM account",
                           customer.get("crm_account_id"), "ERP customer names no CRM account truth knows")
            continue
        keys[str(customer.get("id"))] = key
        groups.setdefault((key, str(customer.get("legal_entity"))), []).append(customer)
    for (key, entity), customers in sorted(groups.items()):
        if len(customers) > 1:
            result.violate("erp", _ids(customers)[1], f"1 customer for {key} in {entity}", _ids(customers),
                           f"company {key} exists {len(customers)} times as an ERP customer of {entity}")
    billed_accounts = {deal.account_id for deal in truth.delivered_deals()}
    for deal in truth.delivered_deals():
        if (deal.customer_key, deal.legal_entity) not in groups:
            result.violate("erp", deal.account_id, f"a customer for {deal.customer_key} in {deal.legal_entity}",
                           None, f"no ERP customer for the company of won deal {deal.opportunity_id}")
    for account_id, fact in sorted(truth.accounts.items()):
        result.checked += 1
        account = evidence.systems.crm.get("accounts", account_id)
        link = None if account is None else account.get("erp_customer_number")
        if link is None:
            if account_id in billed_accounts:
                result.violate("crm", account_id, f"a link to the ERP customer of {fact.customer_key}", None,
                               "account with a won deal is not linked to its ERP customer")
            continue
        if keys.get(str(link)) != fact.customer_key:
            result.violate("crm", account_id, f"a customer of {fact.customer_key}",
                           f"{link} ({keys.get(str(link), 'unknown company')})",
                           "account is linked to another company's ERP customer")
    return result


def _same_amount(actual: object, expected: Decimal) -> bool:
    return actual is not None and same_money(actual, expected)


def is_separate(amendment: Amendment) -> bool:
    """Tell whether a change order is a separate contract (R5 branch 1: distinct, at standalone price)."""
    return amendment.distinct and amendment.priced_at_standalone


def own_contract_version(truth: TruthView, deal: Deal) -> tuple[int, Decimal]:
    """Return the version and price of the deal's own ERP contract: its latest change that is not a separate
    contract, and the deal's amount net of those that are."""
    version, amount = truth.latest_version(deal)
    amendments = truth.amendments_of(deal.opportunity_id)
    separate = [amendment for amendment in amendments if is_separate(amendment)]
    if not separate:
        return version, amount
    ordinary = [amendment.version for amendment in amendments if not is_separate(amendment)]
    return max(ordinary, default=1), amount - sum((amendment.amount_change for amendment in separate), Decimal(0))


def _check_version(result: InvariantResult, deal: Deal, system: str, record: Record | None,
                   fields: tuple[str, str], expected: tuple[int, Decimal]) -> None:
    if record is None:
        return
    result.checked += 1
    version_field, amount_field = fields
    actual = [record.get(version_field), record.get(amount_field)]
    if record.get(version_field) != expected[0] or not _same_amount(record.get(amount_field), expected[1]):
        result.violate(system, str(record.get("id")), [expected[0], money_text(expected[1])], actual,
                       f"{deal.opportunity_id} [{version_field}, {amount_field}] is not the latest approved "
                       "contract version" + (" net of its separate contracts" if system == "erp" else ""))


def _check_separate(result: InvariantResult, evidence: Evidence, deal: Deal, amendment: Amendment) -> None:
    result.checked += 1
    contracts = evidence.systems.change_contracts_of(amendment.amendment_id)
    if len(contracts) != 1:
        result.violate("erp", amendment.amendment_id, "1 contract", _ids(contracts),
                       f"change order {amendment.amendment_id} of {deal.opportunity_id} is a separate contract "
                       f"(distinct, at standalone price) and has {len(contracts)} ERP contracts")
        return
    contract = contracts[0]
    expected: dict[str, object] = {"source_version": amendment.version,
                                   "total_price": money_text(amendment.amount_change),
                                   **{name: getattr(deal, name) for name in CONTRACT_DIMENSIONS},
                                   "crm_opportunity_id": deal.opportunity_id}
    own = evidence.contract_of(deal)
    if own is not None:
        expected["customer_id"] = own.get("customer_id")
    wrong = [name for name, value in expected.items()
             if (not _same_amount(contract.get(name), amendment.amount_change) if name == "total_price"
                 else contract.get(name) != value)]
    if wrong:
        result.violate("erp", str(contract.get("id")), {name: expected[name] for name in wrong},
                       {name: contract.get(name) for name in wrong},
                       f"separate contract of change order {amendment.amendment_id} ({deal.opportunity_id}): "
                       f"{', '.join(wrong)} differ from the change order and its deal's contract")
    cap = (contract.get("billing_plan") or {}).get("cap_amount")
    if deal.billing_model == "CAPPED_TM" and not _same_amount(cap, amendment.amount_change):
        result.violate("erp", str(contract.get("id")), money_text(amendment.amount_change), cap,
                       f"cap of the separate contract of change order {amendment.amendment_id}")


def contract_versions_aligned(evidence: Evidence) -> InvariantResult:
    """CRM, ERP and PSA hold each deal at its latest approved contract version and amount."""
    result = InvariantResult("contract-versions-aligned")
    truth = evidence.truth
    for deal in truth.delivered_deals():
        latest = truth.latest_version(deal)
        _check_version(result, deal, "crm", evidence.systems.crm.get("opportunities", deal.opportunity_id),
                       ("contract_version", "contract_amount"), latest)
        _check_version(result, deal, "erp", evidence.contract_of(deal), ("source_version", "total_price"),
                       own_contract_version(truth, deal))
        _check_version(result, deal, "psa", evidence.project_of(deal), ("contract_version", "budget_amount"), latest)
        amendments = truth.amendments_of(deal.opportunity_id)
        for amendment in amendments:
            if is_separate(amendment):
                _check_separate(result, evidence, deal, amendment)
        contract = evidence.contract_of(deal)
        if deal.billing_model == "CAPPED_TM" and deal.cap_amount is not None and contract is not None:
            cap = deal.cap_amount + sum((a.amount_change for a in amendments if not is_separate(a)), Decimal(0))
            plan = contract.get("billing_plan") or {}
            if not _same_amount(plan.get("cap_amount"), cap):
                result.violate("erp", str(contract.get("id")), money_text(cap), plan.get("cap_amount"),
                               f"cap of {deal.opportunity_id} after its change orders (net of separate contracts)")
    return result
