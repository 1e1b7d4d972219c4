"""Expenses: the same lifecycle as time, in the currency paid."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.psa.builders import Api, act, create_entry, expense_body

PATH = "/expenses"


def test_expense_is_a_draft_in_the_currency_paid(api: Api, staffing: dict[str, Any]) -> None:
    response = api.post(PATH, expense_body(staffing, amount="184.6", currency="EUR"))

    assert response.status_code == 201
    expense = response.json
    assert (expense["status"], expense["revision"], expense["amount"]) == ("DRAFT", 1, "184.60")
    assert (expense["currency"], expense["project_currency"]) == ("EUR", "GBP")
    assert api.event_types("psa.expense.") == ["psa.expense.created"]


def test_expense_is_approved_with_its_valuation(api: Api, staffing: dict[str, Any]) -> None:
    expense = create_entry(api, PATH, expense_body(staffing))

    approved = act(api, PATH, expense["id"], "submit", "approve")

    assert approved["status"] == "APPROVED"
    assert approved["approvals"] == [{"revision": 1, "date": "2026-03-03", "amount": "184.60", "currency": "EUR",
                                      "billable": True, "category": "TRAVEL", "approved_at": "2026-03-02T09:00:00Z"}]


def test_reopened_expense_is_corrected_as_revision_two(api: Api, staffing: dict[str, Any]) -> None:
    expense = create_entry(api, PATH, expense_body(staffing, category="LODGING", amount="420.00"))
    act(api, PATH, expense["id"], "submit", "approve")

    reopened = act(api, PATH, expense["id"], "reopen", reason="Hotel refunded one night")
    api.patch(f"{PATH}/{expense['id']}", {"amount": "280"})
    approved = act(api, PATH, expense["id"], "submit", "approve")

    assert (reopened["status"], reopened["revision"]) == ("REOPENED", 2)
    assert [(a["revision"], a["amount"]) for a in approved["approvals"]] == [(1, "420.00"), (2, "280.00")]
    assert [event["data"]["revision"] for event in api.events("psa.expense.approved")] == [1, 2]


def test_returned_expense_is_edited_and_resubmitted(api: Api, staffing: dict[str, Any]) -> None:
    expense = create_entry(api, PATH, expense_body(staffing, receipt=False))
    act(api, PATH, expense["id"], "submit", "return", reason="Attach the receipt")

    edited = api.patch(f"{PATH}/{expense['id']}", {"receipt": True})
    submitted = act(api, PATH, expense["id"], "submit")

    assert edited.json["receipt"] is True
    assert submitted["status"] == "SUBMITTED"


def test_recalled_expense_is_editable(api: Api, staffing: dict[str, Any]) -> None:
    expense = create_entry(api, PATH, expense_body(staffing))
    act(api, PATH, expense["id"], "submit", "recall")

    response = api.patch(f"{PATH}/{expense['id']}", {"category": "MEALS", "amount": "38.20", "currency": "GBP"})

    assert (response.status_code, response.json["category"], response.json["currency"]) == (200, "MEALS", "GBP")
    assert api.event_types("psa.expense.")[-2:] == ["psa.expense.recalled", "psa.expense.updated"]


@pytest.mark.parametrize(("actions", "refused"), [
    ((), "approve"), (("submit",), "reopen"), (("submit", "approve"), "recall"), (("submit", "return"), "return"),
])
def test_illegal_expense_transition_is_refused_with_409(
        api: Api, staffing: dict[str, Any], actions: tuple[str, ...], refused: str) -> None:
    expense = create_entry(api, PATH, expense_body(staffing))
    if actions:
        act(api, PATH, expense["id"], *actions)

    body = {"reason": "x"} if refused in ("return", "reopen") else None
    response = api.post(f"{PATH}/{expense['id']}/{refused}", body)

    assert response.status_code == 409


def test_only_draft_expenses_can_be_deleted(api: Api, staffing: dict[str, Any]) -> None:
    draft = create_entry(api, PATH, expense_body(staffing))
    submitted = create_entry(api, PATH, expense_body(staffing))
    act(api, PATH, submitted["id"], "submit")

    assert api.delete(f"{PATH}/{draft['id']}").status_code == 204
    assert api.delete(f"{PATH}/{submitted['id']}").status_code == 409
    assert api.get(f"{PATH}/{draft['id']}").status_code == 404


def test_expense_outside_the_assignment_is_refused(api: Api, staffing: dict[str, Any]) -> None:
    response = api.post(PATH, expense_body(staffing, date="2026-02-27"))

    assert (response.status_code, response.json["type"].rsplit("/", 1)[1]) == (422, "not-assigned")


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "12.345"])
def test_expense_amount_must_be_positive_cents(api: Api, staffing: dict[str, Any], amount: str) -> None:
    response = api.post(PATH, expense_body(staffing, amount=amount))

    assert (response.status_code, response.json["field"]) == (400, "body/amount")
