"""Billing plans, pure: build a contract's plan from a request and carry state across versions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from simulators.erp.money import money, money_str, total

DEFAULT_POLICY = {
    "TIME_AND_MATERIALS": "RIGHT_TO_INVOICE",
    "CAPPED_TM": "RIGHT_TO_INVOICE",
    "FIXED_FEE": "COST_TO_COST",
    "RETAINER": "STRAIGHT_LINE",
}
ALLOWED_POLICIES = {
    "TIME_AND_MATERIALS": ("RIGHT_TO_INVOICE",),
    "CAPPED_TM": ("RIGHT_TO_INVOICE",),
    "FIXED_FEE": ("COST_TO_COST", "POINT_IN_TIME"),
    "RETAINER": ("STRAIGHT_LINE",),
}
TRANSACTION_MODELS = ("TIME_AND_MATERIALS", "CAPPED_TM")


class PlanError(Exception):
    """A billing plan that does not fit its contract; the message says why."""


def revenue_policy(billing_model: str, requested: str | None) -> str:
    """Return the contract's revenue policy, defaulted from the billing model."""
    if requested is None:
        return DEFAULT_POLICY[billing_model]
    if requested not in ALLOWED_POLICIES[billing_model]:
        raise PlanError(f"revenue policy {requested} does not fit a {billing_model} contract "
                        f"(allowed: {', '.join(ALLOWED_POLICIES[billing_model])})")
    return requested


def _milestones(requested: list[dict[str, Any]], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [milestone["id"] for milestone in requested]
    if len(set(ids)) != len(ids):
        raise PlanError("milestone ids must be unique within a contract")
    before = {milestone["id"]: milestone for milestone in previous}
    for billed in previous:
        if billed["status"] == "BILLED" and billed["id"] not in ids:
            raise PlanError(f"milestone {billed['id']} is already billed and cannot be removed")
    milestones = []
    for item in requested:
        old = before.get(item["id"])
        amount = money_str(item["amount"])
        if old is not None and old["status"] == "BILLED" and old["amount"] != amount:
            raise PlanError(f"milestone {old['id']} is already billed at {old['amount']} and cannot be repriced")
        state = {key: old[key] for key in ("status", "completed_on", "accepted_on", "invoice_id", "source_system",
                                           "source_id", "source_version")} if old else {
            "status": "PLANNED", "completed_on": None, "accepted_on": None, "invoice_id": None,
            "source_system": None, "source_id": None, "source_version": None}
        milestones.append({"id": item["id"], "name": item["name"], "amount": amount,
                           "requires_acceptance": bool(item.get("requires_acceptance", False)),
                           "due_date": item.get("due_date"), **state})
    return milestones


def build_plan(billing_model: str, policy: str, total_price: Decimal, requested: dict[str, Any] | None,
               start_date: date, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the billing plan a contract stores, checked against its model and policy."""
    requested = requested or {}
    previous = previous or {"milestones": [], "retainer": None, "cap_amount": None, "eac": None}
    milestones = _milestones(requested.get("milestones", previous["milestones"]), previous["milestones"])
    if billing_model == "FIXED_FEE":
        if not milestones:
            raise PlanError("a fixed-fee contract bills by milestones; give at least one")
        planned = total(milestone["amount"] for milestone in milestones)
        if planned != money(total_price):
            raise PlanError(f"fixed-fee milestones sum to {money_str(planned)}, not the total price "
                            f"{money_str(total_price)}")
    elif milestones:
        raise PlanError(f"only fixed-fee contracts bill milestones, not {billing_model}")
    retainer = None
    if billing_model == "RETAINER":
        terms = requested.get("retainer", previous["retainer"])
        if terms is None:
            raise PlanError("a retainer contract needs its monthly fee and term (billing_plan.retainer)")
        billed = previous["retainer"]["billed_periods"] if previous["retainer"] else []
        retainer = {"monthly_fee": money_str(terms["monthly_fee"]), "term_months": terms["term_months"],
                    "start_date": terms.get("start_date", start_date.isoformat()), "billed_periods": list(billed)}
    elif "retainer" in requested:
        raise PlanError(f"only retainer contracts have retainer terms, not {billing_model}")
    cap = requested.get("cap_amount", previous["cap_amount"])
    if billing_model == "CAPPED_TM" and cap is None:
        raise PlanError("a capped T&M contract needs its cap (billing_plan.cap_amount)")
    if billing_model != "CAPPED_TM" and cap is not None:
        raise PlanError(f"only capped T&M contracts have a cap, not {billing_model}")
    eac = requested.get("eac", previous["eac"])
    if policy == "COST_TO_COST" and (eac is None or money(eac) <= 0):
        raise PlanError("cost-to-cost revenue needs a positive estimate at completion (billing_plan.eac)")
    return {"milestones": milestones, "retainer": retainer,
            "cap_amount": money_str(cap) if cap is not None else None,
            "eac": money_str(eac) if eac is not None else None}
