"""The ERP's one rounding rule and its decimal strings, against the rule spelled out in full."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.erp.money import money, money_str


def _rule(value: Decimal | str | int) -> str:
    rounded = (Decimal(value) + 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{(Decimal('0.00') if rounded == 0 else rounded):f}"


@pytest.mark.parametrize("value", [
    "0", "-0", "0.00", "-0.00", "-0.004", "-0.005", "0.005", "2.345", "-2.345", "1250", "1E+3", "1.5E-7",
    "-1E-9", "123456789012345678901234.565", "0.1", "-12.30", 7, -7, 0, Decimal("1E+5"), Decimal("-0E-7"),
])
def test_an_amount_is_written_as_the_rule_writes_it(value: Decimal | str | int) -> None:
    assert money_str(value) == _rule(value)
    assert str(money(value)) in (_rule(value), "-0.00")


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12, places=None))
def test_any_amount_is_written_as_the_rule_writes_it(value: Decimal) -> None:
    assert money_str(value) == _rule(value)
    assert money(value) == Decimal(_rule(value))
