"""Customers pay like real accounts-payable departments: each with its own habit, on working days."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import mean, pstdev
from types import SimpleNamespace
from typing import Any

import simpy

from scenarios.engine.actors.customers import _payment_day, _settle, payment_habit, reminded
from scenarios.engine.ports import ApiResult


def _firm(mean_days: float = 42, sd: float = 14) -> Any:
    rng = random.Random(3)
    return SimpleNamespace(params={"finance": {"payment_days": {"mean": mean_days, "sd": sd}}},
                           rng=lambda family: rng, payment_habits={})


def test_a_customer_keeps_its_habit_from_invoice_to_invoice() -> None:
    firm = _firm()
    first = payment_habit(firm, "CUS-000001")
    assert [payment_habit(firm, "CUS-000001") for _ in range(3)] == [first] * 3


def test_habits_differ_between_customers_around_the_scenarios_mean() -> None:
    firm = _firm()
    habits = [payment_habit(firm, f"CUS-{index:06d}") for index in range(400)]
    prompt = [habit for habit in habits if habit <= 20]
    assert 0.06 <= len(prompt) / len(habits) <= 0.16  # a few pay on receipt
    assert 36 <= mean(habits) <= 43
    assert 11 <= pstdev(habits) <= 17  # most of the spread of days to pay is between customers
    assert min(habits) >= 7


def test_payments_due_on_a_weekend_are_made_on_that_weeks_working_days_not_all_on_monday() -> None:
    start = date(2026, 2, 2)
    env = simpy.Environment()

    def until(day: date, hour: float = 0.0) -> simpy.Event:
        moment = (datetime.combine(day, datetime.min.time()) - datetime.combine(start, datetime.min.time()))
        return env.timeout(max(0.0, moment.total_seconds() + hour * 3600 - env.now))

    firm = SimpleNamespace(until=until, today=start)
    rng = random.Random(9)
    paid: Counter[str] = Counter()

    def payer(day: date) -> Any:
        yield from _payment_day(firm, rng, day)  # type: ignore[arg-type]
        paid[(start + timedelta(seconds=env.now)).strftime("%a")] += 1

    for offset in range(7, 7 + 7 * 60):  # every day of sixty weeks after the first
        env.process(payer(start + timedelta(days=offset)))
    env.run()
    assert set(paid) == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert paid["Mon"] < 0.3 * sum(paid.values())


class _Payer:
    """A stand-in firm for one customer's settlement: an ERP that holds one invoice, payments recorded."""

    def __init__(self, partial_rate: float, erp_invoice: dict[str, Any]) -> None:
        self.start = date(2026, 2, 2)
        self.env = simpy.Environment()
        self.params = {"finance": {"payment_days": {"mean": 42, "sd": 14}, "payment_terms_days": 30,
                                   "partial_payment_rate": partial_rate}}
        self.payment_habits: dict[str, float] = {}
        self.reminders: dict[str, simpy.Event] = {}
        self.erp_invoice = erp_invoice
        self.paid: list[str] = []
        self.received_on: list[str] = []
        self.down_until = 0.0  # seconds: the ERP is down until then
        self._rng = random.Random(5)

    def rng(self, family: str) -> random.Random:
        return self._rng

    @property
    def today(self) -> date:
        return self.start + timedelta(seconds=self.env.now)

    def until(self, day: date, hour: float = 0.0) -> simpy.Event:
        moment = datetime.combine(day, datetime.min.time()) - datetime.combine(self.start, datetime.min.time())
        return self.env.timeout(max(0.0, moment.total_seconds() + hour * 3600 - self.env.now))

    def invoice_disputed(self, invoice_id: str) -> bool:
        return False

    def call(self, system: str, method: str, path: str, **kwargs: Any) -> Any:
        yield self.env.timeout(0)
        while self.env.now < self.down_until:  # as Firm.call: a person comes back until the ERP answers
            yield self.env.timeout(86400)
        if method == "GET":
            return ApiResult(200, dict(self.erp_invoice))
        amount = kwargs["body"]["amount"]
        if Decimal(amount) > Decimal(self.erp_invoice["open_amount"]):
            return ApiResult(422, {"type": "invalid-payment"})
        self.paid.append(amount)
        self.received_on.append(kwargs["body"]["received_on"])
        self.erp_invoice["open_amount"] = str(Decimal(self.erp_invoice["open_amount"]) - Decimal(amount))
        return ApiResult(201, {"id": f"PAY-{len(self.paid)}"})

    def record(self, *args: Any, **kwargs: Any) -> None:
        pass


def _sent(total: str) -> dict[str, Any]:
    return {"id": "INV-000001", "customer_id": "CUS-000001", "legal_entity": "US01", "currency": "USD",
            "contract_id": "CON-000001", "invoice_date": "2026-01-31", "due_date": "2026-03-02",
            "total": total, "open_amount": total}


def test_a_customer_pays_an_invoice_less_the_credit_note_sent_since_it_arrived() -> None:
    # the billing run credited corrected time on the invoice after the customer received it
    firm = _Payer(0.0, {**_sent("1000.00"), "status": "POSTED", "open_amount": "960.00"})
    firm.env.process(_settle(firm.env, firm, _sent("1000.00")))  # type: ignore[arg-type]
    firm.env.run()
    assert firm.paid == ["960.00"]
    assert firm.erp_invoice["open_amount"] == "0.00"


def test_a_partial_payer_pays_the_rest_as_it_stands_when_it_pays_again() -> None:
    firm = _Payer(1.0, {**_sent("1000.00"), "status": "POSTED"})

    def credit_after_the_first_payment() -> Any:
        while not firm.paid:
            yield firm.env.timeout(3600)
        firm.erp_invoice["open_amount"] = str(Decimal(firm.erp_invoice["open_amount"]) - 100)

    firm.env.process(_settle(firm.env, firm, _sent("1000.00")))  # type: ignore[arg-type]
    firm.env.process(credit_after_the_first_payment())
    firm.env.run()
    assert len(firm.paid) == 2
    assert sum(map(Decimal, firm.paid)) == Decimal(900)
    assert Decimal(firm.erp_invoice["open_amount"]) == 0


def test_a_reversed_invoice_is_not_paid() -> None:
    firm = _Payer(0.0, {**_sent("1000.00"), "status": "REVERSED", "open_amount": "0.00"})
    firm.env.process(_settle(firm.env, firm, _sent("1000.00")))  # type: ignore[arg-type]
    firm.env.run()
    assert firm.paid == []



def test_a_payment_received_while_the_erp_is_down_is_posted_when_it_is_back_with_its_own_date() -> None:
    firm = _Payer(0.0, {**_sent("1000.00"), "status": "POSTED"})
    bank_day: list[date] = []
    original = firm.call

    def call(system: str, method: str, path: str, **kwargs: Any) -> Any:
        if method == "POST" and not bank_day:  # the ERP goes down for three days as the money arrives
            bank_day.append(date.fromisoformat(kwargs["body"]["received_on"]))
            firm.down_until = firm.env.now + 3 * 86400
        return (yield from original(system, method, path, **kwargs))

    firm.call = call  # type: ignore[method-assign]
    firm.env.process(_settle(firm.env, firm, _sent("1000.00")))  # type: ignore[arg-type]
    firm.env.run()
    assert firm.paid == ["1000.00"]
    assert firm.received_on == [bank_day[0].isoformat()]
    assert firm.today >= bank_day[0] + timedelta(days=3)


def _chased(habit: float, reminder_day: date) -> list[str]:
    firm = _Payer(0.0, {**_sent("1000.00"), "status": "POSTED"})
    firm.payment_habits["CUS-000001"] = habit

    def finance() -> Any:
        yield firm.until(reminder_day, 10)
        reminded(firm, "INV-000001")  # type: ignore[arg-type]

    firm.env.process(_settle(firm.env, firm, _sent("1000.00")))  # type: ignore[arg-type]
    firm.env.process(finance())
    firm.env.run()
    return firm.received_on


def test_a_late_customer_chased_by_a_reminder_pays_in_a_payment_run_soon_after() -> None:
    # invoiced 31 January, due 2 March; usually pays 55 days after the invoice; reminded a week past due
    assert _chased(55.0, date(2026, 3, 9)) <= ["2026-03-20"]
    assert _chased(55.0, date(2026, 3, 9)) >= ["2026-03-12"]


def test_a_reminder_after_the_planned_payment_changes_nothing_and_a_chronic_late_payer_ignores_it() -> None:
    assert _chased(35.0, date(2026, 3, 23)) < ["2026-03-23"]
    assert _chased(95.0, date(2026, 3, 9)) > ["2026-04-20"]


def test_a_remittance_refused_because_credit_was_applied_meanwhile_is_paid_at_what_is_left() -> None:
    firm = _Payer(0.0, {**_sent("1000.00"), "status": "POSTED"})
    call = firm.call

    def credit_applied_before_the_payment_lands(system: str, method: str, path: str, **kwargs: Any) -> Any:
        if method == "POST" and not firm.paid and firm.erp_invoice["open_amount"] == "1000.00":
            firm.erp_invoice["open_amount"] = "700.00"  # finance applied 300.00 of the customer's credit
        return (yield from call(system, method, path, **kwargs))

    firm.call = credit_applied_before_the_payment_lands  # type: ignore[method-assign]
    firm.env.process(_settle(firm.env, firm, _sent("1000.00")))  # type: ignore[arg-type]
    firm.env.run()
    assert firm.paid == ["700.00"]
    assert firm.erp_invoice["open_amount"] == "0.00"
