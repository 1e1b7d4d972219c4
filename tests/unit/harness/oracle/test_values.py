"""Reading money: a system's amount equals the expected one to the cent, with the one rounding rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness.oracle.values import same_money


@pytest.mark.parametrize(("actual", "expected", "same"), [
    ("1250.00", "1250.00", True), ("1250", "1250.00", True), (1250, "1250.00", True),
    ("1250.004", "1250.00", True), ("1250.005", "1250.01", True), ("1250.005", "1250.00", False),
    ("1250.01", "1250.00", False), ("-0.001", "0.00", True), ("abc", "1250.00", False), (None, "0.00", False),
    (12.5, "12.50", False),
])
def test_an_amount_is_the_same_money_when_it_rounds_half_up_to_the_same_cent(actual: object, expected: str,
                                                                             same: bool) -> None:
    assert same_money(actual, Decimal(expected)) is same
