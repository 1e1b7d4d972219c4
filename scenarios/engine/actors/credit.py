"""Credit control: a new customer's payment terms and credit limit, set in the ERP after its first win.

The sync engine creates the ERP customer on the firm's standard terms. A few working days after a
customer's first deal is won, the credit controller sets its terms from the scenario's mix (larger
engagements, larger enterprises, negotiate longer terms) and, when the scenario gives
finance.credit_limit_months, a credit limit that covers the receivables the engagement should run up
on those terms: that many months of billing plus the terms, so a customer who pays late or is billed
a large milestone may go on credit hold at the monthly credit review (scenarios.engine.actors.finance).
"""

from __future__ import annotations

from collections.abc import Generator
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.state import Deal
from scenarios.engine.values import text, weighted

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
# How much longer than the scenario's mix a customer's terms run, by the size of its first engagement:
# the weight of each term is multiplied by (term / 30) ** tilt.
SIZE_TILT = ((Decimal(100000), -1.0), (Decimal(400000), 0.0), (None, 1.5))
LIMIT_UNIT = Decimal(5000)
LOOK_AFTER_DAYS = (1.0, 4.0)
LOOK_AGAIN_DAYS = 5.0
LOOKS = 4


def terms_for(rng: Any, mix: dict[str, float], amount: Decimal) -> int:
    """Return a customer's payment terms in days, drawn from the mix tilted by its engagement's size."""
    tilt = next(value for limit, value in SIZE_TILT if limit is None or amount < limit)
    return int(weighted(rng, {days: share * (int(days) / 30 or 0.5) ** tilt for days, share in mix.items()}))


def credit_limit(deal: Deal, terms_days: int, months_of_billing: float) -> Decimal:
    """Return a credit limit covering some months of the deal's billing plus its terms, in whole units."""
    plan = deal.plan
    months = max(Decimal(1), Decimal((plan.service_end - plan.service_start).days + 1) / Decimal("30.4"))
    monthly = plan.amount / months
    limit = monthly * (Decimal(str(months_of_billing)) + Decimal(terms_days) / 30)
    return max(LIMIT_UNIT, (limit / LIMIT_UNIT).to_integral_value(ROUND_CEILING) * LIMIT_UNIT)


def after_win(env: simpy.Environment, firm: Firm, deal: Deal) -> None:
    """Set up a newly won customer's terms and credit limit (once per CRM account and entity, and once
    per ERP customer: the divisions and duplicate accounts of a company share its ERP customer)."""
    mix = firm.params["finance"].get("payment_terms_mix")
    key = f"{deal.account.account_id}:{deal.plan.legal_entity}"
    if not mix or key in firm.credit_set_up:
        return
    firm.credit_set_up.add(key)
    env.process(_set_up(env, firm, deal, mix))


def _set_up(env: simpy.Environment, firm: Firm, deal: Deal, mix: dict[str, float]) -> Process:
    rng = firm.rng("credit")
    terms = terms_for(rng, mix, deal.plan.amount)
    months = firm.params["finance"].get("credit_limit_months")
    body: dict[str, Any] = {"payment_terms_days": terms}
    if months is not None:
        body["credit_limit"] = text(credit_limit(deal, terms, float(months)))
    yield firm.in_office_hours(rng.uniform(*LOOK_AFTER_DAYS), rng)
    for _ in range(LOOKS):
        # The customer the deal's ERP contract bills: a division or a duplicate CRM account is billed
        # as the company the ERP already knows, whose crm_account_id is another account's.
        found = yield from firm.call("erp", "GET", "/contracts", params={
            "crm_opportunity_id": deal.opportunity_id, "legal_entity": deal.plan.legal_entity})
        items = found.body.get("items", []) if found.ok else []
        if items:
            customer_id = items[0]["customer_id"]
            if f"customer:{customer_id}" in firm.credit_set_up:
                return  # the company's terms were set at an earlier win (another of its accounts)
            firm.credit_set_up.add(f"customer:{customer_id}")
            result = yield from firm.call("erp", "PATCH", f"/customers/{customer_id}", body=body,
                                          purpose="customer-credit")
            if result.ok:
                customer = result.body
                firm.note("finance", f"{customer['name']} ({customer_id}): net {terms}, credit limit "
                                     f"{customer['currency']} {body.get('credit_limit', 'none')}")
            return
        yield firm.in_office_hours(LOOK_AGAIN_DAYS, rng)
