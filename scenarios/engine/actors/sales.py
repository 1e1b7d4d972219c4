"""Sales reps: the pipeline from first contact to closed won or lost, the opening book and pipeline.

Opportunities arrive every working day (the scenario's rate per week for each hundred people of
the opening firm: its market is the size of the firm it built), move through the stages
with the scenario's durations, and close won at the scenario's win rate; losses happen mostly in
qualification and proposal. Terms firm up into a statement of work at negotiation: the SOW is
submitted, approved by the deal desk, and the deal closes won. Before the period starts the firm
already has an opening book (deals won just before, staffing most of its people from day one) and
an open pipeline at every stage.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.actors import changes, credit
from scenarios.engine.actors.accounts import choose_account, new_company
from scenarios.engine.actors.delivery import project_delivery
from scenarios.engine.clock import DAY, HOUR
from scenarios.engine.plan import DealPlan, plan_deal
from scenarios.engine.state import Deal
from scenarios.engine.values import (
    ENTITY_CURRENCY,
    chance,
    is_workday,
    pick,
    poisson,
    text,
    weighted,
    workday_on_or_after,
)

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
STAGES = ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION")
LOSS_STAGES = {"PROSPECTING": 0.2, "QUALIFICATION": 0.35, "PROPOSAL": 0.3, "NEGOTIATION": 0.15}
LOSS_REASONS = {"COMPETITOR": 0.3, "PRICE": 0.25, "NO_DECISION": 0.25, "TIMING": 0.1, "SCOPE": 0.07, "OTHER": 0.03}
HOME_ENTITY = {"US": "US01", "GB": "UK01", "DE": "DE01"}
LEAD_IN_BOOKING_DAYS = 12
# The opening book is the rest of engagements under way (a steady-state book ends throughout the
# year), not all of them starting afresh: with whole engagements nothing would end in the first
# months and every deal won in the period would need new people.
OPENING_SHARE_LEFT = (0.15, 1.0)
# The opening book fits the people the firm has, grade group by grade group (leads, teams).
OPENING_GRADES = (("MANAGER", "SENIOR_MANAGER"), ("ANALYST", "CONSULTANT", "SENIOR_CONSULTANT"))
OPENING_TRIES = 400
ENGAGEMENTS = {
    "STRATEGY": ("Growth strategy", "Operating model review", "Market entry study", "Cost transformation"),
    "TECHNOLOGY": ("ERP implementation", "Cloud migration", "CRM rollout", "Integration platform build"),
    "DATA_AI": ("Data platform modernisation", "Demand forecasting model", "Analytics roadmap", "GenAI pilot"),
    "OPERATIONS": ("Supply chain redesign", "Procurement excellence", "Shared services setup", "Lean programme"),
}


def entity_for(firm: Firm, country: str) -> str:
    """Return the legal entity that sells to a customer in a country (now and then another one)."""
    rng = firm.rng("sales")
    available = list(firm.params["firm"]["legal_entities"])
    natural = HOME_ENTITY.get(country) or pick(rng, ("DE01", "UK01"))
    if chance(rng, 0.06) or natural not in available:
        natural = pick(rng, available)
    return natural


def _stage_days(firm: Firm, stage: str) -> float:
    days = float(firm.params["sales"]["stage_days"][stage.title()])
    return days * float(firm.rng("sales").uniform(0.6, 1.4))


def _office_hours(firm: Firm, after: float) -> float:
    """Return `after` if it falls in office hours on a working day, else a moment in the next office hours."""
    rng = firm.rng("sales")
    day = firm.clock.start.date() + timedelta(days=int(after // DAY))
    hour = (after % DAY) / HOUR
    if is_workday(day) and 9 <= hour < 17.5:
        return after
    if hour >= 17.5 or not is_workday(day):
        day += timedelta(days=1)
    day = workday_on_or_after(day)
    return max(after, firm.at(day, 9 + 8 * rng.random()))


def _terms(plan: DealPlan) -> dict[str, Any]:
    terms: dict[str, Any] = {"amount": text(plan.amount), "service_start": plan.service_start.isoformat(),
                             "service_end": plan.service_end.isoformat(),
                             "estimated_hours": text(plan.estimated_hours)}
    if plan.billing_model in ("TIME_AND_MATERIALS", "CAPPED_TM"):
        terms["rate_card"] = plan.rate_card_api()
    if plan.cap_amount is not None:
        terms["cap_amount"] = text(plan.cap_amount)
    if plan.milestones:
        terms["billing_milestones"] = [milestone.to_api() for milestone in plan.milestones]
    if plan.monthly_fee is not None:
        terms["monthly_fee"] = text(plan.monthly_fee)
    return terms


def make_plan(firm: Firm, entity: str, start: date, *, model: str | None = None, practice: str | None = None,
              currency: str | None = None, share_left: float = 1.0) -> DealPlan:
    """Scope and price a deal for an entity from a start date (`share_left`: the rest of one under way)."""
    rng = firm.rng("sales-plans")
    model = model or weighted(rng, firm.params["sales"]["pricing_mix"])
    plan = plan_deal(rng, firm.params, billing_model=model, practice=practice or pick(
        rng, firm.params["firm"]["practices"]), legal_entity=entity, currency=ENTITY_CURRENCY[entity],
        earliest_start=start, week_hours=firm.week_hours(entity), share_left=share_left)
    if currency is not None and currency != plan.currency:
        plan = replace(plan, currency=currency)
    return plan


def _create(firm: Firm, deal: Deal, stage: str, close_date: date, with_terms: bool) -> Process:
    plan = deal.plan
    title = pick(firm.rng("sales"), ENGAGEMENTS.get(plan.practice, ("Transformation programme",)))
    body: dict[str, Any] = {"account_id": deal.account.account_id, "name": f"{deal.account.name} - {title}",
                            "stage": stage, "currency": plan.currency, "close_date": close_date.isoformat(),
                            "amount": text(plan.amount), "billing_model": plan.billing_model,
                            "legal_entity": plan.legal_entity, "practice": plan.practice}
    if with_terms:
        body.update(_terms(plan))
    result = yield from firm.call("crm", "POST", "/opportunities", body=body, purpose="opportunity")
    if not result.ok:
        return False
    deal.opportunity_id = result.body["id"]
    firm.book.deals[deal.opportunity_id] = deal
    return True


def _move(firm: Firm, deal: Deal, action: str, body: dict[str, Any] | None = None) -> Process:
    result = yield from firm.call("crm", "POST", f"/opportunities/{deal.opportunity_id}/{action}", body=body,
                                  purpose=f"opportunity-{action}")
    return result.ok


def _close_won(env: simpy.Environment, firm: Firm, deal: Deal) -> Process:
    ok = yield from _move(firm, deal, "close-won")
    if not ok:
        return
    plan = deal.plan
    deal.status, deal.won_at = "WON", float(env.now)
    deal.contract_version, deal.contract_amount = 1, plan.amount
    deal.milestones = list(plan.milestones)
    firm.record("deal_won", opportunity_id=deal.opportunity_id, account_id=deal.account.account_id,
                customer_key=deal.account.customer_key, legal_entity=plan.legal_entity, currency=plan.currency,
                billing_model=plan.billing_model, practice=plan.practice, amount=text(plan.amount),
                service_start=plan.service_start.isoformat(), service_end=plan.service_end.isoformat(),
                rate_card=plan.rate_card_api(), milestones=[m.to_api() for m in plan.milestones],
                monthly_fee=text(plan.monthly_fee) if plan.monthly_fee is not None else None,
                cap_amount=text(plan.cap_amount) if plan.cap_amount is not None else None,
                expected_exception=deal.expected_exception)
    firm.note("sales", f"won {deal.opportunity_id} {deal.account.name}: {plan.billing_model} {plan.practice} "
                       f"{plan.currency} {plan.amount:,.2f}, {plan.service_start} to {plan.service_end}")
    env.process(project_delivery(env, firm, deal))
    changes.after_win(env, firm, deal)
    credit.after_win(env, firm, deal)


def close_fast(env: simpy.Environment, firm: Firm, deal: Deal, close_date: date) -> Process:
    """Book a deal that is already agreed: create it at negotiation with its SOW, approve, close won."""
    created = yield from _create(firm, deal, "NEGOTIATION", close_date, with_terms=True)
    if not created:
        return
    submitted = yield from _move(firm, deal, "submit-sow")
    yield env.timeout(_office_hours(firm, float(env.now) + firm.rng("sales").uniform(2, 20) * HOUR) - float(env.now))
    approved = submitted and (yield from _move(firm, deal, "approve-sow"))
    yield env.timeout(_office_hours(firm, float(env.now) + firm.rng("sales").uniform(1, 24) * HOUR) - float(env.now))
    if approved:
        yield from _close_won(env, firm, deal)


def _survival(firm: Firm, stage: str) -> float:
    lost = 1 - float(firm.params["sales"]["win_rate"])
    earlier = sum(LOSS_STAGES[name] for name in STAGES[:STAGES.index(stage)])
    return 1 - lost * earlier


def opportunity(env: simpy.Environment, firm: Firm, stage: str = "PROSPECTING", elapsed_days: float = 0.0) -> Process:
    """Work one opportunity from its stage to closed won or lost."""
    rng = firm.rng("sales")
    country = weighted(rng, firm.params["sales"]["customer_mix"])
    entity = entity_for(firm, country)
    won = chance(rng, min(1.0, float(firm.params["sales"]["win_rate"]) / _survival(firm, stage)))
    remaining = STAGES[STAGES.index(stage):]
    lost_at = None if won else weighted(rng, {name: LOSS_STAGES[name] for name in remaining})
    durations = [_stage_days(firm, name) for name in remaining]
    durations[0] = max(0.5, durations[0] - elapsed_days)
    close_date = firm.today + timedelta(days=round(sum(durations)))
    plan = make_plan(firm, entity, close_date + timedelta(days=int(rng.uniform(10, 28))))
    account = yield from choose_account(firm, country)
    if account is None:
        return
    deal = Deal("", account, plan, rep=pick(rng, _reps(firm, entity)))
    created = yield from _create(firm, deal, stage, close_date, with_terms=stage == "NEGOTIATION")
    if not created:
        return
    if stage == "NEGOTIATION":
        yield from _move(firm, deal, "submit-sow")
    for index, name in enumerate(remaining):
        yield env.timeout(_office_hours(firm, float(env.now) + durations[index] * DAY) - float(env.now))
        if name == lost_at:
            ok = yield from _move(firm, deal, "close-lost", {"reason": weighted(rng, LOSS_REASONS)})
            if ok:
                deal.status = "LOST"
                firm.record("deal_lost", opportunity_id=deal.opportunity_id)
            return
        if name == "NEGOTIATION":
            approved = yield from _approve_sow(env, firm, deal)
            if approved:
                yield from _close_won(env, firm, deal)
            return
        next_stage = remaining[index + 1]
        if next_stage == "NEGOTIATION":
            deal.plan = make_plan(firm, entity, firm.today + timedelta(days=int(durations[-1] + rng.uniform(10, 21))),
                                  model=plan.billing_model, practice=plan.practice)
            patched = yield from firm.call("crm", "PATCH", f"/opportunities/{deal.opportunity_id}",
                                           body=_terms(deal.plan))
            if not patched.ok:
                return
        yield from _move(firm, deal, "advance", {"stage": next_stage})
        if next_stage == "NEGOTIATION":
            yield from _move(firm, deal, "submit-sow")


def _approve_sow(env: simpy.Environment, firm: Firm, deal: Deal) -> Process:
    approved = yield from _move(firm, deal, "approve-sow")
    yield env.timeout(_office_hours(firm, float(env.now) + firm.rng("sales").uniform(1, 6) * HOUR) - float(env.now))
    return approved


def _reps(firm: Firm, entity: str) -> list[str]:
    partners = [w.worker_id for w in firm.roster.by(entity, "PARTNER", firm.today)]
    return partners or [w.worker_id for w in firm.roster.active(firm.today)][:1] or ["unassigned"]


def _opening_deal(env: simpy.Environment, firm: Firm, entity: str, country: str, plan: DealPlan,
                  moment: float) -> Process:
    yield env.timeout(max(0.0, moment - float(env.now)))
    account = yield from new_company(firm, country)
    if account is not None:
        deal = Deal("", account, plan, rep=pick(firm.rng("sales-opening"), _reps(firm, entity)), opening=True)
        yield from close_fast(env, firm, deal, firm.today)


def _opening_book(env: simpy.Environment, firm: Firm) -> None:
    """Book the work under way when the period opens, enough to staff most of the firm from its first weeks.

    They close during the first working days of the lead-in, so they are history when the period opens.
    """
    rng = firm.rng("sales-opening")
    share = Decimal(str(1 - float(firm.params["delivery"]["bench_hours_share"])))
    days = [day for day in (firm.today + timedelta(days=offset) for offset in range(1, LEAD_IN_BOOKING_DAYS))
            if is_workday(day) and day < firm.period_start - timedelta(days=3)] or [firm.today]
    for entity, shape in firm.params["firm"]["legal_entities"].items():
        week = firm.week_hours(entity)
        capacity = week * Decimal(sum(shape["headcount"].values()))
        room = {grades: week * Decimal(sum(shape["headcount"].get(role, 0) for role in grades)) * share
                for grades in OPENING_GRADES}
        booked, tries = Decimal(0), 0
        while booked < capacity * share and tries < OPENING_TRIES:
            tries += 1
            country = pick(rng, [c for c, e in HOME_ENTITY.items() if e == entity] or ["GB"])
            plan = make_plan(firm, entity, firm.period_start + timedelta(days=int(rng.uniform(-3, 12))),
                             share_left=rng.uniform(*OPENING_SHARE_LEFT))
            need = {grades: sum((s.hours_per_week for s in plan.slots if s.role in grades), Decimal(0))
                    for grades in OPENING_GRADES}
            if any(need[grades] > room[grades] for grades in OPENING_GRADES):
                continue  # the firm would not have sold work its people of those grades cannot do
            for grades in OPENING_GRADES:
                room[grades] -= need[grades]
            booked += sum((slot.hours_per_week for slot in plan.slots), Decimal(0))
            moment = firm.at(pick(rng, days), 9 + 8 * rng.random())
            env.process(_opening_deal(env, firm, entity, country, plan, moment))


def _opening_pipeline(env: simpy.Environment, firm: Firm) -> None:
    """Open the opportunities that arrived in the weeks before the lead-in, each at the stage its age gives."""
    rng = firm.rng("sales-opening")
    days = {stage: float(firm.params["sales"]["stage_days"][stage.title()]) for stage in STAGES}
    total = sum(days.values())
    for _ in range(poisson(rng, weekly_opportunities(firm.params) * total / 7)):
        age = rng.uniform(0, total)
        for stage in STAGES:
            if age < days[stage]:
                break
            age -= days[stage]
        env.process(_later(env, rng.uniform(0, 2) * DAY, opportunity(env, firm, stage, age)))


def weekly_opportunities(params: dict[str, Any]) -> float:
    """Return the opportunities arriving a week: the firm's market is the size of the firm it built.

    `sales.opportunities_per_100_people_week` of the opening headcount, so a larger firm has the
    same demand per head; a scenario may instead set `sales.opportunities_per_week` outright.
    """
    sales_params = params["sales"]
    if sales_params.get("opportunities_per_week") is not None:
        return float(sales_params["opportunities_per_week"])
    people = sum(sum(shape["headcount"].values()) for shape in params["firm"]["legal_entities"].values())
    return float(sales_params["opportunities_per_100_people_week"]) * people / 100


def _later(env: simpy.Environment, delay: float, process: Process) -> Process:
    yield env.timeout(delay)
    yield from process


def sales(env: simpy.Environment, firm: Firm) -> Process:
    """Run the sales team: opening book and pipeline, then new opportunities every working day."""
    yield env.timeout(2 * HOUR)
    _opening_book(env, firm)
    _opening_pipeline(env, firm)
    changes.inject_bad_master_data(env, firm)
    rng = firm.rng("sales-arrivals")
    per_day = weekly_opportunities(firm.params) / 5
    day = firm.today + timedelta(days=1)
    while day <= firm.period_end:
        if is_workday(day):
            for _ in range(poisson(rng, per_day)):
                env.process(_later(env, firm.at(day, 9 + 8 * rng.random()) - float(env.now), opportunity(env, firm)))
        day += timedelta(days=1)
        yield firm.until(day, 0)
