"""Revenue recognition runs per legal entity and period, their journal entries, and revenue schedules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import ApiProblem
from simulators.common.store import Record
from simulators.erp.journals import position_of, posting_context, record_entry
from simulators.erp.ledger import Account, JournalEntry, SourceRef
from simulators.erp.ledger_postings import revenue_result_posted
from simulators.erp.money import ZERO, money_str, period_end, total
from simulators.erp.revenue import RevenueInputError, RevenuePolicy, RevenueResult, recognize
from simulators.erp.revenue_inputs import ContractRecords, revenue_streams

operations = Operations()


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else money_str(value)


def _result_fields(result: RevenueResult) -> dict[str, Any]:
    return {
        "contract_id": result.contract_id, "policy": result.policy.value, "currency": result.currency,
        "period_end": result.period_end.isoformat(), "transaction_price": _amount(result.transaction_price),
        "cumulative_revenue": money_str(result.cumulative_revenue), "period_revenue": money_str(result.period_revenue),
        "cumulative_billed": money_str(result.cumulative_billed), "contract_asset": money_str(result.contract_asset),
        "contract_liability": money_str(result.contract_liability),
        "unbilled_receivable": money_str(result.unbilled_receivable),
        "progress": None if result.progress is None else f"{result.progress:f}",
        "cumulative_cost": _amount(result.cumulative_cost),
        "estimate_at_completion": _amount(result.estimate_at_completion),
        "excess_over_cap": money_str(result.excess_over_cap), "expected_loss": money_str(result.expected_loss),
        "adjustments": [{"modification_reference": a.modification_reference,
                         "effective_date": a.effective_date.isoformat(), "kind": a.kind.value,
                         "amount": money_str(a.amount)} for a in result.adjustments],
        "applied_modifications": list(result.applied_modifications),
    }


def _prior(record: Record | None) -> RevenueResult | None:
    """Rebuild the last result posted for a contract (what the next run measures from)."""
    if record is None:
        return None
    return RevenueResult(
        contract_id=record["contract_id"], currency=record["currency"], policy=RevenuePolicy(record["policy"]),
        period_end=date.fromisoformat(record["period_end"]),
        transaction_price=None if record["transaction_price"] is None else Decimal(record["transaction_price"]),
        cumulative_revenue=Decimal(record["cumulative_revenue"]), period_revenue=Decimal(record["period_revenue"]),
        cumulative_billed=Decimal(record["cumulative_billed"]), contract_asset=Decimal(record["contract_asset"]),
        contract_liability=Decimal(record["contract_liability"]),
        unbilled_receivable=Decimal(record["unbilled_receivable"]),
        applied_modifications=tuple(record["applied_modifications"]))


def _revenue_in(entry: JournalEntry) -> Decimal:
    """Return the revenue an entry recognizes (credits to revenue less debits)."""
    return -sum((line.net for line in entry.lines if line.account is Account.REVENUE), ZERO)


def _results_of(request: Request, contract_id: str) -> list[Record]:
    return request.store.where("revenue_results", lambda r: r["contract_id"] == contract_id)


def _recognize_contract(request: Request, contract: Record, inputs: ContractRecords, history: list[Record],
                        run_id: str, period: str, day: date) -> list[Record]:
    store = request.store
    records = []
    for stream, revenue_contract in revenue_streams(inputs, contract):
        earlier = [record for record in history if record["stream"] == stream]
        result = recognize(revenue_contract, day, _prior(earlier[-1] if earlier else None))
        entries = revenue_result_posted(
            posting_context(store, contract["legal_entity"]), result, position_of(store, contract["id"]),
            source_refs=[SourceRef(contract["source_system"], contract["source_id"], contract["source_version"])])
        expenses = stream == "PASS_THROUGH_EXPENSES"
        journal_ids = [record_entry(request, entry, "REVENUE_RUN", run_id,
                                    pass_through=_revenue_in(entry) if expenses else ZERO)["id"] for entry in entries]
        records.append(store.insert("revenue_results", {
            **_result_fields(result), "stream": stream, "revenue_run_id": run_id,
            "legal_entity": contract["legal_entity"], "period": period, "journal_entry_ids": journal_ids}))
    return records


@operations("createRevenueRun")
def create_revenue_run(request: Request) -> Reply:
    """Recognize revenue for every contract of a legal entity up to the end of a period."""
    legal_entity, period = request.body["legal_entity"], request.body["period"]
    store = request.store
    later = store.first("revenue_runs", lambda run: run["legal_entity"] == legal_entity and run["period"] > period)
    if later is not None:
        raise ApiProblem(409, "conflict", "Revenue already recognized later",
                         f"{legal_entity} has a revenue run for {later['period']} ({later['id']}); runs go forward",
                         field="body/period", latest_run_id=later["id"])
    run_id = store.new_id("revenue_runs")
    day = period_end(period)
    results: list[Record] = []
    exceptions: list[dict[str, str]] = []
    inputs = ContractRecords(store)
    history: dict[str, list[Record]] = defaultdict(list)
    for record in store.where("revenue_results", lambda r: r["legal_entity"] == legal_entity):
        history[record["contract_id"]].append(record)
    for contract in store.where("contracts", lambda c: c["legal_entity"] == legal_entity):
        try:
            with store.transaction():
                results += _recognize_contract(request, contract, inputs, history[contract["id"]], run_id, period,
                                               day)
        except (RevenueInputError, ValueError, ArithmeticError) as error:
            exceptions.append({"contract_id": contract["id"], "detail": str(error)})
    run = store.insert("revenue_runs", {
        "legal_entity": legal_entity, "currency": store.get("legal_entities", legal_entity)["currency"],
        "period": period, "period_end": day.isoformat(), "status": "COMPLETED",
        "period_revenue": money_str(total(r["period_revenue"] for r in results)),
        "results": [{key: value for key, value in r.items() if key not in ("version", "created_at", "updated_at")}
                    for r in results],
        "journal_entry_ids": [je for r in results for je in r["journal_entry_ids"]], "exceptions": exceptions,
    }, record_id=run_id)
    request.emit("erp.revenue.recognized", run)
    return created(run, f"/revenue-runs/{run_id}")


@operations("getRevenueRun")
def get_revenue_run(request: Request) -> Reply:
    """Read a revenue run."""
    return ok(request.store.get("revenue_runs", request.path["revenue_run_id"]))


@operations("listRevenueRuns")
def list_revenue_runs(request: Request) -> Reply:
    """List revenue runs, optionally of one entity."""
    entity = request.query.get("legal_entity")
    return request.page(request.store.where("revenue_runs", lambda run: entity is None
                                            or run["legal_entity"] == entity))


@operations("getContractRevenue")
def get_contract_revenue(request: Request) -> Reply:
    """Read a contract's revenue schedule (one result per run) and its ledger position."""
    contract = request.store.get("contracts", request.path["contract_id"])
    position = position_of(request.store, contract["id"])
    schedule = [{key: value for key, value in r.items() if key not in ("version", "created_at", "updated_at")}
                for r in _results_of(request, contract["id"])]
    return Reply(200, {
        "contract_id": contract["id"], "currency": contract["currency"], "revenue_policy": contract["revenue_policy"],
        "position": {"unbilled_receivable": money_str(position.unbilled_receivable),
                     "contract_asset": money_str(position.contract_asset),
                     "contract_liability": money_str(position.contract_liability)},
        "schedule": schedule,
    })
