"""After the win: change orders, cancellations, and bad master data entered by mistake and fixed later.

A change order is drafted in the CRM partway through delivery, submitted, and approved by the
customer a few days later (a few are turned down); approved, it becomes the deal's next contract
version and moves the project's end. A cancellation is recorded on a Friday evening with the
scenario's rule for unbilled work. Bad master data is entered on deals that close won: a missing
tax registration is fixed on the account after `fix_after_days`; a wrong practice or a currency the
entity cannot bill in cannot be edited on a closed deal, so sales operations cancel the deal and
book it again correctly.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors import staffing
from scenarios.engine.actors.accounts import new_company, tax_id_for
from scenarios.engine.actors.delivery import schedule_milestones
from scenarios.engine.clock import DAY, HOUR
from scenarios.engine.plan import Milestone
from scenarios.engine.state import Deal
from scenarios.engine.values import (
    add_months,
    chance,
    money,
    month_end,
    next_monday,
    pick,
    text,
    whole,
    workday_on_or_after,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
BAD_PRACTICE = "DIGITAL"
WRONG_CURRENCY = {"US01": "EUR", "UK01": "USD", "DE01": "USD"}
CROSS_BORDER = {"UK01": ("DE", "FR", "NL"), "DE01": ("GB", "FR", "NL")}
CHANGE_SCOPES = ("Additional workstream requested by the customer", "Extended testing and hypercare",
                 "Two more business units in scope", "Data migration of legacy archives",
                 "Extra site roll-out", "Change in regulatory requirements")
CANCEL_REASONS = ("Customer budget withdrawn", "Customer reorganisation", "Programme stopped by the board")


def _moment_in_service(firm: Firm, deal: Deal, low: float, high: float) -> date:
    rng = firm.rng("changes")
    start, end = deal.plan.service_start, deal.end
    day = start + timedelta(days=int((end - start).days * rng.uniform(low, high)))
    return workday_on_or_after(day)


def _change_terms(firm: Firm, deal: Deal) -> tuple[dict[str, Any], date, list[Milestone]]:
    rng = firm.rng("changes")
    settings = firm.params["change_orders"]
    plan = deal.plan
    size = rng.uniform(float(settings["size"]["min"]), float(settings["size"]["max"]))
    weekly_hours = sum((slot.hours_per_week for slot in plan.slots), Decimal(0))
    weekly_value = sum((plan.rate(slot.role) * slot.hours_per_week for slot in plan.slots), Decimal(0))
    body: dict[str, Any] = {"opportunity_id": deal.opportunity_id, "effective_date": firm.today.isoformat(),
                            "description": pick(rng, CHANGE_SCOPES)}
    milestones: list[Milestone] = []
    if plan.billing_model == "RETAINER" and plan.monthly_fee is not None:
        months = max(1, round(size * max(1, plan.weeks / 4.345)))
        new_end = month_end(add_months(deal.end, months))
        change = money(plan.monthly_fee * months)
        hours = weekly_hours * Decimal(months) * Decimal("4.345")
    else:
        change = max(Decimal(1000), whole(deal.contract_amount * Decimal(str(size)), 100))
        weeks = max(1, round(float(change / weekly_value))) if weekly_value else 2
        new_end = deal.end + timedelta(days=7 * weeks)
        hours = weekly_hours * weeks
        if plan.billing_model == "FIXED_FEE":
            milestones = [Milestone(f"Change order {deal.contract_version}", change, new_end, True)]
            body["billing_milestones"] = [milestone.to_api() for milestone in milestones]
    distinct = chance(rng, float(settings["distinct_rate"]))
    body.update(amount_change=text(change), hours_change=text(min(hours, Decimal("99999"))), distinct=distinct,
                priced_at_standalone=distinct and chance(rng, float(settings["standalone_price_rate"])),
                new_service_end=new_end.isoformat())
    return body, new_end, milestones


def change_order(env: simpy.Environment, firm: Firm, deal: Deal) -> Process:
    """Draft, submit and get approved (or turned down) one change order partway through delivery."""
    rng = firm.rng("changes")
    yield firm.until(_moment_in_service(firm, deal, 0.15, 0.6), 11)
    project = deal.project
    if deal.status != "WON" or project is None or project.status != "ACTIVE" or firm.today > firm.period_end:
        return
    body, new_end, milestones = _change_terms(firm, deal)
    drafted = yield from firm.call("crm", "POST", "/amendments", body=body, purpose="amendment")
    if not drafted.ok:
        return
    path = f"/amendments/{drafted.body['id']}"
    submitted = yield from firm.call("crm", "POST", f"{path}/submit", purpose="amendment-submit")
    if not submitted.ok:
        return
    yield firm.until(workday_on_or_after(firm.today + timedelta(days=rng.choice((1, 2, 3, 5)))),
                     9 + 8 * rng.random())
    if chance(rng, 0.1):
        yield from firm.call("crm", "POST", f"{path}/reject", body={"reason": "Customer declined the quote"},
                             purpose="amendment-reject")
        firm.note("sales", f"change order {drafted.body['id']} on {deal.opportunity_id} turned down")
        return
    approved = yield from firm.call("crm", "POST", f"{path}/approve", purpose="amendment-approve")
    if not approved.ok or deal.status != "WON":
        return
    amendment = approved.body
    old_end = deal.end
    deal.contract_version = int(amendment["contract_version"])
    deal.contract_amount = money(amendment["contract_amount"])
    deal.service_end = new_end
    first_new = len(deal.milestones)
    deal.milestones.extend(milestones)
    firm.record("contract_amended", opportunity_id=deal.opportunity_id, amendment_id=amendment["id"],
                contract_version=deal.contract_version, contract_amount=text(deal.contract_amount),
                amount_change=body["amount_change"], effective_date=body["effective_date"],
                distinct=body["distinct"], priced_at_standalone=body["priced_at_standalone"])
    firm.note("sales", f"change order {amendment['id']} on {deal.opportunity_id}: +{body['amount_change']} "
                       f"{deal.plan.currency}, to {new_end} (contract v{deal.contract_version})")
    yield from staffing.extend(firm, project, old_end, new_end)
    if milestones:
        schedule_milestones(firm, project, first_new)


def cancellation(env: simpy.Environment, firm: Firm, deal: Deal) -> Process:
    """Record a customer's cancellation of a deal in delivery, effective the Friday it is called."""
    day = _moment_in_service(firm, deal, 0.1, 0.5)
    friday = next_monday(day) - timedelta(days=3)
    yield firm.until(max(friday, firm.today), 19)
    if deal.status != "WON" or firm.today > firm.period_end:
        return
    rule = str(firm.params["cancellations"]["unbilled_rule"])
    yield from cancel(firm, deal, firm.today, rule, pick(firm.rng("changes"), CANCEL_REASONS))


def cancel(firm: Firm, deal: Deal, effective: date, rule: str, reason: str) -> Process:
    """Cancel a won deal in the CRM, record it and stop its work."""
    body = {"effective_date": effective.isoformat(), "unbilled_rule": rule, "reason": reason}
    result = yield from firm.call("crm", "POST", f"/opportunities/{deal.opportunity_id}/cancel", body=body,
                                  purpose="opportunity-cancel")
    if not result.ok:
        return
    deal.status, deal.cancelled_on = "CANCELLED", effective
    firm.record("deal_cancelled", opportunity_id=deal.opportunity_id, effective_date=effective.isoformat(),
                unbilled_rule=rule)
    firm.note("sales", f"{deal.opportunity_id} ({deal.account.name}) cancelled from {effective}: {reason}")
    if deal.project is not None:
        yield from staffing.stop(firm, deal.project, effective)
        deal.project.status = "CANCELLED"


def after_win(env: simpy.Environment, firm: Firm, deal: Deal) -> None:
    """Start what may happen to a deal in delivery: a change order, a cancellation, a master-data fix."""
    rng = firm.rng("changes")
    if deal.expected_exception is not None:
        env.process(fix_master_data(env, firm, deal))
        return
    if chance(rng, float(firm.params["change_orders"]["rate"])):
        env.process(change_order(env, firm, deal))
    if chance(rng, float(firm.params["cancellations"]["rate"])):
        env.process(cancellation(env, firm, deal))


def _bad_deal(firm: Firm, kind: str) -> Process:
    from scenarios.engine.actors.sales import make_plan

    rng = firm.rng("bad-data")
    entities = list(firm.params["firm"]["legal_entities"])
    vat_entities = [entity for entity in entities if entity in CROSS_BORDER] or entities
    entity = pick(rng, vat_entities if kind == "missing_tax_registration" else entities)
    start = firm.today + timedelta(days=int(rng.uniform(10, 21)))
    if kind == "unknown_practice":
        plan = make_plan(firm, entity, start, practice=BAD_PRACTICE)
    elif kind == "invalid_currency_for_entity":
        plan = make_plan(firm, entity, start, currency=WRONG_CURRENCY[entity])
    else:
        plan = make_plan(firm, entity, start)
    country = pick(rng, CROSS_BORDER.get(entity, ("GB",))) if kind == "missing_tax_registration" else {
        "US01": "US", "UK01": "GB", "DE01": "DE"}[entity]
    account = yield from new_company(firm, country, with_tax_id=kind != "missing_tax_registration")
    if account is None:
        return None
    return Deal("", account, plan, rep=pick(rng, [w.worker_id for w in firm.roster.active(firm.today)]),
                expected_exception=kind)


def _inject(env: simpy.Environment, firm: Firm, kind: str, when: float) -> Process:
    from scenarios.engine.actors.sales import close_fast

    yield env.timeout(max(0.0, when - float(env.now)))
    deal = yield from _bad_deal(firm, kind)
    if deal is not None:
        yield from close_fast(env, firm, deal, firm.today)


def inject_bad_master_data(env: simpy.Environment, firm: Firm) -> None:
    """Enter the scenario's bad master data on deals that close won in the first half of the period."""
    rng = firm.rng("bad-data")
    first, last = firm.at(firm.period_start, 9), firm.at(firm.period_end, 17)
    for item in firm.params["bad_master_data"]:
        for _ in range(int(item["count"])):
            env.process(_inject(env, firm, item["kind"], first + rng.uniform(0.0, 0.5) * (last - first)))


def fix_master_data(env: simpy.Environment, firm: Firm, deal: Deal) -> Process:
    """Fix a bad deal's master data after the scenario's delay: the account, or a cancel-and-rebook."""
    kind = str(deal.expected_exception)
    settings = next(item for item in firm.params["bad_master_data"] if item["kind"] == kind)
    yield env.timeout(float(settings.get("fix_after_days", 3)) * DAY)
    yield env.timeout(max(0.0, firm.at(firm.today, 10) - float(env.now)))
    account = deal.account
    if kind == "missing_tax_registration":
        tax_id = tax_id_for(firm, account.country, always=True)
        result = yield from firm.call("crm", "PATCH", f"/accounts/{account.account_id}", body={"tax_id": tax_id})
        if not result.ok:
            return
        account.tax_id = tax_id
        firm.record("master_data_fixed", opportunity_id=deal.opportunity_id, account_id=account.account_id,
                    kind=kind)
        firm.note("sales", f"added the missing tax registration of {account.name} ({account.account_id})")
        return
    yield from cancel(firm, deal, firm.today, "WRITE_OFF", f"Booked with a wrong {kind.replace('_', ' ')}; "
                                                           f"rebooked")
    firm.record("master_data_fixed", opportunity_id=deal.opportunity_id, account_id=account.account_id, kind=kind)
    from scenarios.engine.actors.sales import close_fast, make_plan

    old = deal.plan
    plan = make_plan(firm, old.legal_entity, firm.today + timedelta(days=7), model=old.billing_model)
    plan = replace(plan, practice=old.practice if old.practice != BAD_PRACTICE else "TECHNOLOGY")
    rebooked = Deal("", account, plan, rep=deal.rep)
    yield env.timeout(2 * HOUR)
    yield from close_fast(env, firm, rebooked, firm.today)
