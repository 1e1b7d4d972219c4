"""A minimal external sync engine for `firmsim run --mode live --engine external` (not the built-in one).

It polls each system's event feed and carries three things, and nothing else:

- HCM workers and cost rates -> PSA resources (so that people can be staffed and log time);
- CRM closed-won deals -> the ERP customer and contract and the PSA project, then the CRM
  write-backs (the account's ERP customer number, the opportunity's contract and project);
- PSA approved time -> ERP billable transactions (time-and-materials and capped contracts).

Every POST carries an Idempotency-Key made from the source record's id and version, and every
billable transaction an `external_id` of `psa:<entry id>:v<revision>`, so a retry after a lost
answer or a restart from the start of the feeds writes nothing twice. There is no ledger: each
step looks up what exists (ERP customers by CRM account, contracts and projects by opportunity).

What it does NOT do (the oracle says so: those invariants fail): expenses, milestones, change
orders, cancellations, reversals of reopened time, invoices and cash, credit status, cost actuals,
customer deduplication across an account hierarchy, an exception queue.

    python examples/minimal_engine/engine.py --crm URL --psa URL --hcm URL --erp URL --token TOKEN
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from decimal import Decimal
from typing import Any

import httpx

FEEDS = ("hcm", "crm", "psa")  # workers before deals before time, within one round
PAGE = 500
ATTEMPTS = 12
STANDARD_HOURLY_COST = {"USD": Decimal("95.00"), "GBP": Decimal("75.00"), "EUR": Decimal("85.00")}
BILLING = {"FIXED_FEE": "COST_TO_COST", "TIME_AND_MATERIALS": "RIGHT_TO_INVOICE", "RETAINER": "STRAIGHT_LINE",
           "CAPPED_TM": "RIGHT_TO_INVOICE"}
PRACTICES = {"STRATEGY": ("SL-STR", "CC-1000"), "TECHNOLOGY": ("SL-TEC", "CC-2000"),
             "DATA_AI": ("SL-DAI", "CC-3000"), "OPERATIONS": ("SL-OPS", "CC-4000")}
HOURLY_MODELS = ("TIME_AND_MATERIALS", "CAPPED_TM")


class Refused(Exception):
    """A system refused a request for good (4xx): the event is skipped and reported."""


class Unreachable(Exception):
    """A system stayed down or throttled through every attempt: the feed is read again later."""


class MinimalEngine:
    """Poll the feeds and apply the three flows."""

    def __init__(self, urls: dict[str, str], token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.http = {name: httpx.Client(base_url=url, headers=headers, timeout=10.0) for name, url in urls.items()}
        self.cursors = {name: "0" for name in FEEDS}
        self.skipped = 0

    def call(self, system: str, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             key: str | None = None, conflict_ok: bool = False) -> Any:
        """Send a request, retrying outages, throttles and lost answers; return the JSON body."""
        headers = {"Idempotency-Key": key} if key else {}
        for attempt in range(ATTEMPTS):
            try:
                response = self.http[system].request(method, path, json=body, params=params, headers=headers)
            except httpx.TransportError:
                time.sleep(0.1 * (attempt + 1))  # connection refused or an answer lost: same key, same effect
                continue
            if response.status_code in (429, 502, 503, 504):
                time.sleep(0.1 * (attempt + 1))  # Retry-After is in simulated seconds: come back soon instead
                continue
            if response.status_code == 409 and conflict_ok:
                return response.json()
            if response.status_code >= 400:
                raise Refused(f"{method} {system}{path} -> {response.status_code} {response.text[:300]}")
            return response.json() if response.content else None
        raise Unreachable(f"{method} {system}{path}: no answer after {ATTEMPTS} attempts")

    # -- the loop --------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Read every feed once and handle what is new; return the events handled."""
        handled = 0
        for system in FEEDS:
            try:
                page = self.call(system, "GET", "/events", params={"after": self.cursors[system], "limit": PAGE})
            except Unreachable:
                continue
            for event in page["items"]:
                try:
                    self.handle(system, event)
                except Refused as error:
                    self.skipped += 1
                    print(f"minimal-engine: skipped {event['id']} {event['type']}: {error}", file=sys.stderr)
                except Unreachable:
                    break  # keep the cursor before this event: read it again next round
                self.cursors[system] = str(event["sequence"])
                handled += 1
        return handled

    def handle(self, system: str, event: dict[str, Any]) -> None:
        """Route one event to its flow."""
        kind, data = event["type"], event["data"]
        if kind.startswith("hcm.worker."):
            self.upsert_resource(data)
        elif kind.startswith("hcm.cost_rate."):
            self.replace_cost_rates(data["worker_id"])
        elif kind == "crm.opportunity.closed_won":
            self.won_deal(data)
        elif kind == "psa.time_entry.approved":
            self.approved_time(data)

    # -- workers -> resources --------------------------------------------------------------------

    def upsert_resource(self, worker: dict[str, Any]) -> None:
        """Create or replace the worker's PSA resource (the feed's order is the HCM's commit order)."""
        body = {"name": f"{worker['first_name']} {worker['last_name']}", "role": worker["role"],
                "legal_entity": worker["legal_entity"], "worker_type": worker["worker_type"],
                "active": worker["status"] == "ACTIVE", "source_version": worker["version"]}
        for name in ("email", "practice"):
            if worker.get(name):
                body[name] = worker[name]
        self.call("psa", "PUT", f"/resources/{worker['id']}", body=body)

    def replace_cost_rates(self, worker_id: str) -> None:
        """Replace the resource's cost-rate history with the HCM's rates in force, read fresh."""
        rates = self.call("hcm", "GET", f"/workers/{worker_id}/cost-rates", params={"include_superseded": "false"})
        active = sorted((rate for rate in rates["items"] if rate["status"] == "ACTIVE"),
                        key=lambda rate: rate["effective_from"])
        body = {"cost_rates": [{"effective_from": rate["effective_from"], "hourly_cost": rate["hourly_cost"],
                                "currency": rate["currency"], "source_version": rate["version"]} for rate in active]}
        self.call("psa", "PUT", f"/resources/{worker_id}/cost-rates", body=body)

    # -- won deals -> customer, contract, project ------------------------------------------------

    def won_deal(self, deal: dict[str, Any]) -> None:
        """Find or create the deal's customer, contract and project; write their ids back to the CRM."""
        account = self.call("crm", "GET", f"/accounts/{deal['account_id']}")
        customer_id = self.customer(account, deal)
        contract_id = self.contract(deal, customer_id)
        project_id = self.project(deal, account, customer_id, contract_id)
        if not account.get("erp_customer_number"):
            self.call("crm", "PUT", f"/accounts/{account['id']}/erp-link", body={"erp_customer_number": customer_id})
        self.call("crm", "PUT", f"/opportunities/{deal['id']}/delivery-link",
                  body={"erp_contract_id": contract_id, "psa_project_id": project_id})

    def customer(self, account: dict[str, Any], deal: dict[str, Any]) -> str:
        """Return the ERP customer of the deal's account in its legal entity, creating it when none exists."""
        found = self.call("erp", "GET", "/customers",
                          params={"crm_account_id": account["id"], "legal_entity": deal["legal_entity"]})
        if found["items"]:
            return str(found["items"][0]["id"])
        body = {"name": account["name"][:200], "legal_entity": deal["legal_entity"], "country": account["country"],
                "currency": deal["currency"], "payment_terms_days": 30, "crm_account_id": account["id"],
                "source_system": "crm", "source_id": account["id"], "source_version": account["version"]}
        if account.get("tax_id"):
            body["tax_registration"] = account["tax_id"]
        if account["country"] == "US" and account.get("us_state"):
            body["us_state"] = account["us_state"]
        key = f"minimal-customer-{account['id']}-{deal['legal_entity']}"
        return str(self.call("erp", "POST", "/customers", body=body, key=key)["id"])

    def contract(self, deal: dict[str, Any], customer_id: str) -> str:
        """Return the deal's ERP contract, creating it at the deal's contract version."""
        found = self.call("erp", "GET", "/contracts", params={"crm_opportunity_id": deal["id"]})
        if found["items"]:
            return str(found["items"][0]["id"])
        model = deal["billing_model"]
        body = {"name": deal["name"][:200], "customer_id": customer_id, "legal_entity": deal["legal_entity"],
                "currency": deal["currency"], "billing_model": model, "revenue_policy": BILLING[model],
                "crm_opportunity_id": deal["id"], "source_system": "crm", "source_id": deal["id"],
                "source_version": deal["contract_version"], "total_price": deal["contract_amount"],
                "billing_plan": billing_plan(deal), "practice": deal["practice"],
                "start_date": deal["service_start"], "end_date": deal["service_end"]}
        key = f"minimal-contract-{deal['id']}-v{deal['contract_version']}"
        return str(self.call("erp", "POST", "/contracts", body=body, key=key)["id"])

    def project(self, deal: dict[str, Any], account: dict[str, Any], customer_id: str, contract_id: str) -> str:
        """Return the deal's PSA project, creating it with the ERP's dimensions and the deal's rates."""
        found = self.call("psa", "GET", "/projects", params={"crm_opportunity_id": deal["id"]})
        if found["items"]:
            return str(found["items"][0]["id"])
        service_line, cost_center = PRACTICES[deal["practice"]]
        rates_from = min(deal["service_start"], deal["close_date"])
        body = {"name": deal["name"][:200], "practice": deal["practice"], "customer_name": account["name"][:200],
                "billing_model": deal["billing_model"], "currency": deal["currency"],
                "legal_entity": deal["legal_entity"], "start_date": deal["service_start"],
                "end_date": deal["service_end"], "crm_opportunity_id": deal["id"], "source_system": "crm",
                "source_id": deal["id"], "source_version": deal["contract_version"], "erp_contract_id": contract_id,
                "erp_customer_number": customer_id, "cost_center": cost_center, "service_line": service_line,
                "contract_version": deal["contract_version"], "budget_hours": deal.get("estimated_hours") or "0.00",
                "budget_amount": deal["contract_amount"]}
        if deal["rate_card"]:  # fixed fees and retainers may sell no hourly rates
            body["rates"] = [{"role": line["role"], "bill_rate": line["hourly_rate"], "effective_from": rates_from}
                             for line in deal["rate_card"]]
        key = f"minimal-project-{deal['id']}-v{deal['contract_version']}"
        return str(self.call("psa", "POST", "/projects", body=body, key=key)["id"])

    # -- approved time -> billable transactions --------------------------------------------------

    def approved_time(self, entry: dict[str, Any]) -> None:
        """Post the approved revision of a billable time entry once (its external id and key say which)."""
        revision = entry["revision"]
        approval = next((item for item in entry["approvals"] if item["revision"] == revision), None)
        if approval is None or not approval["billable"]:
            return
        project = self.call("psa", "GET", f"/projects/{entry['project_id']}")
        contract_id = project.get("erp_contract_id")
        if not contract_id or project["billing_model"] not in HOURLY_MODELS:
            return  # fixed fees and retainers are not billed by the hour
        body = {"contract_id": contract_id, "kind": "TIME", "source_system": "psa", "source_id": entry["id"],
                "source_version": revision, "date": approval["date"], "quantity": approval["hours"],
                "rate": approval["bill_rate"], "amount": approval["bill_amount"], "currency": approval["currency"],
                "external_id": f"psa:{entry['id']}:v{revision}", "worker_id": entry["resource_id"]}
        if entry.get("role"):
            body["role"] = entry["role"]
        self.call("erp", "POST", "/billable-transactions", body=body, key=f"minimal-time-{entry['id']}-v{revision}",
                  conflict_ok=True)  # 409: that external id is posted already


def billing_plan(deal: dict[str, Any]) -> dict[str, Any]:
    """Return the ERP billing plan of a deal: milestones and an estimate, a retainer, or a cap."""
    model, currency = deal["billing_model"], deal["currency"]
    plan: dict[str, Any] = {}
    if model == "FIXED_FEE":
        plan["milestones"] = [{"id": f"M{index + 1}", "name": item["name"][:200], "amount": item["amount"],
                               "requires_acceptance": item["requires_acceptance"], "due_date": item["due_date"]}
                              for index, item in enumerate(deal["billing_milestones"])]
        hours = Decimal(deal.get("estimated_hours") or "0")
        eac = hours * STANDARD_HOURLY_COST[currency] if hours else Decimal(deal["contract_amount"]) * Decimal("0.70")
        plan["eac"] = str(eac.quantize(Decimal("0.01")))
    elif model == "RETAINER":
        start, end = deal["service_start"], deal["service_end"]
        months = (int(end[:4]) - int(start[:4])) * 12 + int(end[5:7]) - int(start[5:7]) + 1
        plan["retainer"] = {"monthly_fee": deal["monthly_fee"], "term_months": min(120, months), "start_date": start}
    elif model == "CAPPED_TM":
        plan["cap_amount"] = deal["cap_amount"]
    return plan


def main() -> None:
    """Parse the flags and poll until stopped (SIGTERM or Ctrl-C)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for system in ("crm", "psa", "hcm", "erp"):
        parser.add_argument(f"--{system}", required=True, help=f"base URL of the {system.upper()}")
    parser.add_argument("--token", required=True, help="bearer token the systems accept")
    parser.add_argument("--poll-interval", type=float, default=0.3, help="seconds between dry reads")
    args = parser.parse_args()
    engine = MinimalEngine({name: getattr(args, name) for name in ("crm", "psa", "hcm", "erp")}, args.token)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        while True:
            if engine.poll_once() == 0:
                time.sleep(args.poll_interval)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
