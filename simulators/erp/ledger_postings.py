"""Journal entry builders, one per financial event.

Revenue reaches the REVENUE account only through revenue recognition (`revenue_recognized`);
invoices and credit memos move amounts between AR and the contract's position accounts. That is the
ASC 606 picture (DOMAIN.md R6): per contract, cumulative revenue minus cumulative billing is held as
an unbilled receivable (right-to-invoice work not yet invoiced: only time must pass), a contract asset
(revenue ahead of an unconditional right, e.g. awaiting a milestone) or a contract liability (billing
ahead of revenue), netted to one of them (TRG Q61). The T&M example of DOMAIN.md: March revenue
Dr UNBILLED_AR / Cr REVENUE 24,000; the April invoice Dr AR / Cr UNBILLED_AR 24,000 (plus tax).

Every builder takes a `PostingContext` (legal entity, currency, period status), so a posting dated in
a closed period lands in the next open period and its memo says so.

A fixed-fee or retainer contract that passes reimbursable expenses through has two streams: the fee
nets to a contract asset or liability, while approved expenses are an unconditional right (an
unbilled receivable until invoiced). The builders' waterfalls cannot tell the streams apart, so
`netted_position` says where the contract's balance belongs given the expense stream's net, and
`repositioned` makes an entry's position lines land there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from simulators.erp.ledger import (
    Account,
    ContractPosition,
    JournalEntry,
    JournalLine,
    SourceRef,
    credit,
    debit,
    non_zero,
)
from simulators.erp.ledger_periods import Periods
from simulators.erp.money import ZERO
from simulators.erp.revenue import RevenueResult, has_unconditional_right

POSITION_ACCOUNTS = (Account.UNBILLED_AR, Account.CONTRACT_ASSET, Account.CONTRACT_LIABILITY)


@dataclass(frozen=True, slots=True)
class PostingContext:
    """The ledger an entry posts to: legal entity, its currency and its period status."""

    legal_entity: str
    currency: str
    periods: Periods


def _entry(ctx: PostingContext, on: date, lines: Sequence[JournalLine], memo: str,
           source_refs: Sequence[SourceRef]) -> JournalEntry:
    posting = ctx.periods.posting_for(on)
    full_memo = memo if posting.note is None else f"{memo} ({posting.note})"
    return JournalEntry(
        legal_entity=ctx.legal_entity,
        currency=ctx.currency,
        original_date=posting.original_date,
        posting_date=posting.posting_date,
        posted_period=posting.posted_period,
        lines=non_zero(lines),
        memo=full_memo,
        source_refs=tuple(source_refs),
    )


def _require_non_negative(**amounts: Decimal) -> None:
    for name, amount in amounts.items():
        if amount < 0:
            raise ValueError(f"{name} must not be negative, got {amount}")


def _toward_liability(amount: Decimal, position: ContractPosition, contract_id: str) -> list[JournalLine]:
    """Credit `amount` against the contract: unbilled receivable first, then contract asset, then liability."""
    from_unbilled = min(amount, max(position.unbilled_receivable, ZERO))
    from_asset = min(amount - from_unbilled, max(position.contract_asset, ZERO))
    to_liability = amount - from_unbilled - from_asset
    return [
        credit(Account.UNBILLED_AR, from_unbilled, contract_id=contract_id),
        credit(Account.CONTRACT_ASSET, from_asset, contract_id=contract_id),
        credit(Account.CONTRACT_LIABILITY, to_liability, contract_id=contract_id),
    ]


def _toward_asset(amount: Decimal, position: ContractPosition, contract_id: str,
                  unconditional: bool) -> list[JournalLine]:
    """Debit `amount` to the contract: contract liability first, then unbilled receivable or contract asset."""
    from_liability = min(amount, max(position.contract_liability, ZERO))
    asset_account = Account.UNBILLED_AR if unconditional else Account.CONTRACT_ASSET
    return [
        debit(Account.CONTRACT_LIABILITY, from_liability, contract_id=contract_id),
        debit(asset_account, amount - from_liability, contract_id=contract_id),
    ]


def invoice_posted(ctx: PostingContext, *, invoice_id: str, invoice_date: date, customer_id: str,
                   contract_id: str, net_amount: Decimal, tax_amount: Decimal, position: ContractPosition,
                   source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Post an invoice: Dr AR gross / Cr unbilled AR, contract asset, then contract liability (net) / Cr tax.

    `position` is the contract's ledger position before the invoice (`ledger.contract_position`).
    """
    _require_non_negative(net_amount=net_amount, tax_amount=tax_amount)
    lines = [
        debit(Account.AR, net_amount + tax_amount, customer_id=customer_id, contract_id=contract_id),
        *_toward_liability(net_amount, position, contract_id),
        credit(Account.TAX_PAYABLE, tax_amount, contract_id=contract_id),
    ]
    return _entry(ctx, invoice_date, lines, f"Invoice {invoice_id} posted", source_refs)


def credit_memo_posted(ctx: PostingContext, *, credit_memo_id: str, original_invoice_id: str, memo_date: date,
                       customer_id: str, contract_id: str, net_amount: Decimal, tax_amount: Decimal,
                       position: ContractPosition, unconditional: bool,
                       source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Post a credit memo: Dr contract liability, then unbilled AR (or contract asset) (net) / Dr tax / Cr AR.

    Revenue is untouched: the work was done. If the credited work is itself reversed, the next revenue
    run lowers revenue. `unconditional` is true for right-to-invoice (T&M) contracts.
    """
    _require_non_negative(net_amount=net_amount, tax_amount=tax_amount)
    lines = [
        *_toward_asset(net_amount, position, contract_id, unconditional),
        debit(Account.TAX_PAYABLE, tax_amount, contract_id=contract_id),
        credit(Account.AR, net_amount + tax_amount, customer_id=customer_id, contract_id=contract_id),
    ]
    memo = f"Credit memo {credit_memo_id} against invoice {original_invoice_id}"
    return _entry(ctx, memo_date, lines, memo, source_refs)


def revenue_recognized(ctx: PostingContext, *, recognized_on: date, contract_id: str, amount: Decimal,
                       position: ContractPosition, unconditional: bool, memo: str | None = None,
                       source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Post period revenue (a negative amount reverses revenue).

    Positive: Dr contract liability (up to its balance), Dr unbilled AR (`unconditional`, T&M) or
    contract asset for the rest / Cr revenue. Negative: Dr revenue / Cr unbilled AR, contract asset,
    then contract liability.
    """
    if amount == 0:
        raise ValueError("a revenue entry needs a non-zero amount")
    if amount > 0:
        lines = [*_toward_asset(amount, position, contract_id, unconditional),
                 credit(Account.REVENUE, amount, contract_id=contract_id)]
    else:
        lines = [debit(Account.REVENUE, -amount, contract_id=contract_id),
                 *_toward_liability(-amount, position, contract_id)]
    text = memo or f"Revenue recognized on contract {contract_id}"
    return _entry(ctx, recognized_on, lines, text, source_refs)


def payment_received(ctx: PostingContext, *, payment_id: str, received_on: date, customer_id: str,
                     cash_amount: Decimal, applied_amount: Decimal, unapplied_amount: Decimal,
                     source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Post a customer payment: Dr cash / Cr AR (applied) / Cr unapplied cash (excess) / FX difference.

    All amounts are in the ledger currency (a foreign payment already converted). Any difference
    cash - applied - unapplied is a realised FX gain (credit) or loss (debit).
    """
    _require_non_negative(cash_amount=cash_amount, applied_amount=applied_amount,
                          unapplied_amount=unapplied_amount)
    fx_gain = cash_amount - applied_amount - unapplied_amount
    lines = [
        debit(Account.CASH, cash_amount),
        credit(Account.AR, applied_amount, customer_id=customer_id),
        credit(Account.UNAPPLIED_CASH, unapplied_amount, customer_id=customer_id),
        credit(Account.FX_GAIN_LOSS, fx_gain),
    ]
    return _entry(ctx, received_on, lines, f"Payment {payment_id} received from {customer_id}", source_refs)


def unapplied_cash_applied(ctx: PostingContext, *, applied_on: date, customer_id: str, amount: Decimal,
                           invoice_ids: Sequence[str], source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Apply a customer's unapplied cash to invoices: Dr unapplied cash / Cr AR."""
    _require_non_negative(amount=amount)
    lines = [
        debit(Account.UNAPPLIED_CASH, amount, customer_id=customer_id),
        credit(Account.AR, amount, customer_id=customer_id),
    ]
    memo = f"Unapplied cash of {customer_id} applied to {', '.join(invoice_ids)}"
    return _entry(ctx, applied_on, lines, memo, source_refs)


def credit_refunded(ctx: PostingContext, *, credit_memo_id: str, refunded_on: date, customer_id: str,
                    amount: Decimal, source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Pay a customer back the open credit of a credit memo: Dr AR (clearing the credit) / Cr cash."""
    _require_non_negative(amount=amount)
    lines = [
        debit(Account.AR, amount, customer_id=customer_id),
        credit(Account.CASH, amount),
    ]
    return _entry(ctx, refunded_on, lines, f"Credit of {credit_memo_id} refunded to {customer_id}", source_refs)


def bad_debt_written_off(ctx: PostingContext, *, invoice_id: str, written_off_on: date, customer_id: str,
                         amount: Decimal, source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Write off what a customer will not pay of an invoice: Dr bad debt expense / Cr AR.

    Revenue is untouched: the work was delivered, and a credit loss is an expense, not a price change.
    """
    _require_non_negative(amount=amount)
    lines = [
        debit(Account.BAD_DEBT, amount, customer_id=customer_id),
        credit(Account.AR, amount, customer_id=customer_id),
    ]
    return _entry(ctx, written_off_on, lines, f"Invoice {invoice_id} of {customer_id} written off as bad debt",
                  source_refs)


def fx_difference_posted(ctx: PostingContext, *, on: date, customer_id: str, gain: Decimal,
                         account: Account = Account.AR, memo: str | None = None,
                         source_refs: Sequence[SourceRef] = ()) -> JournalEntry:
    """Post a realised FX difference against `account` (AR by default): a gain is Cr FX gain/loss,
    a loss (negative `gain`) Dr FX gain/loss; e.g. clearing the residual of a converted payment."""
    if gain == 0:
        raise ValueError("an FX difference entry needs a non-zero amount")
    lines = [
        debit(account, gain, customer_id=customer_id),
        credit(Account.FX_GAIN_LOSS, gain),
    ]
    text = memo or f"FX {'gain' if gain > 0 else 'loss'} for {customer_id}"
    return _entry(ctx, on, lines, text, source_refs)


def revenue_result_posted(ctx: PostingContext, result: RevenueResult, position: ContractPosition,
                          source_refs: Sequence[SourceRef] = ()) -> tuple[JournalEntry, ...]:
    """Post a revenue run's result: each non-zero catch-up on its modification date, the rest of the
    period revenue on the period end; nothing when the period revenue is zero.

    `position` is the contract's ledger position before the run. Separate contracts have their own
    position: post each of `result.separate_contracts` with its own call.
    """
    unconditional = has_unconditional_right(result.policy)
    entries: list[JournalEntry] = []
    rest = result.period_revenue
    for adjustment in result.adjustments:
        if adjustment.amount == 0:
            continue
        memo = (f"Catch-up of modification {adjustment.modification_reference} "
                f"on contract {result.contract_id}")
        entries.append(revenue_recognized(ctx, recognized_on=adjustment.effective_date,
                                          contract_id=result.contract_id, amount=adjustment.amount,
                                          position=position, unconditional=unconditional, memo=memo,
                                          source_refs=source_refs))
        position = position.after(entries[-1], result.contract_id)
        rest -= adjustment.amount
    if rest != 0:
        memo = f"Revenue to {result.period_end.isoformat()} on contract {result.contract_id}"
        entries.append(revenue_recognized(ctx, recognized_on=result.period_end, contract_id=result.contract_id,
                                          amount=rest, position=position, unconditional=unconditional, memo=memo,
                                          source_refs=source_refs))
    return tuple(entries)


def netted_position(net: Decimal, pass_through: Decimal, unconditional: bool) -> ContractPosition:
    """Split a contract's revenue minus billing (`net`) into its R6 balances.

    `pass_through` is the part of `net` that is reimbursable expenses (approved minus invoiced):
    owed unconditionally, so an unbilled receivable when positive; the rest, with an expense excess
    billed, is netted to one contract asset or liability (TRG Q61). A right-to-invoice contract
    (`unconditional`) holds all of it as an unbilled receivable, or a liability when billing is ahead.
    """
    if unconditional:
        return ContractPosition(max(net, ZERO), ZERO, max(-net, ZERO))
    receivable = max(pass_through, ZERO)
    contract_net = net - receivable
    return ContractPosition(receivable, max(contract_net, ZERO), max(-contract_net, ZERO))


def repositioned(entry: JournalEntry, contract_id: str, before: ContractPosition,
                 after: ContractPosition) -> JournalEntry:
    """Return the entry with its position lines for a contract replaced by those taking it from `before` to
    `after` (the entry stays balanced only if both hold the same net: JournalEntry refuses otherwise)."""
    kept = [line for line in entry.lines if line.contract_id != contract_id or line.account not in POSITION_ACCOUNTS]
    moves = [debit(Account.UNBILLED_AR, after.unbilled_receivable - before.unbilled_receivable,
                   contract_id=contract_id),
             debit(Account.CONTRACT_ASSET, after.contract_asset - before.contract_asset, contract_id=contract_id),
             credit(Account.CONTRACT_LIABILITY, after.contract_liability - before.contract_liability,
                    contract_id=contract_id)]
    return dataclasses.replace(entry, lines=non_zero([*kept, *moves]))
