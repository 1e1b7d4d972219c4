"""Journal entries of each financial event, and the DOMAIN.md examples posted through the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.erp.ledger import Account, ContractPosition, JournalEntry, contract_position, trial_balance
from simulators.erp.ledger_periods import Periods
from simulators.erp.ledger_postings import (
    PostingContext,
    credit_memo_posted,
    fx_difference_posted,
    invoice_posted,
    payment_received,
    revenue_recognized,
    revenue_result_posted,
    unapplied_cash_applied,
)
from simulators.erp.revenue import (
    Billing,
    ContractModification,
    CostActual,
    EstimateRevision,
    ModificationKind,
    RevenueContract,
    RevenuePolicy,
    revenue_schedule,
)

D = Decimal
ZERO = D("0.00")
DAY = date(2026, 4, 5)


@pytest.fixture
def uk01() -> PostingContext:
    return PostingContext("UK01", "GBP", Periods())


def lines_of(posted: JournalEntry) -> list[tuple[Account, Decimal, Decimal]]:
    return [(line.account, line.debit, line.credit) for line in posted.lines]


def test_tm_invoice_clears_the_unbilled_receivable_and_books_vat(uk01: PostingContext) -> None:
    posted = invoice_posted(uk01, invoice_id="INV-1", invoice_date=DAY, customer_id="CUS-1", contract_id="CTR-1",
                            net_amount=D("24000.00"), tax_amount=D("4800.00"),
                            position=ContractPosition(unbilled_receivable=D("24000.00")))

    assert lines_of(posted) == [
        (Account.AR, D("28800.00"), ZERO),
        (Account.UNBILLED_AR, ZERO, D("24000.00")),
        (Account.TAX_PAYABLE, ZERO, D("4800.00")),
    ]
    assert posted.lines[0].customer_id == "CUS-1"


def test_invoice_beyond_the_contract_asset_creates_a_contract_liability(uk01: PostingContext) -> None:
    posted = invoice_posted(uk01, invoice_id="INV-2", invoice_date=DAY, customer_id="CUS-1", contract_id="CTR-1",
                            net_amount=D("120000.00"), tax_amount=ZERO,
                            position=ContractPosition(contract_asset=D("45000.00")))

    assert lines_of(posted) == [
        (Account.AR, D("120000.00"), ZERO),
        (Account.CONTRACT_ASSET, ZERO, D("45000.00")),
        (Account.CONTRACT_LIABILITY, ZERO, D("75000.00")),
    ]


def test_revenue_first_consumes_the_contract_liability(uk01: PostingContext) -> None:
    posted = revenue_recognized(uk01, recognized_on=DAY, contract_id="CTR-1", amount=D("105000.00"),
                                position=ContractPosition(contract_liability=D("75000.00")), unconditional=False)

    assert lines_of(posted) == [
        (Account.CONTRACT_LIABILITY, D("75000.00"), ZERO),
        (Account.CONTRACT_ASSET, D("30000.00"), ZERO),
        (Account.REVENUE, ZERO, D("105000.00")),
    ]


def test_reversed_tm_revenue_reduces_the_unbilled_receivable_then_raises_a_liability(uk01: PostingContext) -> None:
    posted = revenue_recognized(uk01, recognized_on=DAY, contract_id="CTR-1", amount=D("-1000.00"),
                                position=ContractPosition(unbilled_receivable=D("600.00")), unconditional=True)

    assert lines_of(posted) == [
        (Account.REVENUE, D("1000.00"), ZERO),
        (Account.UNBILLED_AR, ZERO, D("600.00")),
        (Account.CONTRACT_LIABILITY, ZERO, D("400.00")),
    ]


def test_credit_memo_returns_the_amount_to_unbilled_and_reverses_the_vat(uk01: PostingContext) -> None:
    posted = credit_memo_posted(uk01, credit_memo_id="CM-1", original_invoice_id="INV-1", memo_date=DAY,
                                customer_id="CUS-1", contract_id="CTR-1", net_amount=D("1000.00"),
                                tax_amount=D("200.00"), position=ContractPosition(contract_liability=D("300.00")),
                                unconditional=True)

    assert lines_of(posted) == [
        (Account.CONTRACT_LIABILITY, D("300.00"), ZERO),
        (Account.UNBILLED_AR, D("700.00"), ZERO),
        (Account.TAX_PAYABLE, D("200.00"), ZERO),
        (Account.AR, ZERO, D("1200.00")),
    ]
    assert posted.memo == "Credit memo CM-1 against invoice INV-1"


@pytest.mark.parametrize(
    ("cash", "applied", "unapplied", "expected"),
    [
        ("1000.00", "800.00", "200.00", [(Account.CASH, "1000.00", "0.00"), (Account.AR, "0.00", "800.00"),
                                        (Account.UNAPPLIED_CASH, "0.00", "200.00")]),
        ("1000.02", "1000.00", "0.00", [(Account.CASH, "1000.02", "0.00"), (Account.AR, "0.00", "1000.00"),
                                        (Account.FX_GAIN_LOSS, "0.00", "0.02")]),
        ("999.98", "1000.00", "0.00", [(Account.CASH, "999.98", "0.00"), (Account.AR, "0.00", "1000.00"),
                                       (Account.FX_GAIN_LOSS, "0.02", "0.00")]),
    ],
)
def test_payment_books_cash_against_ar_unapplied_cash_and_fx(uk01: PostingContext, cash: str, applied: str,
                                                             unapplied: str, expected: list[tuple[Account, str, str]]
                                                             ) -> None:
    posted = payment_received(uk01, payment_id="PAY-1", received_on=DAY, customer_id="CUS-1", cash_amount=D(cash),
                              applied_amount=D(applied), unapplied_amount=D(unapplied))

    assert lines_of(posted) == [(account, D(dr), D(cr)) for account, dr, cr in expected]


def test_unapplied_cash_and_fx_residuals_clear_against_ar(uk01: PostingContext) -> None:
    applied = unapplied_cash_applied(uk01, applied_on=DAY, customer_id="CUS-1", amount=D("200.00"),
                                     invoice_ids=["INV-3", "INV-4"])
    loss = fx_difference_posted(uk01, on=DAY, customer_id="CUS-1", gain=D("-0.03"))

    assert lines_of(applied) == [(Account.UNAPPLIED_CASH, D("200.00"), ZERO), (Account.AR, ZERO, D("200.00"))]
    assert applied.memo == "Unapplied cash of CUS-1 applied to INV-3, INV-4"
    assert lines_of(loss) == [(Account.AR, ZERO, D("0.03")), (Account.FX_GAIN_LOSS, D("0.03"), ZERO)]


def test_negative_invoice_amounts_are_refused(uk01: PostingContext) -> None:
    with pytest.raises(ValueError, match="net_amount must not be negative"):
        invoice_posted(uk01, invoice_id="INV-1", invoice_date=DAY, customer_id="CUS-1", contract_id="CTR-1",
                       net_amount=D("-1.00"), tax_amount=ZERO, position=ContractPosition())


def test_worked_example_posted_through_the_ledger_leaves_the_contract_asset_of_each_quarter() -> None:
    us01 = PostingContext("US01", "USD", Periods())
    q1, q2, q3, q4 = date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)
    billings = (Billing(date(2026, 1, 5), D("30000.00")), Billing(q3, D("120000.00")), Billing(q4, D("190000.00")))
    contract = RevenueContract(
        contract_id="CTR-000001", currency="USD", policy=RevenuePolicy.COST_TO_COST,
        transaction_price=D("300000.00"),
        estimates=(EstimateRevision(date(2026, 1, 1), D("200000.00")),
                   EstimateRevision(date(2026, 4, 1), D("220000.00")),
                   EstimateRevision(date(2026, 7, 1), D("240000.00"))),
        costs=(CostActual(q1, D("50000.00")), CostActual(q2, D("60000.00")), CostActual(q3, D("70000.00")),
               CostActual(q4, D("60000.00"))),
        billings=billings,
        modifications=(ContractModification("CO-1", date(2026, 7, 1), ModificationKind.CUMULATIVE_CATCH_UP,
                                            D("40000.00")),),
    )
    entries: list[JournalEntry] = []
    positions = []
    previous_end = date(2025, 12, 31)
    for result in revenue_schedule(contract, [q1, q2, q3, q4]):
        for number, billing in enumerate(billings):
            if previous_end < billing.billed_on <= result.period_end:
                entries.append(invoice_posted(us01, invoice_id=f"INV-{number}", invoice_date=billing.billed_on,
                                              customer_id="CUS-1", contract_id="CTR-000001",
                                              net_amount=billing.amount, tax_amount=ZERO,
                                              position=contract_position(entries, "CTR-000001")))
        entries.extend(revenue_result_posted(us01, result, contract_position(entries, "CTR-000001")))
        positions.append(contract_position(entries, "CTR-000001"))
        previous_end = result.period_end

    assert [(p.contract_asset, p.contract_liability) for p in positions] == [
        (D("45000.00"), ZERO), (D("120000.00"), ZERO), (D("105000.00"), ZERO), (ZERO, ZERO)]
    catch_up = next(e for e in entries if e.original_date == date(2026, 7, 1))
    assert [(line.account, line.debit + line.credit) for line in catch_up.lines] == [
        (Account.CONTRACT_ASSET, D("5833.33")), (Account.REVENUE, D("5833.33"))]
    assert catch_up.memo == "Catch-up of modification CO-1 on contract CTR-000001"
    q3_rest = next(e for e in entries if e.original_date == q3 and e.memo.startswith("Revenue"))
    assert q3_rest.total_credit == D("99166.67")
    ledger = trial_balance(entries, "US01", "USD")
    assert (ledger.balance_of(Account.REVENUE), ledger.balance_of(Account.AR)) == (D("-340000.00"), D("340000.00"))


def test_tm_example_posts_unbilled_receivable_then_moves_it_to_ar_on_invoicing() -> None:
    us01 = PostingContext("US01", "USD", Periods())
    march = revenue_recognized(us01, recognized_on=date(2026, 3, 31), contract_id="CTR-TM", amount=D("24000.00"),
                               position=ContractPosition(), unconditional=True)
    april = invoice_posted(us01, invoice_id="INV-1", invoice_date=date(2026, 4, 5), customer_id="CUS-1",
                           contract_id="CTR-TM", net_amount=D("24000.00"), tax_amount=ZERO,
                           position=contract_position([march], "CTR-TM"))

    assert lines_of(march) == [(Account.UNBILLED_AR, D("24000.00"), ZERO), (Account.REVENUE, ZERO, D("24000.00"))]
    assert lines_of(april) == [(Account.AR, D("24000.00"), ZERO), (Account.UNBILLED_AR, ZERO, D("24000.00"))]
    assert contract_position([march, april], "CTR-TM") == ContractPosition(ZERO, ZERO, ZERO)


amounts = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n).scaleb(-2))
events = st.lists(st.tuples(st.sampled_from(["invoice", "credit", "revenue", "reversal", "payment"]), amounts,
                            amounts, st.booleans()), max_size=25)


@settings(max_examples=150, deadline=None)
@given(events)
def test_every_entry_balances_and_the_contract_position_is_revenue_less_billing(
        sequence: list[tuple[str, Decimal, Decimal, bool]]) -> None:
    ctx = PostingContext("DE01", "EUR", Periods().close("2026-01"))
    entries: list[JournalEntry] = []
    revenue = billed = ZERO
    for kind, amount, other, flag in sequence:
        position = contract_position(entries, "CTR-1")
        if kind == "invoice":
            entries.append(invoice_posted(ctx, invoice_id="I", invoice_date=date(2026, 1, 9), customer_id="CUS-1",
                                          contract_id="CTR-1", net_amount=amount, tax_amount=other,
                                          position=position))
            billed += amount
        elif kind == "credit":
            entries.append(credit_memo_posted(ctx, credit_memo_id="C", original_invoice_id="I", memo_date=DAY,
                                              customer_id="CUS-1", contract_id="CTR-1", net_amount=amount,
                                              tax_amount=other, position=position, unconditional=flag))
            billed -= amount
        elif kind in ("revenue", "reversal"):
            signed = amount if kind == "revenue" else -amount
            entries.append(revenue_recognized(ctx, recognized_on=DAY, contract_id="CTR-1", amount=signed,
                                              position=position, unconditional=flag))
            revenue += signed
        else:
            entries.append(payment_received(ctx, payment_id="P", received_on=DAY, customer_id="CUS-1",
                                            cash_amount=amount + other, applied_amount=amount,
                                            unapplied_amount=other if flag else ZERO))
        assert entries[-1].total_debit == entries[-1].total_credit
        assert entries[-1].posted_period != "2026-01"
    final = contract_position(entries, "CTR-1")
    assert final.unbilled_receivable + final.contract_asset - final.contract_liability == revenue - billed
    ledger = trial_balance(entries, "DE01", "EUR")
    assert ledger.total_debit == ledger.total_credit


def test_a_revenue_run_with_nothing_new_posts_nothing() -> None:
    us01 = PostingContext("US01", "USD", Periods())
    contract = RevenueContract(contract_id="CTR-TM", currency="USD", policy=RevenuePolicy.RIGHT_TO_INVOICE)

    (result,) = revenue_schedule(contract, [date(2026, 3, 31)])

    assert revenue_result_posted(us01, result, ContractPosition()) == ()
