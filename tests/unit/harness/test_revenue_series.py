"""The report's invoiced vs recognized revenue by month: closed months only."""

from __future__ import annotations

from harness.runner.sim import revenue_by_month


def test_months_after_the_last_revenue_run_are_left_out() -> None:
    # March's billing and revenue runs come after a period ending 31 March: only its credits exist
    erp = {"records": {
        "invoices": [{"invoice_date": "2026-01-31", "net_total": "1000.00"},
                     {"invoice_date": "2026-02-28", "net_total": "500.00"}],
        "credit_memos": [{"credit_date": "2026-02-10", "net_total": "100.00"},
                         {"credit_date": "2026-03-12", "net_total": "250.00"}],
        "revenue_results": [{"period": "2026-01", "period_revenue": "900.00"},
                            {"period": "2026-02", "period_revenue": "450.00"}],
    }}
    assert revenue_by_month(erp) == {"2026-01": {"invoiced": 1000.0, "recognized": 900.0},
                                     "2026-02": {"invoiced": 400.0, "recognized": 450.0}}


def test_without_a_revenue_run_every_month_is_shown() -> None:
    erp = {"records": {"invoices": [{"invoice_date": "2026-01-31", "net_total": "10.00"}]}}
    assert revenue_by_month(erp) == {"2026-01": {"invoiced": 10.0, "recognized": 0.0}}
    assert revenue_by_month(None) == {}
