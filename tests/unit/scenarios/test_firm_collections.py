"""Collections: the credit controller's Monday dunning run chases what is a week or more past due."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import simpy

from scenarios.engine.actors.finance import chase
from scenarios.engine.ports import ApiResult


class _Controller:
    """A stand-in firm: an ERP holding a customer's invoices, a diary, and the customers' reminder events."""

    def __init__(self, invoices: list[dict[str, Any]]) -> None:
        self.env = simpy.Environment()
        self.today = date(2026, 3, 16)
        self.invoices = invoices
        self.diary: list[str] = []
        self.reminders: dict[str, simpy.Event] = {}

    def call(self, system: str, method: str, path: str, **kwargs: Any) -> Any:
        yield self.env.timeout(0)
        params = kwargs["params"]
        assert (method, path, params["customer_id"], params["open"]) == ("GET", "/invoices", "CUS-000001", "true")
        return ApiResult(200, {"items": [i for i in self.invoices if i["open_amount"] != "0.00"]})  # as the ERP lists

    def note(self, actor: str, message: str) -> None:
        self.diary.append(message)

    def run_on(self, day: date, sent: dict[str, tuple[int, date]]) -> list[str]:
        self.today = day
        before = len(self.diary)
        self.env.process(chase(self, "CUS-000001", sent))  # type: ignore[arg-type]
        self.env.run()
        return [line.split(" for ")[1].split(":")[0] for line in self.diary[before:]]


def _invoice(number: int, due: str, open_amount: str = "500.00") -> dict[str, Any]:
    return {"id": f"INV-{number:06d}", "due_date": due, "open_amount": open_amount, "currency": "USD"}


def test_a_reminder_goes_a_week_past_due_again_a_fortnight_later_and_three_at_most() -> None:
    firm = _Controller([_invoice(1, "2026-03-09"), _invoice(2, "2026-03-10"), _invoice(3, "2026-02-01", "0.00")])
    sent: dict[str, tuple[int, date]] = {}
    monday = date(2026, 3, 16)
    chased = [firm.run_on(monday + timedelta(days=7 * week), sent) for week in range(8)]
    assert chased[0] == ["INV-000001"]  # seven days past due; the other six, the paid one never
    assert chased[1] == ["INV-000002"]
    assert chased[2] == ["INV-000001"]
    every = [invoice for week in chased for invoice in week]
    assert every.count("INV-000001") == every.count("INV-000002") == 3
    assert "INV-000003" not in every


def test_a_reminder_reaches_the_customer_waiting_to_pay_the_invoice() -> None:
    firm = _Controller([_invoice(1, "2026-03-02")])
    waiting = firm.reminders.setdefault("INV-000001", firm.env.event())
    firm.run_on(date(2026, 3, 16), {})
    assert waiting.triggered
    assert firm.diary == ["reminder 1 to CUS-000001 for INV-000001: USD 500.00 open, 14 days past due"]
