"""The general ledger in the store: journal entries as records, contract positions, trial balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, ok
from simulators.common.store import Record, Store
from simulators.erp.ledger import (
    CHART_OF_ACCOUNTS,
    Account,
    ContractPosition,
    JournalEntry,
    JournalLine,
    trial_balance,
)
from simulators.erp.ledger_postings import PostingContext, netted_position, repositioned
from simulators.erp.money import ZERO, money_str
from simulators.erp.periods import periods_of
from simulators.erp.revenue import RevenuePolicy, has_unconditional_right

operations = Operations()


def posting_context(store: Store, legal_entity: str) -> PostingContext:
    """Return the ledger context (entity, currency, period status) entries of an entity post in."""
    ledger = store.get("ledgers", legal_entity)
    return PostingContext(legal_entity, ledger["currency"], periods_of(store, legal_entity))


def position_of(store: Store, contract_id: str) -> ContractPosition:
    """Return a contract's ledger position (unbilled receivable, contract asset, contract liability)."""
    record = store.find("contract_positions", contract_id)
    if record is None:
        return ContractPosition()
    return ContractPosition(Decimal(record["unbilled_receivable"]), Decimal(record["contract_asset"]),
                            Decimal(record["contract_liability"]))


def pass_through_of(store: Store, contract_id: str) -> Decimal:
    """Return the part of a contract's position that is reimbursable expenses: approved minus invoiced."""
    record = store.find("contract_positions", contract_id)
    return ZERO if record is None else Decimal(record.get("pass_through_net", "0.00"))


def _settled(store: Store, entry: JournalEntry, contract_id: str, pass_through: Decimal) -> JournalEntry:
    """Return the entry with the contract's position lines landing where R6 puts its balance."""
    contract = store.find("contracts", contract_id)
    if contract is None:
        return entry
    before = position_of(store, contract_id)
    moved = before.after(entry, contract_id)
    net = moved.unbilled_receivable + moved.contract_asset - moved.contract_liability
    target = netted_position(net, pass_through, has_unconditional_right(RevenuePolicy(contract["revenue_policy"])))
    return entry if target == moved else repositioned(entry, contract_id, before, target)


def _line(line: JournalLine) -> dict[str, Any]:
    number, title = CHART_OF_ACCOUNTS[line.account]
    return {"account": line.account.value, "account_number": number, "account_name": title,
            "debit": money_str(line.debit), "credit": money_str(line.credit),
            "customer_id": line.customer_id, "contract_id": line.contract_id}


def record_entry(request: Request, entry: JournalEntry, source_type: str, source_id: str,
                 pass_through: Decimal = ZERO) -> Record:
    """Store a balanced journal entry and roll forward the positions of the contracts it touches.

    `pass_through` is what the entry moves in its contract's reimbursable expenses (+ recognized,
    - invoiced); the contract's position lines are set so its balances stay where R6 puts them.
    """
    store = request.store
    contract_ids = sorted({line.contract_id for line in entry.lines if line.contract_id is not None})
    if pass_through != 0 and len(contract_ids) != 1:
        raise ValueError(f"pass-through expenses moved by an entry of {len(contract_ids)} contracts")
    expenses = {contract_id: pass_through_of(store, contract_id) + pass_through for contract_id in contract_ids}
    for contract_id in contract_ids:
        entry = _settled(store, entry, contract_id, expenses[contract_id])
    record = store.insert("journal_entries", {
        "legal_entity": entry.legal_entity, "currency": entry.currency,
        "original_date": entry.original_date.isoformat(), "posting_date": entry.posting_date.isoformat(),
        "period": entry.posted_period, "redirected": entry.redirected, "memo": entry.memo,
        "source_type": source_type, "source_id": source_id,
        "source_refs": [{"system": ref.system, "source_id": ref.source_id, "version": ref.version}
                        for ref in entry.source_refs],
        "lines": [_line(line) for line in entry.lines],
        "total_debit": money_str(entry.total_debit), "total_credit": money_str(entry.total_credit),
    })
    for contract_id in contract_ids:
        position = position_of(store, contract_id).after(entry, contract_id)
        fields = {"unbilled_receivable": money_str(position.unbilled_receivable),
                  "contract_asset": money_str(position.contract_asset),
                  "contract_liability": money_str(position.contract_liability),
                  "pass_through_net": money_str(expenses[contract_id])}
        if store.find("contract_positions", contract_id) is None:
            store.insert("contract_positions", {"contract_id": contract_id, **fields}, record_id=contract_id)
        else:
            store.update("contract_positions", contract_id, fields)
    return record


def entry_of(record: Record) -> JournalEntry:
    """Rebuild a journal entry from its record (for the trial balance)."""
    from datetime import date

    return JournalEntry(
        legal_entity=record["legal_entity"], currency=record["currency"],
        original_date=date.fromisoformat(record["original_date"]),
        posting_date=date.fromisoformat(record["posting_date"]), posted_period=record["period"],
        lines=tuple(JournalLine(Account(line["account"]), Decimal(line["debit"]), Decimal(line["credit"]),
                                line["customer_id"], line["contract_id"]) for line in record["lines"]),
        memo=record["memo"])


@operations("listJournalEntries")
def list_journal_entries(request: Request) -> Reply:
    """List journal entries by entity, period, source document or contract."""
    query = request.query
    filters = {name: query[name] for name in ("legal_entity", "period", "source_type", "source_id") if name in query}
    contract_id = query.get("contract_id")
    return request.page(request.store.where("journal_entries", lambda entry: all(
        entry[name] == value for name, value in filters.items()) and (
        contract_id is None or any(line["contract_id"] == contract_id for line in entry["lines"]))))


@operations("getJournalEntry")
def get_journal_entry(request: Request) -> Reply:
    """Read a journal entry."""
    return ok(request.store.get("journal_entries", request.path["journal_entry_id"]))


@operations("getTrialBalance")
def get_trial_balance(request: Request) -> Reply:
    """Sum a legal entity's entries per account, optionally through a period."""
    ledger = request.store.get("ledgers", request.path["legal_entity_id"])
    through = request.query.get("through_period")
    entries = [entry_of(record) for record in request.store.where(
        "journal_entries", lambda record: record["legal_entity"] == ledger["id"])]
    balance = trial_balance(entries, ledger["id"], ledger["currency"], through_period=through)
    return Reply(200, {
        "legal_entity": ledger["id"], "currency": ledger["currency"], "through_period": through,
        "rows": [{"account": row.account.value, "account_number": CHART_OF_ACCOUNTS[row.account][0],
                  "account_name": CHART_OF_ACCOUNTS[row.account][1], "debit": money_str(row.debit),
                  "credit": money_str(row.credit), "balance": money_str(row.balance)} for row in balance.rows],
        "total_debit": money_str(balance.total_debit), "total_credit": money_str(balance.total_credit),
    })
