"""Properties of revenue recognition whatever the estimates, costs, change orders and run dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.erp.revenue import (
    BillableValue,
    ContractModification,
    CostActual,
    EstimateRevision,
    ModificationKind,
    RevenueContract,
    RevenuePolicy,
    month_ends,
    revenue_schedule,
)

START = date(2026, 1, 1)
RUNS = month_ends(START, date(2026, 12, 31))

days = st.integers(min_value=0, max_value=364).map(lambda n: START + timedelta(days=n))
cents = st.integers(min_value=0, max_value=50_000_000).map(lambda n: Decimal(n).scaleb(-2))
positive_cents = st.integers(min_value=1, max_value=50_000_000).map(lambda n: Decimal(n).scaleb(-2))
kinds = st.sampled_from([ModificationKind.CUMULATIVE_CATCH_UP, ModificationKind.PROSPECTIVE])


@st.composite
def modifications(draw: st.DrawFn) -> tuple[ContractModification, ...]:
    drawn = draw(st.lists(st.tuples(days, kinds, cents), max_size=3))
    return tuple(ContractModification(f"CO-{index}", day, kind, price)
                 for index, (day, kind, price) in enumerate(drawn))


@st.composite
def fixed_fee_contracts(draw: st.DrawFn) -> RevenueContract:
    revision_days = [day for day in draw(st.lists(days, max_size=2, unique=True)) if day != START]
    return RevenueContract(
        contract_id="CTR-P",
        currency="USD",
        policy=RevenuePolicy.COST_TO_COST,
        transaction_price=draw(cents),
        estimates=tuple(EstimateRevision(day, draw(positive_cents)) for day in [START, *revision_days]),
        costs=tuple(CostActual(day, amount) for day, amount in draw(st.lists(st.tuples(days, cents), max_size=8))),
        modifications=draw(modifications()),
    )


@settings(max_examples=200, deadline=None)
@given(fixed_fee_contracts())
def test_fixed_fee_revenue_to_date_never_exceeds_the_transaction_price(contract: RevenueContract) -> None:
    schedule = revenue_schedule(contract, RUNS)

    for result in schedule:
        assert result.transaction_price is not None
        assert Decimal(0) <= result.cumulative_revenue <= result.transaction_price
    assert sum(r.period_revenue for r in schedule) == schedule[-1].cumulative_revenue


@st.composite
def capped_contracts(draw: st.DrawFn) -> RevenueContract:
    values = draw(st.lists(st.tuples(days, cents), max_size=10))
    return RevenueContract(
        contract_id="CTR-C",
        currency="EUR",
        policy=RevenuePolicy.RIGHT_TO_INVOICE,
        transaction_price=draw(cents),
        billable_values=tuple(BillableValue(day, amount) for day, amount in values),
        modifications=draw(modifications()),
    )


@settings(max_examples=200, deadline=None)
@given(capped_contracts())
def test_capped_tm_revenue_stays_within_the_cap_and_the_rest_is_held(contract: RevenueContract) -> None:
    for result in revenue_schedule(contract, RUNS):
        approved = sum((v.amount for v in contract.billable_values if v.work_date <= result.period_end), Decimal(0))
        assert result.transaction_price is not None
        assert result.cumulative_revenue <= result.transaction_price
        assert result.cumulative_revenue + result.excess_over_cap == approved
        assert result.unbilled_receivable == result.cumulative_revenue
