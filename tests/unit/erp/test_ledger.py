"""General ledger: rounding, balanced entries, periods and close, trial balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from simulators.erp.ledger import (
    Account,
    ContractPosition,
    JournalEntry,
    JournalLine,
    UnbalancedEntryError,
    UnknownCurrencyError,
    quantize,
    trial_balance,
)
from simulators.erp.ledger_periods import PeriodError, Periods, next_period, parse_period
from simulators.erp.ledger_postings import PostingContext, invoice_posted, unapplied_cash_applied

D = Decimal
ZERO = D("0.00")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("2.345", "2.35"), ("2.344", "2.34"), ("-2.345", "-2.35"), ("1.005", "1.01"), ("-0.004", "0.00")],
)
def test_amounts_round_half_up_to_the_cent(amount: str, expected: str) -> None:
    rounded = quantize(D(amount), "GBP")

    assert rounded == D(expected)
    assert str(rounded) == expected


def test_an_unknown_currency_is_refused_by_name() -> None:
    with pytest.raises(UnknownCurrencyError, match="unknown currency 'CHF'"):
        quantize(D("1"), "CHF")


def entry(*lines: JournalLine, currency: str = "USD") -> JournalEntry:
    return JournalEntry("US01", currency, date(2026, 3, 1), date(2026, 3, 1), "2026-03", lines, "test")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((JournalLine(Account.CASH, debit=D("10.00")), JournalLine(Account.AR, credit=D("9.99"))),
         "debits 10.00 != credits 9.99"),
        ((JournalLine(Account.CASH, debit=D("0.00"), credit=D("0.00")),), "at least two lines"),
        ((JournalLine(Account.CASH, debit=D("-1.00")), JournalLine(Account.AR, credit=D("-1.00"))), "negative"),
        ((JournalLine(Account.CASH, debit=D("1.001")), JournalLine(Account.AR, credit=D("1.001"))),
         "not rounded to USD"),
        ((JournalLine(Account.CASH, debit=D("1.00"), credit=D("1.00")), JournalLine(Account.AR, credit=D("0.00"))),
         "exactly one of debit and credit"),
    ],
)
def test_a_journal_entry_refuses_to_exist_unbalanced_or_malformed(lines: tuple[JournalLine, ...],
                                                                   message: str) -> None:
    with pytest.raises(UnbalancedEntryError, match=message):
        entry(*lines)


def test_a_balanced_entry_totals_its_debits_and_credits() -> None:
    posted = entry(JournalLine(Account.CASH, debit=D("100.00")), JournalLine(Account.AR, credit=D("60.00")),
                   JournalLine(Account.UNAPPLIED_CASH, credit=D("40.00")))

    assert (posted.total_debit, posted.total_credit, posted.redirected) == (D("100.00"), D("100.00"), False)


def test_periods_close_in_order() -> None:
    march = Periods().close("2026-03")

    assert (march.is_closed("2026-02"), march.is_closed("2026-03"), march.is_closed("2026-04")) == (
        True, True, False)
    assert march.first_open() == "2026-04"
    assert march.close("2026-04").closed_through == "2026-04"
    with pytest.raises(PeriodError, match="cannot close 2026-05 before 2026-04"):
        march.close("2026-05")
    with pytest.raises(PeriodError, match="already closed"):
        march.close("2026-02")


def test_only_the_last_closed_period_can_be_reopened() -> None:
    april = Periods().close("2026-03").close("2026-04")

    assert april.reopen("2026-04") == Periods("2026-03")
    with pytest.raises(PeriodError, match=r"only the last closed period \(2026-04\)"):
        april.reopen("2026-03")


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-01", "2026-00", ""])
def test_malformed_periods_are_refused(period: str) -> None:
    with pytest.raises(PeriodError, match="not of the form YYYY-MM"):
        parse_period(period)


def test_december_is_followed_by_january() -> None:
    assert next_period("2026-12") == "2027-01"


@pytest.fixture
def us01() -> PostingContext:
    return PostingContext("US01", "USD", Periods())


def test_posting_dated_in_a_closed_period_lands_in_the_next_open_period_and_says_so(us01: PostingContext) -> None:
    closed = PostingContext("US01", "USD", Periods().close("2026-02").close("2026-03"))

    posted = invoice_posted(closed, invoice_id="INV-000007", invoice_date=date(2026, 2, 20), customer_id="CUS-1",
                            contract_id="CTR-1", net_amount=D("100.00"), tax_amount=ZERO,
                            position=ContractPosition())

    assert (posted.original_date, posted.posting_date, posted.posted_period) == (
        date(2026, 2, 20), date(2026, 4, 1), "2026-04")
    assert posted.redirected
    assert posted.memo == ("Invoice INV-000007 posted (original date 2026-02-20 falls in closed period 2026-02; "
                           "posted on 2026-04-01 in period 2026-04)")


def test_posting_in_an_open_period_keeps_its_date(us01: PostingContext) -> None:
    posted = invoice_posted(us01, invoice_id="INV-1", invoice_date=date(2026, 2, 20), customer_id="CUS-1",
                            contract_id="CTR-1", net_amount=D("100.00"), tax_amount=ZERO, position=ContractPosition())

    assert (posted.posting_date, posted.posted_period, posted.memo) == (date(2026, 2, 20), "2026-02",
                                                                        "Invoice INV-1 posted")


def test_trial_balance_is_per_entity_and_currency_in_chart_order(us01: PostingContext) -> None:
    uk01 = PostingContext("UK01", "GBP", Periods())
    entries = [
        invoice_posted(us01, invoice_id="INV-1", invoice_date=date(2026, 3, 3), customer_id="CUS-1",
                       contract_id="CTR-1", net_amount=D("1000.00"), tax_amount=ZERO, position=ContractPosition()),
        invoice_posted(uk01, invoice_id="INV-2", invoice_date=date(2026, 3, 4), customer_id="CUS-2",
                       contract_id="CTR-2", net_amount=D("500.00"), tax_amount=D("100.00"),
                       position=ContractPosition()),
        unapplied_cash_applied(us01, applied_on=date(2026, 4, 2), customer_id="CUS-1", amount=D("250.00"),
                               invoice_ids=["INV-1"]),
    ]

    march_us = trial_balance(entries, "US01", "USD", through_period="2026-03")
    april_us = trial_balance(entries, "US01", "USD")
    uk = trial_balance(entries, "UK01", "GBP")

    assert [(r.account, r.balance) for r in march_us.rows] == [
        (Account.AR, D("1000.00")), (Account.CONTRACT_LIABILITY, D("-1000.00"))]
    assert [(r.account, r.balance) for r in april_us.rows] == [
        (Account.AR, D("750.00")), (Account.UNAPPLIED_CASH, D("250.00")), (Account.CONTRACT_LIABILITY, D("-1000.00"))]
    assert (uk.balance_of(Account.TAX_PAYABLE), uk.balance_of(Account.CASH)) == (D("-100.00"), ZERO)
    for balance in (march_us, april_us, uk):
        assert balance.total_debit == balance.total_credit
    assert trial_balance(entries, "US01", "GBP").rows == ()

