"""Revenue matches policy: each contract's cumulative revenue at its legal entity's last revenue run,
recomputed from truth with the oracle's own ASC 606 calculator, to the cent.

Scope and tolerance:
- Compared: cumulative revenue to the end of the last run's period (so every earlier period is
  covered, since period revenue is the difference of cumulative figures), and, where the ERP
  states them, the contract asset, contract liability and unbilled receivable (R6) against its own
  billing to that date (invoices net of tax minus credit memos, dated on or before the period end).
- Reimbursable expenses on fixed-fee and retainer deals are not part of the fee: they are compared
  as a second stream of the contract (`PASS_THROUGH_EXPENSES`), whose revenue is the approved
  billable expenses (right to invoice) and whose position is set against the expense lines billed.
  Once approved they are an unconditional right, so unbilled ones are an unbilled receivable, never
  a contract asset, and billing them moves nothing in the fee's contract asset or liability (R6:
  only the fee's revenue and the fee's billing net to the contract asset or liability). An invoice
  line is an expense line when it bills an expense truth records on the deal.
- Tolerance: none. Both sides are rounded half up to the cent and must be equal.
- Periods after the last run are not yet run: nothing is expected of them. A deal with revenue
  expected at the last run and no ERP figure for it (or no ERP contract at all: named by its
  opportunity) is a violation; with nothing expected (e.g. not started) a missing figure is fine.
  A deal with several contracts of its own (not booked from a change order) is left to
  opportunity-to-project.
- Change orders that are separate contracts (distinct, at standalone price; R5 branch 1): each ERP
  contract booked from one is checked like any contract (its figure, its position) against
  `revenue_separate`, which measures it by its own billing model, price, cap and term from truth,
  with the placement of capped T&M postings taken from the ERP (validated by `capacity`, exact
  within one posting); the deal's own contract is measured without it.
- Inputs are the facts known before the run started: work approved later lands in a later run.
  Facts recorded less than truth_view.SETTLE before the run may still have been in flight: the
  figure without them is accepted too.
- Not checked (reported as notes): contracts truth cannot measure soundly - no estimate at
  completion yet, labour or expenses in another currency (truth has no FX rates), a change order
  accounted for as a separate contract on a cost-to-cost contract (truth does not say which
  hours belong to it), a cancellation effective by the period end, and what `revenue_separate`
  cannot measure of a separate contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from harness.oracle import asc606
from harness.oracle.asc606 import POLICY_OF_MODEL, CalculationGap, ModificationKind, Policy
from harness.oracle.evidence import Evidence
from harness.oracle.model import InvariantResult
from harness.oracle.revenue_inputs import (
    CONTRACT,
    PASS_THROUGH,
    Figure,
    approved_values,
    cost_to_cost_measure,
    erp_figures,
    estimates,
    expense_ids,
    expense_values,
    labour_costs,
    modifications,
    position_fields,
    retainer_terms,
)
from harness.oracle.revenue_separate import SEPARATE_POLICY, expected_separate, over_price, separate_contracts
from harness.oracle.systems import Record
from harness.oracle.truth_facts import Amendment, Deal, RevenueRun
from harness.oracle.values import ZERO, decimal, money_text, period_end


def expected_revenue(evidence: Evidence, deal: Deal, run: RevenueRun, before: int, stream: str = CONTRACT) -> Decimal:
    """Return a deal's cumulative revenue of a stream to the end of a run's period from the facts recorded before
    `before`.

    Raise CalculationGap when truth cannot determine it.
    """
    truth = evidence.truth
    as_of = period_end(run.period)
    cancellation = truth.cancellations.get(deal.opportunity_id)
    if cancellation is not None and cancellation.sequence < run.sequence and cancellation.effective <= as_of:
        raise CalculationGap(f"cancelled effective {cancellation.effective.isoformat()}; revenue on termination "
                             "is not modelled")
    if stream == PASS_THROUGH:
        return asc606.right_to_invoice(expense_values(truth, deal, before), as_of)
    changes = modifications(truth, deal, before)
    policy = POLICY_OF_MODEL[deal.billing_model]
    if policy is Policy.RIGHT_TO_INVOICE:
        capped = deal.billing_model == "CAPPED_TM"
        return asc606.right_to_invoice(approved_values(truth, deal, before), as_of,
                                       deal.cap_amount if capped else None, changes if capped else ())
    if policy is Policy.STRAIGHT_LINE:
        retainer, lump_sums = retainer_terms(truth, deal, before)
        return asc606.straight_line(retainer, as_of, lump_sums)
    if any(c.kind is ModificationKind.SEPARATE_CONTRACT and c.effective <= as_of for c in changes):
        raise CalculationGap("a change order is a separate contract and truth does not attribute its cost")
    return asc606.cost_to_cost(deal.amount, labour_costs(truth, deal, before), estimates(truth, deal, before), as_of,
                               changes)


def _billed(document: Record, expenses: frozenset[str], stream: str) -> Decimal:
    """Return the net billed on one stream by an invoice or credit memo."""
    passed_through = sum((decimal(line.get("net_amount", "0")) for line in document.get("lines") or []
                          if isinstance(line, dict) and line.get("source_system") == "psa"
                          and line.get("source_id") in expenses), ZERO)
    return passed_through if stream == PASS_THROUGH else decimal(document.get("net_total", "0")) - passed_through


def billed_to(evidence: Evidence, contract_id: str, as_of: date, expenses: frozenset[str] = frozenset(),
              stream: str = CONTRACT) -> Decimal:
    """Return what the ERP billed a contract's stream up to a date: invoices net of tax minus credit memos.

    `expenses` are the ids of the expenses passed through outside the fee: their lines are the
    PASS_THROUGH stream's billing and no part of the CONTRACT stream's.
    """
    erp = evidence.systems.erp
    cutoff = as_of.isoformat()
    invoiced = sum((_billed(i, expenses, stream) for i in erp.where("invoices", contract_id=contract_id)
                    if str(i.get("invoice_date", "")) <= cutoff), ZERO)
    credited = sum((_billed(c, expenses, stream) for c in erp.where("credit_memos", contract_id=contract_id)
                    if str(c.get("credit_date", "")) <= cutoff), ZERO)
    return invoiced - credited


Figures = dict[tuple[str, str, date], list[Figure]]


def _figure_at(figures: Figures, contract_id: str, stream: str, run: RevenueRun) -> Figure | None:
    found = figures.get((contract_id, stream, period_end(run.period)), [])
    of_run = [figure for figure in found if figure.run_id == run.revenue_run_id]
    if of_run:
        return of_run[-1]
    return found[-1] if found else None


def _check_contract(result: InvariantResult, evidence: Evidence, deal: Deal, contract: Record | None, run: RevenueRun,
                    figures: Figures) -> None:
    contract_id = deal.opportunity_id if contract is None else str(contract.get("id"))
    policy = POLICY_OF_MODEL[deal.billing_model]
    if contract is not None and contract.get("revenue_policy") not in (None, policy.value):
        result.violate("erp", contract_id, policy.value, contract.get("revenue_policy"),
                       f"{deal.billing_model} deal {deal.opportunity_id} recognized under another policy (truth "
                       "records no point-in-time deals)")
        return
    if policy is Policy.RIGHT_TO_INVOICE:
        _check_stream(result, evidence, deal, contract_id, run, figures, CONTRACT)
        return
    _check_stream(result, evidence, deal, contract_id, run, figures, CONTRACT, expense_ids(evidence.truth, deal))
    _check_stream(result, evidence, deal, contract_id, run, figures, PASS_THROUGH, expense_ids(evidence.truth, deal))


def _check_separate(result: InvariantResult, evidence: Evidence, deal: Deal, amendment: Amendment,
                    contract: Record, run: RevenueRun, figures: Figures) -> None:
    """Check a change order's separate contract: its own policy, price and term (`revenue_separate`)."""
    contract_id = str(contract.get("id"))
    policy = SEPARATE_POLICY[deal.billing_model]
    stated = contract.get("revenue_policy")
    if stated not in (None, policy.value):
        if deal.billing_model == "FIXED_FEE" and stated == Policy.COST_TO_COST.value:
            result.note(f"{contract_id} ({deal.opportunity_id}, separate contract of change order "
                        f"{amendment.amendment_id}) revenue not checked at {run.revenue_run_id}: measured by cost "
                        "to cost and truth does not attribute its cost")
        else:
            result.violate("erp", contract_id, policy.value, stated,
                           f"separate contract of change order {amendment.amendment_id} ({deal.billing_model}, "
                           f"{deal.opportunity_id}) recognized under another policy")
        return
    excess = over_price(evidence, deal, amendment, contract)
    if excess > 0:
        result.violate("erp", contract_id, f"at most {money_text(amendment.amount_change)}",
                       money_text(amendment.amount_change + excess),
                       f"completed milestones on the separate contract of change order {amendment.amendment_id} "
                       f"({deal.opportunity_id}) exceed its price")

    def expect(stream: str) -> Callable[[int], Decimal]:
        return lambda before: expected_separate(evidence, deal, amendment, contract, run, before, stream)

    expenses = expense_ids(evidence.truth, deal)
    if policy is Policy.RIGHT_TO_INVOICE:
        _check_stream(result, evidence, deal, contract_id, run, figures, CONTRACT, expect=expect(CONTRACT),
                      policy=policy)
        return
    for stream in (CONTRACT, PASS_THROUGH):
        _check_stream(result, evidence, deal, contract_id, run, figures, stream, expenses, expect(stream), policy)


def _check_stream(result: InvariantResult, evidence: Evidence, deal: Deal, contract_id: str, run: RevenueRun,
                  figures: Figures, stream: str, expenses: frozenset[str] = frozenset(),
                  expect: Callable[[int], Decimal] | None = None, policy: Policy | None = None) -> None:
    """Compare one stream's figure at a run with truth's (`expect`: by sequence; default the deal's own contract)."""
    measure = expect or (lambda before: expected_revenue(evidence, deal, run, before, stream))
    policy = Policy.RIGHT_TO_INVOICE if stream == PASS_THROUGH else policy or POLICY_OF_MODEL[deal.billing_model]
    what = "pass-through expense revenue" if stream == PASS_THROUGH else "revenue"
    try:
        expected = measure(run.sequence)
        settled = measure(evidence.truth.settled_before(run.sequence))
    except CalculationGap as gap:
        result.note(f"{contract_id} ({deal.opportunity_id}) {what} not checked at {run.revenue_run_id}: {gap}")
        return
    figure = _figure_at(figures, contract_id, stream, run)
    if stream == PASS_THROUGH and figure is None and expected == settled == 0:
        return  # no expenses to pass through: nothing to compare
    result.checked += 1
    as_of = period_end(run.period)
    if figure is None:
        if expected != 0 and settled != 0:
            result.violate("erp", contract_id, money_text(expected), None,
                           f"no {what} for {deal.opportunity_id} at run {run.revenue_run_id} ({run.period})")
        return
    if figure.cumulative_revenue == settled != expected:
        expected = settled
    if figure.cumulative_revenue != expected:
        also = "" if settled == expected else f" (or {money_text(settled)} without the facts still settling)"
        if policy is Policy.COST_TO_COST:
            stated = figure.measure
            also += (f"; {cost_to_cost_measure(evidence.truth, deal, run.sequence, as_of)}, ERP: cost "
                     f"{stated.get('cumulative_cost')} / EAC {stated.get('estimate_at_completion')}")
        result.violate("erp", figure.record_id, money_text(expected), money_text(figure.cumulative_revenue),
                       f"cumulative {what} of {contract_id} ({deal.billing_model}, {deal.opportunity_id}) to "
                       f"{as_of.isoformat()}{also}")
    stated_position = position_fields(figure)
    if stated_position:
        position = asc606.position(policy, expected, billed_to(evidence, contract_id, as_of, expenses, stream))
        wanted = {name: money_text(getattr(position, name)) for name in stated_position}
        actual = {name: money_text(value) for name, value in stated_position.items()}
        if wanted != actual:
            where = "" if stream == CONTRACT else " (pass-through expenses)"
            result.violate("erp", figure.record_id, wanted, actual,
                           f"contract position of {contract_id}{where} at {as_of.isoformat()} (R6)")


def revenue_matches_policy(evidence: Evidence) -> InvariantResult:
    """Each contract's revenue at its entity's last revenue run equals the oracle's ASC 606 figure."""
    result = InvariantResult("revenue-matches-policy")
    figures: Figures = {}
    for figure in erp_figures(evidence.systems.erp):
        figures.setdefault((figure.contract_id, figure.stream, figure.period_end), []).append(figure)
    delivered = evidence.truth.delivered_deals()
    for entity in sorted({deal.legal_entity for deal in delivered}):
        run = evidence.truth.last_revenue_run(entity)
        if run is None:
            result.note(f"no revenue run for {entity} in truth; its revenue is not checked")
            continue
        for deal in delivered:
            if deal.legal_entity != entity:
                continue
            if len(evidence.systems.contracts_of(deal.opportunity_id)) <= 1:
                _check_contract(result, evidence, deal, evidence.contract_of(deal), run, figures)
            for amendment, contract in separate_contracts(evidence, deal):
                _check_separate(result, evidence, deal, amendment, contract, run, figures)
    return result
