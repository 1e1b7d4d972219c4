"""ERP mock: legal entities, billing, tax, payments and AR, revenue recognition, general ledger."""

from simulators.erp.app import create_app

__all__ = ["create_app"]
