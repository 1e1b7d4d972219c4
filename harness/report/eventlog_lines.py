"""The words of the event log: one fact in an operations person's terms, with the names the systems show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

MODEL = {"TIME_AND_MATERIALS": "T&M", "FIXED_FEE": "fixed fee", "RETAINER": "retainer", "CAPPED_TM": "capped T&M"}
ENTITY_CURRENCY = {"US01": "USD", "UK01": "GBP", "DE01": "EUR"}


def _title(code: str) -> str:
    return str(code).replace("_", " ").title()


class Names:
    """Look up what the systems call the ids of truth (people, accounts, deals, projects, invoices)."""

    def __init__(self, states: Mapping[str, Any]) -> None:
        self._states = states
        self._index: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._bookings: dict[tuple[str, str, str], str] | None = None

    def records(self, system: str, collection: str) -> list[dict[str, Any]]:
        """Return a system's records of one collection (none when the system is not in the run)."""
        state = self._states.get(system) or {}
        return list((state.get("records") or {}).get(collection) or ())

    def record(self, system: str, collection: str, record_id: str) -> dict[str, Any]:
        """Return one record by id (empty when the system does not hold it)."""
        key = (system, collection)
        if key not in self._index:
            self._index[key] = {str(r.get("id")): r for r in self.records(system, collection)}
        return self._index[key].get(str(record_id), {})

    def worker(self, worker_id: str) -> str:
        """Return `First Last (Role, entity)`, or the id when HCM does not know it."""
        record = self.record("hcm", "workers", worker_id)
        if not record:
            return str(worker_id)
        return f"{record['first_name']} {record['last_name']} ({_title(record['role'])}, {record['legal_entity']})"

    def deal(self, opportunity_id: str) -> str:
        """Return `OPP-… name`."""
        name = self.record("crm", "opportunities", opportunity_id).get("name")
        return f"{opportunity_id} {name}" if name else str(opportunity_id)

    def project(self, project_id: str) -> str:
        """Return `PRJ-… name`."""
        name = self.record("psa", "projects", project_id).get("name")
        return f"{project_id} {name}" if name else str(project_id)

    def customer(self, customer_id: str) -> str:
        """Return the ERP customer's name (or the id)."""
        return str(self.record("erp", "customers", customer_id).get("name") or customer_id)

    def booked_hours(self, project_id: str, resource_id: str, start: str) -> str | None:
        """Return the hours a week of a PSA assignment (as it stands at the end of the run)."""
        if self._bookings is None:
            self._bookings = {(str(a["project_id"]), str(a["resource_id"]), str(a["start_date"])): str(
                a["hours_per_week"]) for a in self.records("psa", "assignments")}
        return self._bookings.get((project_id, resource_id, start))

    @staticmethod
    def money(currency: str, amount: Any) -> str:
        """Return `USD 1,234.50`."""
        return f"{currency} {Decimal(str(amount)):,.2f}"


def _deal_won(names: Names, data: dict[str, Any]) -> str:
    terms = [f"{MODEL.get(data['billing_model'], data['billing_model'])} {_title(data['practice'])}",
             names.money(data["currency"], data["amount"]), f"service {data['service_start']}..{data['service_end']}"]
    if data["milestones"]:
        terms.append(f"{len(data['milestones'])} milestones")
    if data["monthly_fee"]:
        terms.append(f"{names.money(data['currency'], data['monthly_fee'])} a month")
    if data["expected_exception"]:
        terms.append(f"bad master data: {data['expected_exception']}")
    return f"won {names.deal(data['opportunity_id'])} ({data['legal_entity']}): " + ", ".join(terms)


def _invoice(names: Names, invoice_id: str) -> str:
    invoice = names.record("erp", "invoices", invoice_id)
    if not invoice:
        return f"  invoice {invoice_id}"
    return (f"  invoice {invoice_id} to {names.customer(invoice['customer_id'])}: "
            f"{names.money(invoice['currency'], invoice['total'])} dated {invoice['invoice_date']}, "
            f"due {invoice['due_date']}")


def _payment(names: Names, data: dict[str, Any]) -> str:
    invoice = names.record("erp", "invoices", data["invoice_id"])
    line = (f"received {names.money(data['currency'], data['amount'])} from {names.customer(data['customer_id'])} "
            f"for {data['invoice_id']}")
    if invoice:
        days = (date.fromisoformat(data["received_on"]) - date.fromisoformat(invoice["invoice_date"])).days
        late = (date.fromisoformat(data["received_on"]) - date.fromisoformat(invoice["due_date"])).days
        line += (f" (of {names.money(invoice['currency'], invoice['total'])}, {days} days after the invoice date, "
                 + (f"{late} days late)" if late > 0 else "on time)"))
    return line


def _staffed(names: Names, data: dict[str, Any]) -> str:
    hours = names.booked_hours(data["project_id"], data["resource_id"], data["start_date"])
    return (f"staffed {names.worker(data['resource_id'])} as {_title(data['role'])} on "
            f"{names.project(data['project_id'])} {data['start_date']}..{data['end_date']}"
            + (f", {hours} h/week" if hours else ""))


def fact_line(names: Names, kind: str, data: dict[str, Any]) -> list[str]:
    """Return the log lines of one fact (approved time is folded by `time_line` instead)."""
    if kind == "worker_hired":
        return [f"hired {names.worker(data['worker_id'])} ({_title(data['worker_type'])}, {_title(data['practice'])}, "
                f"{data['weekly_capacity_hours']} h/week) starting {data['hire_date']}"]
    if kind == "cost_rate_set":
        return [f"cost rate of {names.worker(data['worker_id'])} from {data['effective_from']}: "
                f"{names.money(data['currency'], data['hourly_cost'])}/h ({_title(data['reason'])}"
                + (", retroactive)" if data["retroactive"] else ")")]
    if kind == "worker_terminated":
        return [f"{names.worker(data['worker_id'])} left the firm; last day {data['termination_date']}"]
    if kind == "account_created":
        parent = f", subsidiary of {data['parent_account_id']}" if data["parent_account_id"] else ""
        return [f"new account {data['account_id']} {data['name']} ({data['country']}{parent})"]
    if kind == "deal_won":
        return [_deal_won(names, data)]
    if kind == "deal_lost":
        reason = names.record("crm", "opportunities", data["opportunity_id"]).get("loss_reason")
        return [f"lost {names.deal(data['opportunity_id'])}" + (f" ({_title(reason).lower()})" if reason else "")]
    if kind == "master_data_fixed":
        return [f"fixed {data['kind'].replace('_', ' ')} on {names.deal(data['opportunity_id'])}"]
    if kind == "contract_amended":
        return [f"change order {data['amendment_id']} on {names.deal(data['opportunity_id'])}: "
                f"{data['amount_change']} from {data['effective_date']} (contract v{data['contract_version']} now "
                f"{data['contract_amount']})"]
    if kind == "deal_cancelled":
        return [f"cancelled {names.deal(data['opportunity_id'])} from {data['effective_date']} "
                f"(unbilled work: {data['unbilled_rule'].lower()})"]
    if kind == "project_staffed":
        return [_staffed(names, data)]
    if kind == "time_reopened":
        entry = names.record("psa", "time_entries", data["time_entry_id"])
        return [f"reopened time entry {data['time_entry_id']} rev {data['revision']} on "
                f"{names.project(data['project_id'])}"
                + (f" ({names.worker(entry['resource_id'])}, {entry['date']})" if entry else "")]
    if kind == "expense_approved":
        category = names.record("psa", "expenses", data["expense_id"]).get("category")
        return [f"approved expense {data['expense_id']} of {names.worker(data['resource_id'])}: "
                f"{_title(category or 'expense')} {names.money(data['currency'], data['amount'])} on {data['date']}, "
                f"{data['project_id']}" + (" (billable)" if data["billable"] else " (not billable)")
                + (f" rev {data['revision']}" if data["revision"] > 1 else "")]
    if kind == "expense_reopened":
        return [f"reopened expense {data['expense_id']} rev {data['revision']} on {names.project(data['project_id'])}"]
    if kind == "milestone_completed":
        currency = names.record("psa", "projects", data["project_id"]).get("currency", "")
        return [f"milestone {data['milestone_id']} '{data['name']}' completed on {names.project(data['project_id'])}: "
                f"{names.money(currency, data['amount'])}"
                + (" (awaits customer acceptance)" if data["requires_acceptance"] else "")]
    if kind == "milestone_accepted":
        return [f"customer accepted milestone {data['milestone_id']} of {names.project(data['project_id'])} "
                f"on {data['accepted_on']}"]
    if kind == "estimate_set":
        project = names.record("psa", "projects", data["project_id"])
        return [f"estimate at completion of {names.project(data['project_id'])}: "
                f"{names.money(project.get('currency', ''), data['eac_cost'])} cost as of {data['as_of']}"]
    if kind == "project_completed":
        return [f"completed {names.project(data['project_id'])} (last day {data['completed_on']})"]
    return _finance_line(names, kind, data)


def _finance_line(names: Names, kind: str, data: dict[str, Any]) -> list[str]:
    if kind == "billing_run":
        run = names.record("erp", "billing_runs", data["billing_run_id"])
        currency = run.get("currency") or ENTITY_CURRENCY.get(data["legal_entity"], "")
        head = (f"billing run {data['billing_run_id']} {data['legal_entity']} to {data['period_end']}: "
                f"{len(data['invoice_ids'])} invoices, {names.money(currency, run.get('invoiced_total', 0))}")
        return [head] + [_invoice(names, invoice_id) for invoice_id in data["invoice_ids"]]
    if kind == "revenue_run":
        run = names.record("erp", "revenue_runs", data["revenue_run_id"])
        amount = f": {names.money(run['currency'], run['period_revenue'])} recognised" if run else ""
        return [f"revenue run {data['revenue_run_id']} {data['legal_entity']} {data['period']}{amount}"]
    if kind == "invoice_disputed":
        return [f"{names.customer(data['customer_id'])} disputes {data['invoice_id']}: {data['reason']}"]
    if kind == "payment_made":
        return [_payment(names, data)]
    if kind == "period_closed":
        return [f"closed {data['period']} for {data['legal_entity']}"]
    return [f"{kind} {data}"]


def time_line(names: Names, worker_id: str, week: str, entries: list[dict[str, Any]]) -> str:
    """Return one approved timesheet: the person's hours of an ISO week by project, non-billable and corrections."""
    hours = non_billable = Decimal(0)
    by_project: dict[str, Decimal] = {}
    dates = set()
    corrected = 0
    for entry in entries:  # one pass, each entry's hours read once (sums in the same order as before)
        amount = Decimal(entry["hours"])
        hours += amount
        by_project[entry["project_id"]] = by_project.get(entry["project_id"], Decimal(0)) + amount
        dates.add(entry["date"])
        if not entry["billable"]:
            non_billable += amount
        if entry["revision"] > 1:
            corrected += 1
    days = len(dates)
    extras = []
    if non_billable:
        extras.append(f"{non_billable} h not billable")
    if corrected:
        extras.append(f"{corrected} corrected entr{'ies' if corrected > 1 else 'y'}")
    projects = "; ".join(f"{names.project(project)} {amount} h" for project, amount in by_project.items())
    return (f"PSA  approved timesheet {week} of {names.worker(worker_id)}: {hours} h on {days} day"
            f"{'s' if days != 1 else ''}: {projects}" + (f" ({', '.join(extras)})" if extras else ""))
