"""The ERP end state of the test firm in world.py (see its docstring for the story and the figures)."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def source(system: str, source_id: str, version: int) -> Record:
    """Return a source reference."""
    return {"source_system": system, "source_id": source_id, "source_version": version}


def transaction(number: int, kind: str, contract: str, entry_id: str, revision: int, day: str, quantity: str,
                rate: str, amount: str, invoice: str | None, line_no: int = 0, status: str = "BILLED") -> Record:
    """Return a billable transaction, billed on an invoice line unless `invoice` is None."""
    billings = [] if invoice is None else [{"invoice_id": invoice, "line_no": line_no, "net_amount": amount,
                                            "credit_memo_id": None}]
    customer = "CUS-000002" if contract == "CON-000002" else "CUS-000001"
    return {"id": f"BTX-00000{number}", "kind": kind, "contract_id": contract, "customer_id": customer,
            "legal_entity": "US01", **source("psa", entry_id, revision), "date": day, "quantity": quantity,
            "rate": rate, "amount": amount, "currency": "USD", "status": status,
            "billed_amount": amount if invoice else "0.00", "billings": billings,
            "reversed_at": "2026-01-20T10:00:00Z" if status == "REVERSED" else None}


def line(number: int, kind: str, net: str, ref: Record, transaction_id: str | None = None,
         milestone_id: str | None = None) -> Record:
    """Return an invoice line (tax-exempt)."""
    return {"line_no": number, "kind": kind, "net_amount": net, "tax_amount": "0.00", "gross_amount": net,
            "billable_transaction_id": transaction_id, "milestone_id": milestone_id, **ref}


def invoice(number: int, contract: str, customer: str, lines: list[Record], total: str, paid: str = "0.00",
            open_amount: str | None = None) -> Record:
    """Return a posted invoice dated at the run's period end."""
    return {"id": f"INV-00000{number}", "contract_id": contract, "customer_id": customer, "legal_entity": "US01",
            "currency": "USD", "billing_run_id": "BRN-000001", "invoice_date": "2026-01-31", "lines": lines,
            "net_total": total, "tax_total": "0.00", "total": total, "status": "POSTED", "credited_total": "0.00",
            "amount_paid": paid, "open_amount": open_amount or total}


def milestone(plan_id: str, name: str, amount: str, status: str, psa_id: str | None, accepted: bool = False,
              invoice_id: str | None = None) -> Record:
    """Return a billing-plan milestone."""
    ref = source("psa", psa_id, 1) if psa_id else {"source_system": None, "source_id": None, "source_version": None}
    return {"id": plan_id, "name": name, "amount": amount, "requires_acceptance": accepted, "status": status,
            "invoice_id": invoice_id, **ref}


def contract(number: int, model: str, customer: str, version: int, price: str, **extra: Any) -> Record:
    """Return an ERP contract made from OPP-00000<number>."""
    policy = {"TIME_AND_MATERIALS": "RIGHT_TO_INVOICE", "FIXED_FEE": "COST_TO_COST", "RETAINER": "STRAIGHT_LINE"}
    return {"id": f"CON-00000{number}", "crm_opportunity_id": f"OPP-00000{number}", "customer_id": customer,
            "legal_entity": "US01", "currency": "USD", "billing_model": model, "revenue_policy": policy[model],
            "status": "ACTIVE", "termination": None, **source("crm", f"OPP-00000{number}", version),
            "total_price": price, "billing_plan": {"milestones": [], "cap_amount": None}, **extra}


def erp() -> dict[str, list[Record]]:
    """Return the ERP collections of the test firm."""
    opp2 = source("crm", "OPP-000002", 2)
    plan = {"milestones": [milestone("M1", "Design", "20000.00", "BILLED", "MIL-000001", True, "INV-000002"),
                           milestone("M2", "Build", "30000.00", "COMPLETED", "MIL-000002"),
                           milestone("M3", "Change order 1", "10000.00", "PLANNED", None)], "cap_amount": None}
    return {
        "customers": [{"id": "CUS-000001", "crm_account_id": "ACC-000001", "legal_entity": "US01",
                       "credit_hold": False, **source("crm", "ACC-000001", 1)},
                      {"id": "CUS-000002", "crm_account_id": "ACC-000003", "legal_entity": "US01",
                       "credit_hold": True, **source("crm", "ACC-000003", 1)}],
        "contracts": [contract(1, "TIME_AND_MATERIALS", "CUS-000001", 1, "100000.00"),
                      contract(2, "FIXED_FEE", "CUS-000002", 2, "60000.00", billing_plan=plan),
                      contract(3, "RETAINER", "CUS-000001", 1, "30000.00")],
        "contract_versions": [{"id": f"CVR-00000{n}", "contract_id": f"CON-00000{c}", **source("crm", f"OPP-00000{c}",
                                                                                                v)}
                              for n, c, v in ((1, 1, 1), (2, 2, 1), (3, 3, 1), (4, 2, 2))],
        "estimates": [{"id": "EAC-000001", "contract_id": "CON-000002", "eac": "20000.00",
                       **source("crm", "OPP-000002", 1)},
                      {"id": "EAC-000002", "contract_id": "CON-000002", "eac": "24000.00", **opp2}],
        "billable_transactions": [
            transaction(1, "TIME", "CON-000001", "TIM-000001", 1, "2026-01-12", "7.5", "190.125", "1425.94",
                        "INV-000001", 1),
            transaction(2, "TIME", "CON-000001", "TIM-000002", 1, "2026-01-13", "8", "260.00", "2080.00", None,
                        status="REVERSED"),
            transaction(3, "TIME", "CON-000001", "TIM-000002", 2, "2026-01-13", "6", "260.00", "1560.00",
                        "INV-000001", 2),
            transaction(4, "EXPENSE", "CON-000001", "EXP-000001", 1, "2026-01-14", "1", "240.50", "240.50",
                        "INV-000001", 3),
            transaction(5, "EXPENSE", "CON-000002", "EXP-000002", 1, "2026-01-22", "1", "99.99", "99.99",
                        "INV-000002", 2)],
        "billing_runs": [{"id": "BRN-000001", "legal_entity": "US01", "period_end": "2026-01-31",
                          "created_at": "2026-02-01T09:00:00Z", "invoice_ids": ["INV-000001", "INV-000002",
                                                                               "INV-000003"], "exceptions": []}],
        "invoices": [
            invoice(1, "CON-000001", "CUS-000001", [
                line(1, "TIME", "1425.94", source("psa", "TIM-000001", 1), "BTX-000001"),
                line(2, "TIME", "1560.00", source("psa", "TIM-000002", 2), "BTX-000003"),
                line(3, "EXPENSE", "240.50", source("psa", "EXP-000001", 1), "BTX-000004")],
                "3226.44", paid="1000.00", open_amount="2226.44"),
            invoice(2, "CON-000002", "CUS-000002", [
                line(1, "MILESTONE", "20000.00", source("psa", "MIL-000001", 1), milestone_id="M1"),
                line(2, "EXPENSE", "99.99", source("psa", "EXP-000002", 1), "BTX-000005")], "20099.99"),
            invoice(3, "CON-000003", "CUS-000001", [
                line(1, "RETAINER_FEE", "5000.00", source("crm", "OPP-000003", 1)),
                line(2, "RETAINER_FEE", "5000.00", source("crm", "OPP-000003", 1))], "10000.00")],
        "credit_memos": [],
        "payments": [{"id": "PAY-000001", "customer_id": "CUS-000001", "currency": "USD", "amount": "1000.00",
                      "received_on": "2026-02-20", "applications": [{"invoice_id": "INV-000001", "amount": "1000.00"}],
                      "unapplied_amount": "0.00"}],
        "revenue_records": [
            {"id": "RVR-000001", "revenue_run_id": "RRN-000001", "contract_id": "CON-000001", "period": "2026-02",
             "cumulative_revenue": "3226.44", "unbilled_receivable": "0.00", "contract_asset": "0.00",
             "contract_liability": "0.00"},
            {"id": "RVR-000002", "revenue_run_id": "RRN-000001", "contract_id": "CON-000002", "period": "2026-02",
             "cumulative_revenue": "8062.50"},
            {"id": "RVR-000003", "revenue_run_id": "RRN-000001", "contract_id": "CON-000003", "period": "2026-02",
             "cumulative_revenue": "10000.00", "contract_asset": "0.00", "contract_liability": "0.00"},
            {"id": "RVR-000004", "revenue_run_id": "RRN-000001", "contract_id": "CON-000002", "period": "2026-02",
             "stream": "PASS_THROUGH_EXPENSES", "cumulative_revenue": "99.99", "unbilled_receivable": "0.00",
             "contract_asset": "0.00", "contract_liability": "0.00"}],
    }
