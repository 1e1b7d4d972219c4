"""Credit control: customers' payment terms mix by size, credit limits cover the expected receivables."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import simpy

from scenarios.engine.actors.credit import after_win, credit_limit, terms_for
from scenarios.engine.actors.customers import usual_days
from scenarios.engine.config import load
from scenarios.engine.ports import ApiResult
from scenarios.engine.state import Account

MIX = load("baseline").params["finance"]["payment_terms_mix"]


def _terms(amount: int, count: int = 2000) -> Counter[int]:
    rng = random.Random(4)
    return Counter(terms_for(rng, MIX, Decimal(amount)) for _ in range(count))


def test_customers_get_the_mixs_terms_and_larger_engagements_longer_ones() -> None:
    small, middle, large = _terms(60000), _terms(200000), _terms(900000)
    assert set(small) == set(middle) == set(large) == {15, 30, 45, 60}
    assert 0.6 <= middle[30] / 2000 <= 0.7 and 0.07 <= middle[60] / 2000 <= 0.13
    assert small[15] > middle[15] > large[15]
    assert small[60] < middle[60] < large[60]
    # large enterprises negotiate 45 or 60 days far more often than mid-sized ones (45 % against 25 %)
    assert large[45] + large[60] > 1.5 * (middle[45] + middle[60])


def test_a_credit_limit_covers_the_scenarios_months_of_billing_plus_the_terms() -> None:
    plan = SimpleNamespace(amount=Decimal(300000), service_start=date(2026, 2, 2), service_end=date(2026, 4, 30))
    deal: Any = SimpleNamespace(plan=plan)  # three months: 100,000 a month
    net30, net60 = credit_limit(deal, 30, 1.5), credit_limit(deal, 60, 1.5)
    assert Decimal(250000) <= net30 <= Decimal(265000)
    assert Decimal(95000) <= net60 - net30 <= Decimal(110000)  # a month more of billing
    assert net30 % 5000 == 0


def _firm() -> Any:
    rng = random.Random(3)
    return SimpleNamespace(params={"finance": {"payment_days": {"mean": 42, "sd": 14}, "payment_terms_days": 30}},
                           rng=lambda family: rng, payment_habits={})


def _invoice(customer: str, due: str) -> dict[str, str]:
    return {"customer_id": customer, "invoice_date": "2026-01-31", "due_date": due}


def test_a_customer_on_longer_terms_pays_later_by_the_difference_but_a_prompt_payer_pays_on_receipt() -> None:
    firm = _firm()
    for index in range(200):
        customer = f"CUS-{index:06d}"
        net30 = usual_days(firm, _invoice(customer, "2026-03-02"))
        net60 = usual_days(firm, _invoice(customer, "2026-04-01"))
        if net30 <= 20:
            assert net60 == net30
        else:
            assert net60 == pytest.approx(net30 + 30)


class _Controller:
    """A stand-in firm for the credit controller: an ERP whose contracts name the customer they bill."""

    def __init__(self, contracts: dict[str, str]) -> None:
        self.env = simpy.Environment()
        self.params = {"finance": {"payment_terms_mix": MIX}}
        self.credit_set_up: set[str] = set()
        self.contracts = contracts  # opportunity -> ERP customer billed
        self.calls: list[tuple[str, str, Any]] = []
        self.diary: list[str] = []

    def rng(self, family: str) -> random.Random:
        return random.Random(family)

    def in_office_hours(self, days: float, rng: Any) -> simpy.Event:
        return self.env.timeout(days * 86400)

    def call(self, system: str, method: str, path: str, **kwargs: Any) -> Any:
        yield self.env.timeout(0)
        self.calls.append((method, path, kwargs.get("params") or kwargs.get("body")))
        if (method, path) == ("GET", "/contracts"):
            customer = self.contracts.get(kwargs["params"]["crm_opportunity_id"])
            return ApiResult(200, {"items": [{"id": "CON-1", "customer_id": customer}] if customer else []})
        if method == "PATCH":
            return ApiResult(200, {"id": path.rsplit("/", 1)[1], "name": "Acme Corp", "currency": "USD"})
        return ApiResult(200, {"items": []})  # GET /customers?crm_account_id=... finds no customer

    def note(self, actor: str, message: str) -> None:
        self.diary.append(message)


def _won(opportunity_id: str, account_id: str, parent: str | None) -> Any:
    account = Account(account_id, "company-00001", "Acme Corp", "US", "USD", None, parent)
    plan = SimpleNamespace(legal_entity="US01", amount=Decimal(200000), service_start=date(2026, 2, 2),
                           service_end=date(2026, 6, 30))
    return SimpleNamespace(opportunity_id=opportunity_id, account=account, plan=plan)


def test_a_division_won_first_gets_its_companys_erp_customer_terms_and_the_parents_win_later_leaves_them() -> None:
    # The division's CRM account has no ERP customer of its own: its deal's contract bills the parent's.
    firm = _Controller({"OPP-2": "CUS-000001", "OPP-1": "CUS-000001"})
    after_win(firm.env, firm, _won("OPP-2", "ACC-2", "ACC-1"))  # type: ignore[arg-type]
    firm.env.run()
    after_win(firm.env, firm, _won("OPP-1", "ACC-1", None))  # type: ignore[arg-type]
    firm.env.run()

    patches = [call for call in firm.calls if call[0] == "PATCH"]
    assert [path for _, path, _ in patches] == ["/customers/CUS-000001"]
    assert patches[0][2]["payment_terms_days"] in (15, 30, 45, 60)
    assert firm.diary == [f"Acme Corp (CUS-000001): net {patches[0][2]['payment_terms_days']}, credit limit USD none"]
