"""Change orders: an approved CRM amendment becomes the next ERP contract version and PSA budget.

Events `crm.amendment.approved` and `crm.opportunity.updated` (approving an amendment emits both,
the second carrying the opportunity's terms at the new contract version), ordering key
`contract:<opportunity id>`. Version-aware: the ledger keeps the contract version applied per deal
(`contract:<opportunity id>`); a version not newer than it is skipped (and tracked as processed),
so whatever order the events arrive in, an older version never overwrites a newer one and a
duplicate changes nothing (v3 before v2: v3 is applied, v2 skipped). The ERP refuses a stale
version itself (409 `stale-version`): taken as "already applied" when the ERP stands at exactly
this version (an earlier attempt got through), as "superseded" when it stands higher.

Applying version N: `addContractVersion` (total price, billing plan at N - its estimate at completion
the contract's own once the PSA's project manager has given one -, effective date, ASC 606
flags), `setProjectBudget` for N, and for a fixed fee the PSA milestones the change order added,
linked to the ERP plan's; on a cost-to-cost contract, a change taking effect after the 1st of a month
also posts the project's cost to the day before it (`cost_actuals.post_cost_through`). A change
adding distinct services at their standalone price is a separate contract (R5 branch 1): booked
with `createContract` by `separate_contracts`, the deal's own contract untouched, and a later
ordinary version of it net of every separate change. Until the deal's contract and project exist
the message waits (a transient failure, retried with backoff) - unless the deal is parked in the
exception queue: then its re-drive catches up with the CRM's current version (`catch_up`), and
this message is done.
"""

from __future__ import annotations

from datetime import timedelta

from syncengine.domain.deal_rules import terms_problem
from syncengine.domain.deals import WON, ChangeOrder, ContractTerms, Deal
from syncengine.domain.errors import BusinessException, ConflictFailure, PermanentFailure, PoisonMessage
from syncengine.domain.messages import SourceEvent
from syncengine.flows import cost_actuals, separate_contracts
from syncengine.flows.deal_support import (
    ERP,
    PSA,
    applied_contract_version,
    contract_ordering_key,
    deal_exception,
    ensure_psa_milestones,
    failure_slug,
    link_erp_milestones,
    not_synced_yet,
    post_keyed,
    record_contract_version,
    refusals_as_exceptions,
    synced_deal,
)
from syncengine.flows.time_expense_billing import contract_fact
from syncengine.ledger.records import ExceptionStatus
from syncengine.mapping import crm, erp_deals, psa_deals
from syncengine.mapping.tables import default_tables
from syncengine.ports import Ports
from syncengine.runtime.registry import Flow

APPROVED = "APPROVED"


def handle_amendment_approved(message: SourceEvent, ports: Ports) -> None:
    """Apply the contract version an approved amendment made, unless a newer one is applied already."""
    change = crm.change_order_from_amendment(message.data)
    if change.status != APPROVED or change.contract_version is None:
        raise PoisonMessage("unexpected-status", f"{message.message_id}: amendment {change.amendment_id} is "
                                                 f"{change.status} without a contract version")
    if not is_newer(ports, change.opportunity_id, change.contract_version):
        return
    deal = crm.deal_from_opportunity(ports.client(message.system).get(f"/opportunities/{change.opportunity_id}").body)
    if deal.terms is None or deal.terms.version != change.contract_version:
        # The CRM moved on since: the opportunity's update event of this version carries its terms.
        return
    with refusals_as_exceptions():
        apply_contract_version(deal, deal.terms, change, message, ports)


def handle_opportunity_updated(message: SourceEvent, ports: Ports) -> None:
    """Apply the contract version an opportunity update carries, unless it is not newer than the applied one."""
    deal = crm.deal_from_opportunity(message.data)
    terms = deal.terms
    if deal.status != WON or terms is None or terms.version <= 1:
        return
    if not is_newer(ports, deal.opportunity_id, terms.version):
        return
    change = approved_change(deal.opportunity_id, terms.version, message, ports)
    with refusals_as_exceptions():
        apply_contract_version(deal, terms, change, message, ports)


def catch_up(opportunity_id: str, message: SourceEvent, ports: Ports) -> None:
    """Bring a just-synced deal to the CRM's current contract version (it was parked while it changed)."""
    deal = crm.deal_from_opportunity(ports.client(message.system).get(f"/opportunities/{opportunity_id}").body)
    terms = deal.terms
    if deal.status != WON or terms is None or not is_newer(ports, opportunity_id, terms.version):
        return
    apply_contract_version(deal, terms, approved_change(opportunity_id, terms.version, message, ports), message,
                           ports)


def is_newer(ports: Ports, opportunity_id: str, version: int) -> bool:
    """Tell whether a contract version is newer than the one applied for the deal."""
    applied = applied_contract_version(ports, opportunity_id)
    return applied is None or version > applied


def approved_change(opportunity_id: str, version: int, message: SourceEvent, ports: Ports) -> ChangeOrder:
    """Return the approved amendment that made a contract version."""
    params = {"opportunity_id": opportunity_id, "status": APPROVED}
    for item in ports.client(message.system).pages("/amendments", params):
        change = crm.change_order_from_amendment(item)
        if change.contract_version == version:
            return change
    raise PermanentFailure("amendment-not-found", f"{opportunity_id} stands at contract version {version} but no "
                                                  f"approved amendment made it")


def apply_contract_version(deal: Deal, terms: ContractTerms, change: ChangeOrder, message: SourceEvent,
                           ports: Ports) -> None:
    """Bring the deal's ERP contract and PSA budget to the terms' version."""
    problem = terms_problem(deal)
    if problem is not None:
        raise BusinessException("inconsistent-deal-terms", problem)
    links = synced_deal(ports, deal.opportunity_id)
    if links is None:
        if deal_exception(ports, deal.opportunity_id, ExceptionStatus.OPEN) is not None:
            return  # parked on bad master data: its re-drive catches up with this version
        raise not_synced_yet(deal.opportunity_id)
    contract_id, project_id = links
    changes = separate_contracts.approved_changes(ports, message, deal.opportunity_id, terms.version)
    separate_contracts.ensure_separate_contracts(deal, terms, changes, contract_id, project_id, message, ports)
    if not change.separate_contract:
        own_terms = separate_contracts.main_terms(deal, terms, changes)
        if not post_contract_version(deal, own_terms, change, (contract_id, project_id), message, ports):
            return  # a newer version reached the ERP first; its own message brings the PSA along
        link_erp_milestones(ports, deal.opportunity_id, contract_id, own_terms)
    psa = ports.client(PSA)
    psa.put(f"/projects/{project_id}/budget", psa_deals.budget_body(terms, deal.currency, change.effective_date))
    ensure_psa_milestones(ports, message, deal.opportunity_id, deal.currency, terms, project_id,
                          fresh_project=False)
    if not change.separate_contract:
        post_cost_to_eve(change, contract_id, project_id, message, ports)
    record_contract_version(ports, deal.opportunity_id, terms.version)


def post_cost_to_eve(change: ChangeOrder, contract_id: str, project_id: str, message: SourceEvent,
                     ports: Ports) -> None:
    """Post a cost-to-cost contract's cost to the day before a change order taking effect inside a month.

    The ERP measures the modification on the cost to that day (R5): a prospective change closes the
    old terms on the work done under them, a catch-up remeasures it. The month's own figure would
    count the days since the month began against the new terms; a change on the 1st needs nothing.
    """
    eve = change.effective_date - timedelta(days=1)
    if eve.month == change.effective_date.month and contract_fact(ports, contract_id, "cost-to-cost"):
        cost_actuals.post_cost_through(message, ports, PSA, project_id, contract_id, eve)


def post_contract_version(deal: Deal, terms: ContractTerms, change: ChangeOrder, links: tuple[str, str],
                          message: SourceEvent, ports: Ports) -> bool:
    """Post the deal's contract at the terms' version; False when the ERP already stands at a newer one.

    The estimate at completion is the project manager's once the PSA has given one (the cost-actuals
    flow posts it): the version then keeps the contract's, and the PM's next estimate revises it. A
    planning figure from the terms (hours x standard cost) would replace the PM's from the change's
    date on - for the rest of the month, or longer if the PM does not estimate again.
    """
    contract_id, project_id = links
    tables = default_tables()
    body = erp_deals.contract_version_body(deal, terms, change, billing=tables.billing(deal.billing_model),
                                           tables=tables)
    erp = ports.client(ERP)
    if "eac" in body["billing_plan"] and ports.ledger.applied_version(
            cost_actuals.estimate_key(PSA, project_id)) is not None:
        body["billing_plan"]["eac"] = erp.get(f"/contracts/{contract_id}").body["billing_plan"]["eac"]
    try:
        post_keyed(erp, f"/contracts/{contract_id}/versions", body, message, ports, "erp-contract-version")
    except ConflictFailure as error:
        if failure_slug(error) != "stale-version":
            raise
        standing = int(erp.get(f"/contracts/{contract_id}").body["source_version"])
        if standing > terms.version:
            return False
    return True


HANDLERS = {
    "crm.amendment.approved": [handle_amendment_approved],
    "crm.opportunity.updated": [handle_opportunity_updated],
}
FLOW = Flow("change_orders", HANDLERS, ordering_key=contract_ordering_key)
