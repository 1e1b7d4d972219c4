"""The run's event log: the firm's business facts in date order, one line each, in an operations person's words.

Written once at the end of a run from truth (what the actors did) and the systems' end state (the
names, amounts and dates an operations person would see on screen), so it costs nothing during the
run and is the same for the same scenario, seed and version. Approved time is one line per
timesheet (a person's week as one approver cleared it), not one per entry. Time off, credit
memos and credit holds are not facts of truth; they come from HCM's and the ERP's records, dated
when they were entered (a hold: the customer's last change; one released in the run is not shown).

    2026-02-02 Mon 10:00  PSA  approved Priya Shah's (Consultant, US01) timesheet 2026-W05: 40.00 h ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from harness.report.eventlog_lines import Names, fact_line, time_line

SYSTEM_OF = {
    "worker_hired": "HCM", "cost_rate_set": "HCM", "worker_terminated": "HCM",
    "account_created": "CRM", "deal_won": "CRM", "deal_lost": "CRM", "master_data_fixed": "CRM",
    "contract_amended": "CRM", "deal_cancelled": "CRM",
    "billing_run": "ERP", "revenue_run": "ERP", "invoice_disputed": "ERP", "payment_made": "ERP",
    "period_closed": "ERP",
}


def _stamp(at: str) -> str:
    instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return f"{instant:%Y-%m-%d %a %H:%M}"


def _stamps(instants: Iterable[str]) -> dict[str, str]:
    """Return the stamp of each instant, written once per minute (the stamp shows the instant's own minute)."""
    by_minute: dict[str, str] = {}
    stamps: dict[str, str] = {}
    for at in instants:
        if at in stamps:
            continue
        minute = at[:16] if len(at) > 16 and at[10] == "T" and at[16] in ":Z+-" else at
        if minute not in by_minute:
            by_minute[minute] = _stamp(at)
        stamps[at] = by_minute[minute]
    return stamps


def _time_lines(facts: list[Mapping[str, Any]], names: Names) -> list[tuple[str, int, str]]:
    """Fold approved time into one line per person, ISO week and approval instant."""
    sheets: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    first: dict[tuple[str, str, str], int] = {}
    weeks: dict[str, str] = {}
    for fact in facts:
        data = fact["data"]
        week = weeks.get(data["date"])
        if week is None:
            year, number, _ = date.fromisoformat(data["date"]).isocalendar()
            week = weeks[data["date"]] = f"{year}-W{number:02d}"
        key = (fact["at"], data["resource_id"], week)
        sheets.setdefault(key, []).append(data)
        first.setdefault(key, fact["sequence"])
    return [(at, first[(at, worker, week)], time_line(names, worker, week, entries))
            for (at, worker, week), entries in sheets.items()]


def _state_lines(names: Names) -> list[tuple[str, int, str]]:
    """Return the time off (HCM) and credit memos (ERP) as dated lines, after truth's lines of the same minute."""
    lines = []
    for record in names.records("hcm", "time_off"):
        days = record.get("working_days")
        span = (record["start_date"] if record["start_date"] == record["end_date"]
                else f"{record['start_date']}..{record['end_date']} ({days} working days)")
        lines.append((str(record["created_at"]), 1 << 30, "HCM  " + (
            f"{names.worker(record['worker_id'])} {str(record['kind']).lower()} {span}, "
            f"{str(record['status']).lower()}")))
    for record in names.records("erp", "credit_memos"):
        lines.append((str(record["created_at"]), 1 << 30, "ERP  " + (
            f"credit memo {record['id']} to {names.customer(record['customer_id'])} for {record['invoice_id']}: "
            f"{names.money(record['currency'], record['total'])} ({record.get('memo') or record['reason']})")))
    for record in names.records("erp", "customers"):
        if record.get("credit_hold"):
            reasons = ", ".join(str(reason).replace("-", " ") for reason in record.get("credit_hold_reasons") or ())
            limit = record.get("credit_limit")
            lines.append((str(record["updated_at"]), 1 << 30, "ERP  " + (
                f"{record['name']} ({record['id']}) on credit hold ({reasons or 'no reason given'}), net "
                f"{record['payment_terms_days']}" + (f", limit {names.money(record['currency'], limit)}" if limit
                                                      else ""))))
    return lines


def event_lines(facts: Iterable[Mapping[str, Any]], states: Mapping[str, Any]) -> list[str]:
    """Return the event log of a run: a line per business fact (a timesheet per line), in time order."""
    names = Names(states)
    dated: list[tuple[str, int, str]] = []
    approved_time: list[Mapping[str, Any]] = []
    for fact in facts:
        if fact["kind"] == "time_approved":
            approved_time.append(fact)
            continue
        system = SYSTEM_OF.get(fact["kind"], "PSA")
        for text in fact_line(names, fact["kind"], fact["data"]):
            dated.append((fact["at"], fact["sequence"], f"{system}  {text}"))
    dated.extend(_time_lines(approved_time, names))
    dated.extend(_state_lines(names))
    dated.sort(key=lambda item: (item[0], item[1]))
    stamps = _stamps(at for at, _, _ in dated)
    return [f"{stamps[at]}  {text}" for at, _, text in dated]


def write_event_log(truth: Any, states: Mapping[str, Any], path: Path, period: tuple[date, date]) -> None:
    """Write `events.log`: a header naming the period, then one line per business fact."""
    start, end = period
    facts = [fact.to_dict() for fact in truth]
    lines = event_lines(facts, states)
    header = (f"# Business facts of the run, {len(facts)} facts in {len(lines)} lines (time approved: one line per "
              f"timesheet). The period is {start} to {end}; earlier lines are the lead-in that sets up the firm.\n")
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")

