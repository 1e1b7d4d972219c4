"""Finance settles receivables: customer credit applied after billing or refunded, bad debt written off."""

from __future__ import annotations

from datetime import date
from typing import Any

import simpy

from scenarios.engine.actors.finance import chase, settle_credits
from scenarios.engine.ports import ApiResult


class _Finance:
    """A stand-in firm: an ERP with a customer's invoices and credit memos, the truth and a diary."""

    def __init__(self, invoices: list[dict[str, Any]], credit_memos: list[dict[str, Any]] | None = None) -> None:
        self.env = simpy.Environment()
        self.today = date(2026, 3, 16)
        self.invoices = {invoice["id"]: invoice for invoice in invoices}
        self.credit_memos = {memo["id"]: memo for memo in credit_memos or []}
        self.facts: list[tuple[str, dict[str, Any]]] = []
        self.diary: list[str] = []
        self.reminders: dict[str, simpy.Event] = {}
        self.calls: list[tuple[str, str]] = []

    def call(self, system: str, method: str, path: str, **kwargs: Any) -> Any:
        yield self.env.timeout(0)
        self.calls.append((method, path))
        if (method, path) == ("GET", "/invoices"):
            return ApiResult(200, {"items": [i for i in self.invoices.values() if i["status"] == "POSTED"]})
        if (method, path) == ("GET", "/credit-memos"):
            return ApiResult(200, {"items": list(self.credit_memos.values()), "next_cursor": None})
        record_id, action = path.split("/")[2:4]
        if action == "write-off":
            invoice = self.invoices[record_id]
            invoice.update(status="WRITTEN_OFF", written_off_amount=invoice["open_amount"], open_amount="0.00",
                           write_off={"date": kwargs["body"]["date"], "reason": kwargs["body"]["reason"]})
            return ApiResult(200, dict(invoice))
        memo = self.credit_memos[record_id]
        open_invoice = next((i for i in self.invoices.values() if i["open_amount"] != "0.00"), None)
        if action == "apply" and open_invoice is not None:
            applied = {"invoice_id": open_invoice["id"], "applied": memo["open_amount"], "applied_on": "2026-03-16"}
            return ApiResult(200, {**memo, "open_amount": "0.00", "applications": [*memo["applications"], applied]})
        if action == "refund":
            return ApiResult(200, {**memo, "open_amount": "0.00", "refunds": [{"amount": memo["open_amount"]}]})
        return ApiResult(409, {"type": "https://firmsim.dev/problems/invalid-transition"})

    def record(self, kind: str, /, **data: Any) -> None:
        self.facts.append((kind, data))

    def note(self, actor: str, message: str) -> None:
        self.diary.append(message)

    def run(self, process: Any) -> None:
        self.env.process(process)
        self.env.run()


def _invoice(number: int, due: str, open_amount: str = "500.00") -> dict[str, Any]:
    return {"id": f"INV-{number:06d}", "customer_id": "CUS-000001", "due_date": due, "open_amount": open_amount,
            "currency": "USD", "status": "POSTED"}


def _credit_memo(number: int, credit_date: str, open_amount: str = "120.00") -> dict[str, Any]:
    return {"id": f"CM-{number:06d}", "customer_id": "CUS-000001", "currency": "USD", "credit_date": credit_date,
            "open_amount": open_amount, "applications": []}


def test_an_invoice_unpaid_half_a_year_past_due_after_every_reminder_is_written_off() -> None:
    firm = _Finance([_invoice(1, "2026-01-05"), _invoice(2, "2025-09-01"), _invoice(3, "2025-09-01")])
    sent = {"INV-000001": (3, date(2026, 2, 9)), "INV-000002": (3, date(2025, 10, 6)),
            "INV-000003": (2, date(2025, 9, 22))}
    firm.today = date(2026, 3, 2)  # INV-000002: 182 days past due

    firm.run(chase(firm, "CUS-000001", sent))  # type: ignore[arg-type]

    assert firm.facts == [("invoice_written_off", {
        "invoice_id": "INV-000002", "customer_id": "CUS-000001", "amount": "500.00", "currency": "USD",
        "written_off_on": "2026-03-02", "reason": "Uncollectible: 182 days past due after 3 reminders"})]
    assert firm.invoices["INV-000001"]["status"] == "POSTED"  # 56 days past due: chased, not written off
    assert firm.invoices["INV-000003"]["status"] == "POSTED"  # not chased three times yet: reminded first
    assert firm.diary[0] == ("wrote off USD 500.00 of INV-000002 (CUS-000001) as bad debt: 182 days past due "
                             "after 3 reminders")
    assert firm.diary[1].startswith("reminder 3 to CUS-000001 for INV-000003")


def test_customer_credit_is_applied_after_billing_and_refunded_when_nothing_is_left_to_settle() -> None:
    firm = _Finance([_invoice(1, "2026-04-15")], [_credit_memo(1, "2026-01-31"), _credit_memo(2, "2026-02-28", "0.00")])

    firm.run(settle_credits(firm, "US01"))  # type: ignore[arg-type]

    assert firm.facts == [("credit_applied", {"credit_memo_id": "CM-000001", "customer_id": "CUS-000001",
                                              "invoice_id": "INV-000001", "amount": "120.00", "currency": "USD",
                                              "applied_on": "2026-03-16"})]
    assert ("POST", "/credit-memos/CM-000002/apply") not in firm.calls  # nothing open on it


def test_customer_credit_with_nothing_to_settle_is_refunded_after_two_months_not_before() -> None:
    firm = _Finance([_invoice(1, "2026-02-15", "0.00")], [_credit_memo(1, "2026-01-15"), _credit_memo(2, "2026-02-27")])

    firm.run(settle_credits(firm, "US01"))  # type: ignore[arg-type]

    assert firm.facts == [("credit_refunded", {"credit_memo_id": "CM-000001", "customer_id": "CUS-000001",
                                               "amount": "120.00", "currency": "USD", "refunded_on": "2026-03-16"})]
    assert ("POST", "/credit-memos/CM-000002/refund") not in firm.calls  # 17 days old: may find an invoice yet
    assert ("POST", "/credit-memos/CM-000002/apply") in firm.calls  # tried first: no open invoice to take it
