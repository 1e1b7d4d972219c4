"""Double-entry general ledger: money rounding, accounts, balanced journal entries, trial balance.

Pure domain code: no Flask, no store, no I/O. Builders for each financial event live in
`ledger_postings`, accounting periods and close in `ledger_periods`.

Rounding: the ERP's one rule lives in `simulators.erp.money` (half up to cents); `quantize` applies
it after checking the currency is one the ERP carries (USD, GBP, EUR: two minor digits each). A
journal entry refuses any amount that is not already rounded, so a balanced entry balances to the
cent as stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from simulators.erp.money import ZERO, money

MINOR_UNITS: dict[str, int] = {"USD": 2, "GBP": 2, "EUR": 2}
_MINOR_UNIT_STEPS = {currency: Decimal(1).scaleb(-places) for currency, places in MINOR_UNITS.items()}


class UnknownCurrencyError(ValueError):
    """A currency the ERP does not carry."""


class UnbalancedEntryError(ValueError):
    """A journal entry whose debits and credits differ, or whose lines are malformed."""


def minor_unit(currency: str) -> Decimal:
    """Return the smallest amount of `currency` (0.01 for USD, GBP and EUR)."""
    step = _MINOR_UNIT_STEPS.get(currency)
    if step is None:
        known = ", ".join(sorted(MINOR_UNITS))
        raise UnknownCurrencyError(f"unknown currency {currency!r}; expected one of {known}")
    return step


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` to the minor unit of `currency`, half up (2.345 -> 2.35, -2.345 -> -2.35)."""
    minor_unit(currency)
    return money(amount) + ZERO  # + ZERO turns a rounded -0.00 into 0.00


def is_quantized(amount: Decimal, currency: str) -> bool:
    """Tell whether `amount` is already rounded to the minor unit of `currency`."""
    return amount.is_finite() and quantize(amount, currency) == amount


class Account(StrEnum):
    """Accounts of the chart the ERP posts to (same chart in every legal entity)."""

    CASH = "CASH"
    AR = "AR"
    UNBILLED_AR = "UNBILLED_AR"
    CONTRACT_ASSET = "CONTRACT_ASSET"
    UNAPPLIED_CASH = "UNAPPLIED_CASH"
    TAX_PAYABLE = "TAX_PAYABLE"
    CONTRACT_LIABILITY = "CONTRACT_LIABILITY"
    REVENUE = "REVENUE"
    FX_GAIN_LOSS = "FX_GAIN_LOSS"
    BAD_DEBT = "BAD_DEBT"


# Account number and title as a finance user would see them in a trial balance.
CHART_OF_ACCOUNTS: dict[Account, tuple[str, str]] = {
    Account.CASH: ("1000", "Cash at bank"),
    Account.AR: ("1100", "Accounts receivable"),
    Account.UNBILLED_AR: ("1150", "Unbilled receivables"),
    Account.CONTRACT_ASSET: ("1200", "Contract assets"),
    Account.UNAPPLIED_CASH: ("2050", "Unapplied customer cash"),
    Account.TAX_PAYABLE: ("2200", "Sales tax / VAT payable"),
    Account.CONTRACT_LIABILITY: ("2400", "Contract liabilities (deferred revenue)"),
    Account.REVENUE: ("4000", "Services revenue"),
    Account.BAD_DEBT: ("6100", "Bad debt expense"),
    Account.FX_GAIN_LOSS: ("7900", "Realised FX gain / loss"),
}


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The record an entry comes from, so an auditor can trace it (system, id, version)."""

    system: str
    source_id: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One debit or one credit on one account, optionally tagged with customer and contract."""

    account: Account
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    customer_id: str | None = None
    contract_id: str | None = None

    @property
    def net(self) -> Decimal:
        """Return debit minus credit."""
        return self.debit - self.credit


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced journal entry in one legal entity and one currency; refuses to exist unbalanced.

    `original_date` is the date of the business event; `posting_date` and `posted_period` are where
    the entry landed: the same date and its period, or the first day of the next open period when
    the original period was closed (then `memo` says so and `redirected` is true).
    """

    legal_entity: str
    currency: str
    original_date: date
    posting_date: date
    posted_period: str
    lines: tuple[JournalLine, ...]
    memo: str
    source_refs: tuple[SourceRef, ...] = ()

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise UnbalancedEntryError(f"a journal entry needs at least two lines, got {len(self.lines)}")
        for index, line in enumerate(self.lines):
            _check_line(index, line, self.currency)
        if self.total_debit != self.total_credit:
            raise UnbalancedEntryError(
                f"unbalanced entry ({self.memo!r}): debits {self.total_debit} != credits {self.total_credit}"
            )

    @property
    def total_debit(self) -> Decimal:
        """Return the sum of the debits."""
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        """Return the sum of the credits."""
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def redirected(self) -> bool:
        """Tell whether the entry landed in a later period than its original date."""
        return self.posting_date != self.original_date


def _check_line(index: int, line: JournalLine, currency: str) -> None:
    for side, amount in (("debit", line.debit), ("credit", line.credit)):
        if not is_quantized(amount, currency):
            raise UnbalancedEntryError(f"line {index} ({line.account}): {side} {amount} is not rounded to {currency}")
        if amount < 0:
            raise UnbalancedEntryError(f"line {index} ({line.account}): {side} {amount} is negative")
    if (line.debit == 0) == (line.credit == 0):
        raise UnbalancedEntryError(
            f"line {index} ({line.account}): exactly one of debit and credit must be non-zero "
            f"(debit {line.debit}, credit {line.credit})"
        )


def debit(account: Account, amount: Decimal, *, customer_id: str | None = None,
          contract_id: str | None = None) -> JournalLine:
    """Return a debit line (a negative amount becomes a credit of its absolute value)."""
    if amount < 0:
        return JournalLine(account, credit=-amount, customer_id=customer_id, contract_id=contract_id)
    return JournalLine(account, debit=amount, customer_id=customer_id, contract_id=contract_id)


def credit(account: Account, amount: Decimal, *, customer_id: str | None = None,
           contract_id: str | None = None) -> JournalLine:
    """Return a credit line (a negative amount becomes a debit of its absolute value)."""
    return debit(account, -amount, customer_id=customer_id, contract_id=contract_id)


def non_zero(lines: Iterable[JournalLine]) -> tuple[JournalLine, ...]:
    """Drop the lines whose amount is zero (builders write every line, then drop the empty ones)."""
    return tuple(line for line in lines if line.debit != 0 or line.credit != 0)


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """Total debits, credits and the balance (debit positive) of one account."""

    account: Account
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Return debits minus credits."""
        return self.debit - self.credit


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """Trial balance of one legal entity in one currency, rows in chart order."""

    legal_entity: str
    currency: str
    rows: tuple[TrialBalanceRow, ...]

    @property
    def total_debit(self) -> Decimal:
        """Return the sum of all debits."""
        return sum((row.debit for row in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        """Return the sum of all credits."""
        return sum((row.credit for row in self.rows), ZERO)

    def balance_of(self, account: Account) -> Decimal:
        """Return the balance (debit positive) of `account`, zero when it has no postings."""
        return next((row.balance for row in self.rows if row.account is account), ZERO)


def trial_balance(entries: Iterable[JournalEntry], legal_entity: str, currency: str,
                  *, through_period: str | None = None) -> TrialBalance:
    """Sum the entries of one legal entity and currency per account, optionally up to a period."""
    debits: dict[Account, Decimal] = {}
    credits: dict[Account, Decimal] = {}
    for entry in entries:
        if entry.legal_entity != legal_entity or entry.currency != currency:
            continue
        if through_period is not None and entry.posted_period > through_period:
            continue
        for line in entry.lines:
            debits[line.account] = debits.get(line.account, ZERO) + line.debit
            credits[line.account] = credits.get(line.account, ZERO) + line.credit
    rows = tuple(
        TrialBalanceRow(account, debits[account], credits[account]) for account in Account if account in debits
    )
    return TrialBalance(legal_entity, currency, rows)


@dataclass(frozen=True, slots=True)
class ContractPosition:
    """Ledger balances of one contract: unbilled receivable and contract asset (debit balances),
    contract liability (credit balance, shown positive)."""

    unbilled_receivable: Decimal = ZERO
    contract_asset: Decimal = ZERO
    contract_liability: Decimal = ZERO


    def after(self, entry: JournalEntry, contract_id: str) -> ContractPosition:
        """Return the position once `entry` is posted (only its lines tagged with `contract_id` count)."""
        unbilled, asset, liability = self.unbilled_receivable, self.contract_asset, self.contract_liability
        for line in entry.lines:
            if line.contract_id != contract_id:
                continue
            if line.account is Account.UNBILLED_AR:
                unbilled += line.net
            elif line.account is Account.CONTRACT_ASSET:
                asset += line.net
            elif line.account is Account.CONTRACT_LIABILITY:
                liability -= line.net
        return ContractPosition(unbilled, asset, liability)


def contract_position(entries: Sequence[JournalEntry], contract_id: str) -> ContractPosition:
    """Return the contract's unbilled receivable, contract asset and contract liability balances."""
    position = ContractPosition()
    for entry in entries:
        position = position.after(entry, contract_id)
    return position
