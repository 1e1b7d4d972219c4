"""Revenue recognition: the DOMAIN.md worked example to the cent, each policy, balances and inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from simulators.erp.revenue import (
    BillableValue,
    Billing,
    ContractModification,
    CostActual,
    EstimateRevision,
    Milestone,
    ModificationKind,
    RetainerTerm,
    RevenueContract,
    RevenueInputError,
    RevenuePolicy,
    month_ends,
    recognize,
    revenue_schedule,
)

D = Decimal
Q1, Q2, Q3, Q4 = date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)
Q3_DAY_1 = date(2026, 7, 1)
CHANGE_ORDER = ContractModification("CO-1", Q3_DAY_1, ModificationKind.CUMULATIVE_CATCH_UP, D("40000.00"))


def worked_example(*modifications: ContractModification, final_estimate: str = "240000.00") -> RevenueContract:
    """Return the DOMAIN.md cost-to-cost contract: fee 300k, EAC 200k -> 220k (Q2) -> 240k (Q3 day 1)."""
    return RevenueContract(
        contract_id="CTR-000001",
        currency="USD",
        policy=RevenuePolicy.COST_TO_COST,
        transaction_price=D("300000.00"),
        estimates=(
            EstimateRevision(date(2026, 1, 1), D("200000.00")),
            EstimateRevision(date(2026, 4, 1), D("220000.00")),
            EstimateRevision(Q3_DAY_1, D(final_estimate)),
        ),
        costs=(
            CostActual(date(2026, 2, 15), D("50000.00")),
            CostActual(date(2026, 5, 15), D("60000.00")),
            CostActual(date(2026, 8, 15), D("70000.00")),
            CostActual(date(2026, 11, 15), D("60000.00")),
        ),
        billings=(
            Billing(date(2026, 1, 5), D("30000.00"), "signing"),
            Billing(Q3, D("120000.00"), "M1"),
            Billing(Q4, D("150000.00"), "acceptance"),
            Billing(Q4, D("40000.00"), "change order"),
        ),
        modifications=modifications,
    )


@pytest.fixture
def example() -> RevenueContract:
    return worked_example(CHANGE_ORDER)


def test_worked_example_comes_out_to_the_cent_quarter_by_quarter(example: RevenueContract) -> None:
    schedule = revenue_schedule(example, [Q1, Q2, Q3, Q4])

    table = [(r.progress, r.cumulative_revenue, r.period_revenue, r.cumulative_billed, r.contract_asset,
              r.contract_liability) for r in schedule]
    assert table == [
        (D("0.25"), D("75000.00"), D("75000.00"), D("30000.00"), D("45000.00"), D("0.00")),
        (D("0.5"), D("150000.00"), D("75000.00"), D("30000.00"), D("120000.00"), D("0.00")),
        (D("0.75"), D("255000.00"), D("105000.00"), D("150000.00"), D("105000.00"), D("0.00")),
        (D("1"), D("340000.00"), D("85000.00"), D("340000.00"), D("0.00"), D("0.00")),
    ]
    assert sum(r.period_revenue for r in schedule) == D("340000.00")
    assert [r.transaction_price for r in schedule] == [D("300000.00")] * 2 + [D("340000.00")] * 2


def test_change_order_catch_up_of_5833_33_is_booked_on_q3_day_1(example: RevenueContract) -> None:
    q2 = recognize(example, Q2)

    day_one = recognize(example, Q3_DAY_1, q2)

    assert day_one.progress == D("0.458333")
    assert day_one.cumulative_revenue == D("155833.33")
    assert day_one.period_revenue == D("5833.33")
    assert [(a.modification_reference, a.effective_date, a.amount) for a in day_one.adjustments] == [
        ("CO-1", Q3_DAY_1, D("5833.33"))
    ]


def test_q3_revenue_of_105000_includes_the_catch_up_reported_once(example: RevenueContract) -> None:
    q2 = recognize(example, Q2)
    q3 = recognize(example, Q3, q2)
    q4 = recognize(example, Q4, q3)

    assert q3.period_revenue == D("105000.00")
    assert [a.amount for a in q3.adjustments] == [D("5833.33")]
    assert q4.adjustments == ()


def test_estimate_revision_flows_through_as_a_catch_up_in_its_period() -> None:
    contract = worked_example(final_estimate="220000.00")

    q2 = recognize(contract, Q2, recognize(contract, Q1))

    # 110k / 220k x 300k = 150,000; Q2 revenue 75,000, not 110k / 200k x 300k - 75k = 90,000
    assert (q2.cumulative_revenue, q2.period_revenue) == (D("150000.00"), D("75000.00"))


def test_prospective_change_order_spreads_190000_over_the_remaining_work() -> None:
    contract = worked_example(ContractModification("CO-1", Q3_DAY_1, ModificationKind.PROSPECTIVE, D("40000.00")))

    q2, q3, q4 = revenue_schedule(contract, [Q1, Q2, Q3, Q4])[1:]

    # pool = 150,000 unrecognized + 40,000; Q3: 190,000 x (180k - 110k) / (240k - 110k) = 102,307.69
    assert [a.amount for a in q3.adjustments] == [D("0.00")]
    assert (q3.cumulative_revenue, q3.period_revenue) == (D("252307.69"), D("102307.69"))
    assert (q4.cumulative_revenue, q4.period_revenue) == (D("340000.00"), D("87692.31"))
    assert q2.cumulative_revenue == D("150000.00")


def test_separate_contract_change_order_leaves_the_original_untouched() -> None:
    extension = RevenueContract(
        contract_id="CTR-000001/CO-1", currency="USD", policy=RevenuePolicy.COST_TO_COST,
        transaction_price=D("30000.00"), estimates=(EstimateRevision(Q3_DAY_1, D("20000.00")),),
        costs=(CostActual(date(2026, 8, 1), D("5000.00")),), billings=(Billing(Q3, D("10000.00")),),
    )
    separate = ContractModification("CO-1", Q3_DAY_1, ModificationKind.SEPARATE_CONTRACT, D("30000.00"),
                                    separate_contract=extension)
    contract = worked_example(separate, final_estimate="220000.00")

    q3 = recognize(contract, Q3, recognize(contract, Q2))

    # original: 180k / 220k x 300k = 245,454.545...; extension: 5k / 20k x 30k = 7,500 against 10,000 billed
    assert (q3.cumulative_revenue, q3.transaction_price) == (D("245454.55"), D("300000.00"))
    assert [a.amount for a in q3.adjustments] == [D("0.00")]
    (own,) = q3.separate_contracts
    assert (own.contract_id, own.cumulative_revenue, own.contract_liability) == (
        "CTR-000001/CO-1", D("7500.00"), D("2500.00"))
    assert recognize(contract, Q2).separate_contracts == ()


def test_cost_beyond_the_estimate_caps_progress_at_one_and_reports_the_expected_loss() -> None:
    contract = RevenueContract(
        contract_id="CTR-2", currency="EUR", policy=RevenuePolicy.COST_TO_COST, transaction_price=D("100000.00"),
        estimates=(EstimateRevision(date(2026, 1, 1), D("80000.00")),
                   EstimateRevision(date(2026, 3, 1), D("120000.00"))),
        costs=(CostActual(date(2026, 1, 20), D("90000.00")), CostActual(date(2026, 3, 20), D("40000.00"))),
    )

    january, march = revenue_schedule(contract, [date(2026, 1, 31), date(2026, 3, 31)])

    assert (january.progress, january.cumulative_revenue, january.expected_loss) == (D("1"), D("100000.00"), D(0))
    assert (march.progress, march.cumulative_revenue, march.expected_loss) == (D("1"), D("100000.00"),
                                                                                D("20000.00"))


def test_ineligible_cost_is_not_progress() -> None:
    contract = RevenueContract(
        contract_id="CTR-3", currency="GBP", policy=RevenuePolicy.COST_TO_COST, transaction_price=D("90000.00"),
        estimates=(EstimateRevision(date(2026, 1, 1), D("60000.00")),),
        costs=(CostActual(date(2026, 1, 10), D("15000.00")),
               CostActual(date(2026, 1, 11), D("9000.00"), eligible=False, reference="mobilisation")),
    )

    result = recognize(contract, date(2026, 1, 31))

    assert (result.cumulative_cost, result.progress, result.cumulative_revenue) == (
        D("15000.00"), D("0.25"), D("22500.00"))


@pytest.fixture
def time_and_materials() -> RevenueContract:
    """DOMAIN.md T&M example: 120 approved March hours at $200, invoiced on 5 April."""
    return RevenueContract(
        contract_id="CTR-TM", currency="USD", policy=RevenuePolicy.RIGHT_TO_INVOICE,
        billable_values=(BillableValue(date(2026, 3, 2), D("8000.00"), "TE-1"),
                         BillableValue(date(2026, 3, 9), D("8000.00"), "TE-2"),
                         BillableValue(date(2026, 3, 16), D("8000.00"), "TE-3")),
        billings=(Billing(date(2026, 4, 5), D("24000.00"), "INV-1"),),
    )


def test_tm_march_work_is_march_revenue_and_an_unbilled_receivable(time_and_materials: RevenueContract) -> None:
    march, april = revenue_schedule(time_and_materials, [date(2026, 3, 31), date(2026, 4, 30)])

    assert (march.period_revenue, march.unbilled_receivable, march.contract_asset) == (
        D("24000.00"), D("24000.00"), D("0.00"))
    assert (april.period_revenue, april.unbilled_receivable, april.cumulative_billed) == (
        D("0.00"), D("0.00"), D("24000.00"))


def test_tm_time_approved_after_the_run_is_revenue_of_the_next_run(time_and_materials: RevenueContract) -> None:
    march = recognize(time_and_materials, date(2026, 3, 31))
    late = BillableValue(date(2026, 3, 30), D("1000.00"), "TE-4")
    with_late_time = replace(time_and_materials, billable_values=(*time_and_materials.billable_values, late))

    april = recognize(with_late_time, date(2026, 4, 30), march)

    assert (april.cumulative_revenue, april.period_revenue, april.unbilled_receivable) == (
        D("25000.00"), D("1000.00"), D("1000.00"))


def test_tm_billed_ahead_of_work_is_a_contract_liability() -> None:
    contract = RevenueContract(
        contract_id="CTR-TM2", currency="USD", policy=RevenuePolicy.RIGHT_TO_INVOICE,
        billable_values=(BillableValue(date(2026, 1, 10), D("3000.00")),),
        billings=(Billing(date(2026, 1, 2), D("5000.00")),),
    )

    result = recognize(contract, date(2026, 1, 31))

    assert (result.contract_liability, result.unbilled_receivable, result.contract_asset) == (
        D("2000.00"), D("0.00"), D("0.00"))


def capped(*modifications: ContractModification) -> RevenueContract:
    """Return a capped T&M contract: cap 10,000; 6,000 approved in January, 5,000 in Feb, 500 in March."""
    return RevenueContract(
        contract_id="CTR-CAP", currency="GBP", policy=RevenuePolicy.RIGHT_TO_INVOICE,
        transaction_price=D("10000.00"),
        billable_values=(BillableValue(date(2026, 1, 20), D("6000.00")),
                         BillableValue(date(2026, 2, 20), D("5000.00")),
                         BillableValue(date(2026, 3, 20), D("500.00"))),
        modifications=modifications,
    )


JAN, FEB, MAR = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)


def test_capped_tm_never_recognizes_beyond_the_cap() -> None:
    january, february, march = revenue_schedule(capped(), [JAN, FEB, MAR])

    assert [r.period_revenue for r in (january, february, march)] == [D("6000.00"), D("4000.00"), D("0.00")]
    assert (march.cumulative_revenue, march.excess_over_cap) == (D("10000.00"), D("1500.00"))


def test_raised_cap_not_distinct_recognizes_the_held_excess_as_a_catch_up() -> None:
    raise_cap = ContractModification("CO-2", date(2026, 3, 1), ModificationKind.CUMULATIVE_CATCH_UP, D("2000.00"))

    march = revenue_schedule(capped(raise_cap), [JAN, FEB, MAR])[-1]

    # catch-up on 1 March: min(11,000, 12,000) - min(11,000, 10,000) = 1,000; then 500 of March work
    assert [a.amount for a in march.adjustments] == [D("1000.00")]
    assert (march.period_revenue, march.cumulative_revenue, march.excess_over_cap) == (
        D("1500.00"), D("11500.00"), D("0.00"))


def test_raised_cap_prospective_leaves_the_old_excess_unrecognized() -> None:
    raise_cap = ContractModification("CO-2", date(2026, 3, 1), ModificationKind.PROSPECTIVE, D("2000.00"))

    march = revenue_schedule(capped(raise_cap), [JAN, FEB, MAR])[-1]

    assert (march.period_revenue, march.cumulative_revenue, march.excess_over_cap) == (
        D("500.00"), D("10500.00"), D("1000.00"))


def test_month_ends_cover_every_month_between_two_dates() -> None:
    assert month_ends(date(2025, 11, 15), date(2026, 2, 1)) == (
        date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28))


def test_rerunning_a_period_recognizes_nothing_twice(example: RevenueContract) -> None:
    q1 = recognize(example, Q1)

    again = recognize(example, Q1, q1)

    assert (again.period_revenue, again.cumulative_revenue) == (D("0.00"), D("75000.00"))


def test_prior_result_of_a_later_period_or_another_contract_is_refused(example: RevenueContract) -> None:
    q2 = recognize(example, Q2)
    other = recognize(capped(), JAN)

    with pytest.raises(RevenueInputError, match="after the period end"):
        recognize(example, Q1, q2)
    with pytest.raises(RevenueInputError, match="CTR-CAP, not CTR-000001"):
        recognize(example, Q2, other)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "JPY"}, "unknown currency 'JPY'"),
        ({"transaction_price": None}, "COST_TO_COST needs a transaction_price"),
        ({"transaction_price": D("1.005")}, "transaction_price 1.005 is not an amount in USD minor units"),
        ({"estimates": (EstimateRevision(date(2026, 1, 1), D("0.00")),)}, "must be positive"),
        ({"modifications": (CHANGE_ORDER, CHANGE_ORDER)}, "two modifications share a reference"),
        ({"modifications": (ContractModification("CO-9", Q1, ModificationKind.SEPARATE_CONTRACT),)},
         "separate_contract is given exactly when"),
    ],
)
def test_unusable_contract_data_is_refused_naming_the_problem(example: RevenueContract,
                                                              changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RevenueInputError, match=message):
        replace(example, **changes)


def test_cost_without_an_estimate_is_refused() -> None:
    contract = RevenueContract(contract_id="CTR-4", currency="USD", policy=RevenuePolicy.COST_TO_COST,
                               transaction_price=D("100.00"), costs=(CostActual(date(2026, 1, 2), D("10.00")),))

    with pytest.raises(RevenueInputError, match="no estimate at completion is in force"):
        recognize(contract, date(2026, 1, 31))


def test_descoping_below_revenue_already_recognized_is_refused() -> None:
    cut = ContractModification("CO-5", Q3_DAY_1, ModificationKind.PROSPECTIVE, D("-160000.00"))

    with pytest.raises(RevenueInputError, match="price would fall below revenue recognized"):
        recognize(worked_example(cut), Q3)


def test_milestones_must_add_up_to_the_transaction_price() -> None:
    with pytest.raises(RevenueInputError, match=r"milestones total 100\.00, not the transaction_price 120\.00"):
        RevenueContract(contract_id="CTR-5", currency="USD", policy=RevenuePolicy.POINT_IN_TIME,
                        transaction_price=D("120.00"), milestones=(Milestone("M1", D("100.00")),))


def test_overlapping_retainer_terms_are_refused() -> None:
    with pytest.raises(RevenueInputError, match="overlap"):
        RevenueContract(contract_id="CTR-6", currency="USD", policy=RevenuePolicy.STRAIGHT_LINE,
                        retainer_terms=(RetainerTerm(date(2026, 1, 1), date(2026, 6, 30), D("1.00")),
                                        RetainerTerm(date(2026, 6, 30), None, D("2.00"))))
