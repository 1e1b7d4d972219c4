"""The CRM mock: accounts, contacts, opportunities and contract amendments (the sales system of record)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from simulators.common.app import build_app
from simulators.crm import accounts, amendments, contacts, opportunities, opportunity_lifecycle

PREFIXES = {
    accounts.ACCOUNTS: "ACC",
    contacts.CONTACTS: "CON",
    opportunities.OPPORTUNITIES: "OPP",
    amendments.AMENDMENTS: "AMD",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Return the CRM app, serving contracts/openapi/crm.yaml."""
    modules = [accounts.operations, contacts.operations, opportunities.operations,
               opportunity_lifecycle.operations, amendments.operations]
    return build_app("crm", modules, config, PREFIXES, seeder=None)
