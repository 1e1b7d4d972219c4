"""Expenses: out-of-pocket costs of a resource on a project, in the currency paid."""

from __future__ import annotations

from decimal import Decimal

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.store import Record, Store
from simulators.psa import lifecycle
from simulators.psa.lifecycle import EntryKind
from simulators.psa.staffing import check_bookable
from simulators.psa.values import day, find_referenced, money

operations = Operations()
EDITABLE_FIELDS = ("task_id", "date", "category", "amount", "currency", "receipt", "billable", "description")


def value_expense(store: Store, expense: Record) -> Record:
    """Value an expense being approved: what was spent, in what currency, and whether it is rebilled."""
    return {"date": expense["date"], "amount": expense["amount"], "currency": expense["currency"],
            "billable": expense["billable"], "category": expense["category"]}


def _cost(approval: Record) -> tuple[Decimal, str, str, Decimal]:
    return Decimal(0), "expenses", approval["currency"], Decimal(approval["amount"])


EXPENSE = EntryKind(
    collection="expenses", noun="expense", event="psa.expense", path_id="expense_id",
    value=value_expense, valued_fields=(), cost=_cost,
)
lifecycle.register(operations, EXPENSE, "Expense", "Expenses")


@operations("createExpense")
def create_expense(request: Request) -> Reply:
    """Record an expense as DRAFT."""
    body = request.body
    resource = find_referenced(request.store, "resources", body["resource_id"], "resource_id")
    project = find_referenced(request.store, "projects", body["project_id"], "project_id")
    task_id = body.get("task_id")
    assignment = check_bookable(request.store, resource, project, day(body["date"]), task_id)
    expense = request.store.insert("expenses", {
        "resource_id": resource["id"], "project_id": project["id"], "task_id": task_id,
        "assignment_id": assignment["id"], "date": body["date"], "category": body["category"],
        "amount": money(body["amount"]), "currency": body["currency"], "project_currency": project["currency"],
        "receipt": body.get("receipt", False), "billable": body.get("billable", True),
        "description": body.get("description"), "status": "DRAFT", "revision": 1,
        "submitted_at": None, "approved_at": None, "return_reason": None, "reopen_reason": None, "approvals": [],
    })
    request.emit("psa.expense.created", expense)
    return created(expense, f"/expenses/{expense['id']}")


@operations("updateExpense")
def update_expense(request: Request) -> Reply:
    """Edit an editable expense; the booking rules apply to the result."""
    expense = lifecycle.get_entry(request.store, EXPENSE, request.path["expense_id"])
    request.check_if_match(expense)
    lifecycle.check_editable(EXPENSE, expense, "edit")
    changes = {name: request.body[name] for name in EDITABLE_FIELDS if name in request.body}
    if "amount" in changes:
        changes["amount"] = money(changes["amount"])
    assignment = lifecycle.check_bookable_entry(request.store, {**expense, **changes})
    changes["assignment_id"] = assignment["id"]
    updated = request.store.update("expenses", expense["id"], changes)
    request.emit("psa.expense.updated", updated)
    return ok(updated)
