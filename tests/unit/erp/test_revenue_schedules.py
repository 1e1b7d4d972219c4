"""Revenue recognition of milestones at a point in time and of retainers straight-line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from simulators.erp.revenue import (
    Billing,
    ContractModification,
    Milestone,
    ModificationKind,
    RetainerTerm,
    RevenueContract,
    RevenueInputError,
    RevenuePolicy,
    recognize,
    revenue_schedule,
)

D = Decimal
JAN, FEB, MAR, APR, MAY = (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
                           date(2026, 5, 31))
APRIL_1 = date(2026, 4, 1)


def milestones(*modifications: ContractModification) -> RevenueContract:
    """M1 40,000 needs acceptance (completed 10 Feb, accepted 5 Mar, billed 12 Feb); M2 60,000 does not
    (completed 20 Apr, not billed)."""
    return RevenueContract(
        contract_id="CTR-PIT", currency="EUR", policy=RevenuePolicy.POINT_IN_TIME, transaction_price=D("100000.00"),
        milestones=(
            Milestone("M1", D("40000.00"), completed_on=date(2026, 2, 10), accepted_on=date(2026, 3, 5)),
            Milestone("M2", D("60000.00"), completed_on=date(2026, 4, 20), acceptance_required=False),
        ),
        billings=(Billing(date(2026, 2, 12), D("40000.00"), "M1"),),
        modifications=modifications,
    )


def test_milestone_is_revenue_on_acceptance_or_on_completion_when_no_acceptance_is_needed() -> None:
    schedule = revenue_schedule(milestones(), [JAN, FEB, MAR, APR])

    assert [r.cumulative_revenue for r in schedule] == [D("0.00"), D("0.00"), D("40000.00"), D("100000.00")]
    february, _, april = schedule[1:]
    assert (february.contract_liability, february.contract_asset) == (D("40000.00"), D("0.00"))
    assert (april.contract_asset, april.contract_liability, april.unbilled_receivable) == (
        D("60000.00"), D("0.00"), D("0.00"))


def test_price_rise_on_an_accepted_milestone_is_a_catch_up_on_the_modification_date() -> None:
    raise_m1 = ContractModification("CO-1", APRIL_1, ModificationKind.CUMULATIVE_CATCH_UP, D("5000.00"),
                                    milestone_id="M1")

    march, april = revenue_schedule(milestones(raise_m1), [MAR, APR])

    assert march.cumulative_revenue == D("40000.00")
    assert [a.amount for a in april.adjustments] == [D("5000.00")]
    assert (april.period_revenue, april.transaction_price) == (D("65000.00"), D("105000.00"))


def test_price_rise_on_a_pending_milestone_waits_for_it() -> None:
    raise_m2 = ContractModification("CO-1", APRIL_1, ModificationKind.CUMULATIVE_CATCH_UP, D("5000.00"),
                                    milestone_id="M2")

    april = revenue_schedule(milestones(raise_m2), [MAR, APR])[-1]

    assert [a.amount for a in april.adjustments] == [D("0.00")]
    assert (april.period_revenue, april.cumulative_revenue) == (D("65000.00"), D("105000.00"))


def test_prospective_milestone_change_reallocates_by_standalone_price() -> None:
    m3 = Milestone("M3", D("30000.00"), accepted_on=date(2026, 5, 10), standalone_price=D("40000.00"))
    add_m3 = ContractModification("CO-1", APRIL_1, ModificationKind.PROSPECTIVE, D("30000.00"),
                                  added_milestones=(m3,))

    april, may = revenue_schedule(milestones(add_m3), [MAR, APR, MAY])[1:]

    # pool 60,000 (M2) + 30,000 = 90,000 split 60 : 40 -> M2 54,000, M3 36,000
    assert (april.cumulative_revenue, april.period_revenue) == (D("94000.00"), D("54000.00"))
    assert (may.cumulative_revenue, may.transaction_price) == (D("130000.00"), D("130000.00"))


def test_catch_up_naming_no_milestone_is_refused() -> None:
    with pytest.raises(RevenueInputError, match="must name one of its milestones"):
        milestones(ContractModification("CO-1", APRIL_1, ModificationKind.CUMULATIVE_CATCH_UP, D("1.00")))


def retainer(*modifications: ContractModification, billings: tuple[Billing, ...] = ()) -> RevenueContract:
    """10,000 a month from 15 January to 30 June 2026, then 12,000 a month to 31 December."""
    return RevenueContract(
        contract_id="CTR-RET", currency="GBP", policy=RevenuePolicy.STRAIGHT_LINE,
        retainer_terms=(RetainerTerm(date(2026, 1, 15), date(2026, 6, 30), D("10000.00")),
                        RetainerTerm(date(2026, 7, 1), date(2026, 12, 31), D("12000.00"))),
        billings=billings, modifications=modifications,
    )


def test_retainer_earns_the_fee_per_month_and_pro_rata_by_days_for_a_partial_month() -> None:
    january, february = revenue_schedule(retainer(), [JAN, FEB])

    # 15-31 January: 17 of 31 days x 10,000 = 5,483.870... -> 5,483.87
    assert (january.period_revenue, february.period_revenue) == (D("5483.87"), D("10000.00"))


def test_retainer_run_in_the_middle_of_a_month_counts_the_days_served() -> None:
    result = recognize(retainer(), date(2026, 3, 10))

    # 5,483.87 + 10,000 + 10 of 31 days x 10,000 (3,225.81)
    assert result.cumulative_revenue == D("18709.68")


def test_retainer_fee_change_applies_from_the_new_term() -> None:
    june, july = revenue_schedule(retainer(), [date(2026, 6, 30), date(2026, 7, 31)])

    assert (june.cumulative_revenue, july.period_revenue) == (D("55483.87"), D("12000.00"))
    assert july.transaction_price == D("127483.87")


def test_retainer_billed_in_advance_is_a_contract_liability() -> None:
    advance = (Billing(date(2026, 1, 15), D("5483.87")), Billing(date(2026, 1, 25), D("10000.00")))

    january = recognize(retainer(billings=advance), JAN)

    assert (january.contract_liability, january.contract_asset) == (D("10000.00"), D("0.00"))


def full_year(*modifications: ContractModification) -> RevenueContract:
    return RevenueContract(
        contract_id="CTR-RET2", currency="USD", policy=RevenuePolicy.STRAIGHT_LINE,
        retainer_terms=(RetainerTerm(date(2026, 1, 1), date(2026, 12, 31), D("10000.00")),),
        modifications=modifications,
    )


JULY_1, JULY_31, DEC_31 = date(2026, 7, 1), date(2026, 7, 31), date(2026, 12, 31)


def test_retainer_prospective_lump_sum_is_spread_over_the_remaining_days() -> None:
    extra = ContractModification("CO-1", JULY_1, ModificationKind.PROSPECTIVE, D("3650.00"))

    june, july, december = revenue_schedule(full_year(extra), [date(2026, 6, 30), JULY_31, DEC_31])

    # 1 July - 31 December is 184 days: July earns 3,650 x 31 / 184 = 614.945... -> 614.95
    assert [a.amount for a in july.adjustments] == [D("0.00")]
    assert (july.cumulative_revenue, december.cumulative_revenue) == (D("70614.95"), D("123650.00"))
    assert june.cumulative_revenue == D("60000.00")


def test_retainer_catch_up_lump_sum_earns_the_elapsed_share_on_the_modification_date() -> None:
    extra = ContractModification("CO-1", JULY_1, ModificationKind.CUMULATIVE_CATCH_UP, D("3650.00"))

    july = revenue_schedule(full_year(extra), [date(2026, 6, 30), JULY_31])[-1]

    # 3,650 over 365 days is 10 a day: catch-up 181 days (1 Jan - 30 Jun); July adds 31 days and its fee
    assert [a.amount for a in july.adjustments] == [D("1810.00")]
    assert (july.period_revenue, july.cumulative_revenue) == (D("12120.00"), D("72120.00"))


def test_lump_sum_on_an_evergreen_retainer_is_refused() -> None:
    evergreen = RevenueContract(
        contract_id="CTR-RET3", currency="USD", policy=RevenuePolicy.STRAIGHT_LINE,
        retainer_terms=(RetainerTerm(date(2026, 1, 1), None, D("10000.00")),),
        modifications=(ContractModification("CO-1", JULY_1, ModificationKind.PROSPECTIVE, D("100.00")),),
    )

    with pytest.raises(RevenueInputError, match="the retainer has no end date"):
        recognize(evergreen, JULY_31)
