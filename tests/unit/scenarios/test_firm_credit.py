"""Credit control: customers' payment terms mix by size, credit limits cover the expected receivables."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from scenarios.engine.actors.credit import credit_limit, terms_for
from scenarios.engine.actors.customers import usual_days
from scenarios.engine.config import load

MIX = load("baseline").params["finance"]["payment_terms_mix"]


def _terms(amount: int, count: int = 2000) -> Counter[int]:
    rng = random.Random(4)
    return Counter(terms_for(rng, MIX, Decimal(amount)) for _ in range(count))


def test_customers_get_the_mixs_terms_and_larger_engagements_longer_ones() -> None:
    small, middle, large = _terms(60000), _terms(200000), _terms(900000)
    assert set(small) == set(middle) == set(large) == {15, 30, 45, 60}
    assert 0.5 <= middle[30] / 2000 <= 0.6 and 0.15 <= middle[60] / 2000 <= 0.25
    assert small[15] > middle[15] > large[15]
    assert small[60] < middle[60] < large[60]
    assert large[60] > large[30]  # large enterprises mostly negotiate 45 or 60 days


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
