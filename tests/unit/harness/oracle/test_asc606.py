"""The oracle's own ASC 606 calculator against DOMAIN.md's worked examples and hand-computed figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from harness.oracle.asc606 import (
    CalculationGap,
    Dated,
    Modification,
    ModificationKind,
    Policy,
    Position,
    Retainer,
    cost_to_cost,
    modification_kind,
    position,
    right_to_invoice,
    straight_line,
)

Q1, Q2, Q3, Q4 = date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)
CHANGE_ORDER_DAY = date(2026, 7, 1)

# DOMAIN.md §2 worked example: fixed fee 300k, EAC 200k, revised to 220k in Q2; on Q3 day 1 a change
# order not distinct: +40k price, +20k cost (EAC 240k from that day). Costs are cumulative per quarter.
COSTS = (Dated(date(2026, 2, 15), Decimal(50_000)), Dated(date(2026, 5, 15), Decimal(60_000)),
         Dated(date(2026, 8, 15), Decimal(70_000)), Dated(date(2026, 11, 15), Decimal(60_000)))
ESTIMATES = (Dated(date(2026, 1, 1), Decimal(200_000)), Dated(date(2026, 4, 1), Decimal(220_000)),
             Dated(CHANGE_ORDER_DAY, Decimal(240_000)))
CHANGE_ORDER = Modification("CO-1", CHANGE_ORDER_DAY, ModificationKind.CUMULATIVE_CATCH_UP, Decimal(40_000))
BILLED = {Q1: Decimal(30_000), Q2: Decimal(30_000), Q3: Decimal(150_000), Q4: Decimal(340_000)}


def revenue_on(day: date) -> Decimal:
    return cost_to_cost(Decimal(300_000), COSTS, ESTIMATES, day, [CHANGE_ORDER])


def test_worked_example_comes_out_to_the_cent_quarter_by_quarter() -> None:
    cumulative = [revenue_on(quarter_end) for quarter_end in (Q1, Q2, Q3, Q4)]

    assert cumulative == [Decimal("75000.00"), Decimal("150000.00"), Decimal("255000.00"), Decimal("340000.00")]
    assert [later - earlier for earlier, later in zip([Decimal(0), *cumulative], cumulative, strict=False)] == [
        Decimal("75000.00"), Decimal("75000.00"), Decimal("105000.00"), Decimal("85000.00")]


def test_worked_example_change_order_catches_up_on_its_first_day() -> None:
    assert revenue_on(CHANGE_ORDER_DAY) == Decimal("155833.33")
    assert revenue_on(CHANGE_ORDER_DAY) - revenue_on(Q2) == Decimal("5833.33")


def test_worked_example_contract_asset_by_quarter() -> None:
    assets = [position(Policy.COST_TO_COST, revenue_on(day), BILLED[day]).contract_asset for day in (Q1, Q2, Q3, Q4)]

    assert assets == [Decimal("45000.00"), Decimal("120000.00"), Decimal("105000.00"), Decimal("0.00")]


def test_ignoring_the_change_order_misses_the_catch_up() -> None:
    without = cost_to_cost(Decimal(300_000), COSTS, ESTIMATES, Q3)

    assert without == Decimal("225000.00")
    assert revenue_on(Q3) - without == Decimal("30000.00")


def test_prospective_change_order_spreads_unrecognized_plus_added_over_remaining_cost() -> None:
    prospective = Modification("CO-1", CHANGE_ORDER_DAY, ModificationKind.PROSPECTIVE, Decimal(40_000))

    # Recognized to Q2: 150,000. Pool: 150,000 unrecognized + 40,000 = 190,000 over the cost left
    # (240,000 - 110,000 = 130,000); by Q3 end 70,000 of it is spent: 150,000 + 190,000 x 70/130.
    assert cost_to_cost(Decimal(300_000), COSTS, ESTIMATES, Q3, [prospective]) == Decimal("252307.69")
    assert cost_to_cost(Decimal(300_000), COSTS, ESTIMATES, Q4, [prospective]) == Decimal("340000.00")


def test_prospective_change_order_mid_month_keeps_the_work_before_it_under_the_old_terms() -> None:
    # R5 prospective, measured from the modification date: the old contract ends the day before (Feb 15),
    # so the cost of Feb 10 is progress on the old price, not on the new pool.
    costs = (Dated(date(2026, 1, 20), Decimal(10_000)), Dated(date(2026, 2, 10), Decimal(5_000)),
             Dated(date(2026, 2, 20), Decimal(5_000)))
    estimates = (Dated(date(2026, 1, 1), Decimal(50_000)),)
    prospective = Modification("CO-1", date(2026, 2, 16), ModificationKind.PROSPECTIVE, Decimal(20_000))

    # To Feb 15: 100,000 x 15,000 / 50,000 = 30,000. Pool: 70,000 unrecognized + 20,000 = 90,000 over the
    # 35,000 of cost left; by Feb 28, 5,000 of it: 30,000 + 90,000 x 5/35 = 42,857.14. (Anchoring on the
    # cost at Jan 31 instead, as a monthly cost figure would, gives 20,000 + 100,000 x 10/40 = 45,000.00.)
    assert cost_to_cost(Decimal(100_000), costs, estimates, date(2026, 2, 15), [prospective]) == Decimal("30000.00")
    assert cost_to_cost(Decimal(100_000), costs, estimates, date(2026, 2, 28), [prospective]) == Decimal("42857.14")


def test_separate_contract_leaves_the_original_untouched() -> None:
    separate = Modification("CO-1", CHANGE_ORDER_DAY, ModificationKind.SEPARATE_CONTRACT, Decimal(40_000))

    assert cost_to_cost(Decimal(300_000), COSTS, ESTIMATES, Q3, [separate]) == Decimal("225000.00")


def test_progress_never_exceeds_the_whole_price() -> None:
    overrun = (*COSTS, Dated(date(2026, 12, 1), Decimal(100_000)))

    assert cost_to_cost(Decimal(300_000), overrun, ESTIMATES, Q4, [CHANGE_ORDER]) == Decimal("340000.00")


def test_cost_to_cost_without_an_estimate_is_a_gap_not_a_figure() -> None:
    with pytest.raises(CalculationGap, match="no estimate at completion"):
        cost_to_cost(Decimal(300_000), COSTS, (), Q1)


def test_change_order_branches_follow_distinctness_and_standalone_price() -> None:
    assert modification_kind(False, False) is ModificationKind.CUMULATIVE_CATCH_UP
    assert modification_kind(False, True) is ModificationKind.CUMULATIVE_CATCH_UP
    assert modification_kind(True, True) is ModificationKind.SEPARATE_CONTRACT
    assert modification_kind(True, False) is ModificationKind.PROSPECTIVE


def test_time_and_materials_march_example_is_an_unbilled_receivable() -> None:
    march = [Dated(date(2026, 3, day), Decimal(1_600)) for day in range(2, 17)]  # 120 h x $200 over 15 days

    revenue = right_to_invoice(march, date(2026, 3, 31))

    assert revenue == Decimal("24000.00")
    assert position(Policy.RIGHT_TO_INVOICE, revenue, Decimal(0)) == Position(Decimal("0.00"), Decimal("0.00"),
                                                                               Decimal("24000.00"))


def test_capped_time_and_materials_stops_at_the_cap_plus_change_orders() -> None:
    values = [Dated(date(2026, 1, 10), Decimal("60000.00")), Dated(date(2026, 2, 10), Decimal("50000.00"))]
    raise_cap = Modification("CO-1", date(2026, 2, 1), ModificationKind.CUMULATIVE_CATCH_UP, Decimal("5000.00"))

    assert right_to_invoice(values, date(2026, 1, 31), Decimal("100000.00"), [raise_cap]) == Decimal("60000.00")
    assert right_to_invoice(values, date(2026, 2, 28), Decimal("100000.00"), [raise_cap]) == Decimal("105000.00")


def test_a_separate_contract_does_not_raise_the_cap_of_the_deals_capped_contract() -> None:
    # change-orders seed 18: CON-000010 capped at 34,000 and a distinct change at standalone price of
    # 3,900 booked as a contract of its own; the oracle expected 37,900 on the deal's contract.
    values = [Dated(date(2026, 1, 10), Decimal("60000.00")), Dated(date(2026, 2, 10), Decimal("50000.00"))]
    raise_cap = Modification("CO-1", date(2026, 2, 1), ModificationKind.CUMULATIVE_CATCH_UP, Decimal("5000.00"))
    own_contract = Modification("CO-2", date(2026, 2, 1), ModificationKind.SEPARATE_CONTRACT, Decimal("8000.00"))

    # 110,000 approved; the cap is 100,000 + 5,000, not + 8,000 more.
    assert right_to_invoice(values, date(2026, 2, 28), Decimal("100000.00"),
                            [raise_cap, own_contract]) == Decimal("105000.00")
    assert right_to_invoice(values, date(2026, 2, 28), Decimal("100000.00"), [own_contract]) == Decimal("100000.00")


def test_retainer_earns_whole_months_and_partial_months_by_day() -> None:
    retainer = Retainer(date(2026, 1, 16), date(2026, 6, 30), Decimal("3100.00"))

    # January: 16 of 31 days = 1,600.00; February in full.
    assert straight_line(retainer, date(2026, 1, 31)) == Decimal("1600.00")
    assert straight_line(retainer, date(2026, 2, 28)) == Decimal("4700.00")
    assert straight_line(retainer, date(2026, 12, 31)) == Decimal("17100.00")


def test_retainer_catch_up_spreads_over_the_whole_term_and_prospective_over_what_is_left() -> None:
    retainer = Retainer(date(2026, 1, 1), date(2026, 6, 30), Decimal("10000.00"))
    added = Decimal("3000.00")
    catch_up = Modification("CO-1", date(2026, 4, 1), ModificationKind.CUMULATIVE_CATCH_UP, added)
    prospective = Modification("CO-1", date(2026, 4, 1), ModificationKind.PROSPECTIVE, added)

    # Catch-up: 3,000 over six months, three elapsed by April 1 and four by April 30 = 2,000.
    assert straight_line(retainer, date(2026, 4, 30), [catch_up]) == Decimal("42000.00")
    # Prospective: 3,000 over the three months left = 1,000 in April.
    assert straight_line(retainer, date(2026, 4, 30), [prospective]) == Decimal("41000.00")
    assert straight_line(retainer, date(2026, 6, 30), [prospective]) == Decimal("63000.00")


def test_billing_ahead_of_revenue_is_a_contract_liability() -> None:
    assert position(Policy.STRAIGHT_LINE, Decimal("10000.00"), Decimal("15000.00")) == Position(
        Decimal("0.00"), Decimal("5000.00"), Decimal("0.00"))


def test_cost_to_cost_before_any_cost_is_zero_without_an_estimate() -> None:
    assert cost_to_cost(Decimal(300_000), COSTS, (), date(2026, 1, 31)) == Decimal("0.00")
