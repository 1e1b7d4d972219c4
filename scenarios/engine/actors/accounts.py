"""Sales reps' accounts: new companies, repeat customers, divisions and subsidiaries, and duplicates.

`customer_key` names the real-world company behind a CRM account. A division without its own tax
id shares its parent's company; a subsidiary with its own tax id is a company of its own; a
duplicate account (a rep who did not search first) is the same company under a variant of its
name, with the same tax id written differently.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from scenarios.engine.state import Account, name_key
from scenarios.engine.values import chance, pick

if TYPE_CHECKING:
    from scenarios.engine.firm import Firm

Process = Generator[simpy.Event, Any, Any]
CURRENCY_OF = {"US": "USD", "GB": "GBP"}
DIVISIONS = ("Digital", "Europe", "Operations", "Finance", "Retail Division", "Services", "North America")
VAT_PREFIX = {"GB": "GB", "DE": "DE", "FR": "FR", "NL": "NL"}


def tax_id_for(firm: Firm, country: str, *, always: bool = False) -> str | None:
    """Return a plausible tax id of a company in a country (US companies often have none on file)."""
    rng = firm.rng("sales-accounts")
    digits = "".join(str(int(rng.random() * 10)) for _ in range(11))
    if country == "US":
        return f"{digits[:2]}-{digits[2:9]}" if always or chance(rng, 0.5) else None
    if country == "FR":
        return f"FR{digits}"
    if country == "NL":
        return f"NL{digits[:9]}B01"
    return f"{VAT_PREFIX.get(country, country)}{digits[:9]}"


def _variant_tax_id(tax_id: str | None) -> str | None:
    """Write a tax id the way another rep would (spaces every few characters)."""
    if tax_id is None:
        return None
    return " ".join(tax_id[index:index + 3] for index in range(0, len(tax_id), 3))


def _variant_name(firm: Firm, name: str) -> str:
    rng = firm.rng("sales-accounts")
    variants = [name.upper(), f"{name}.", name.replace(",", ""), f"{name} ", name.replace(" and ", " & ")]
    variant = pick(rng, variants).strip()
    return variant if variant != name else name.upper()


def _currency(country: str) -> str:
    return CURRENCY_OF.get(country, "EUR")


def create_account(firm: Firm, name: str, country: str, tax_id: str | None, customer_key: str,
                   parent: Account | None = None) -> Process:
    """Create a CRM account (and its decision maker) and record it in truth."""
    faker = firm.faker_for_country(country)
    rng = firm.rng("sales-accounts")
    us_state = faker.state_abbr() if country == "US" else None
    body: dict[str, Any] = {"name": name, "country": country, "currency": _currency(country), "tax_id": tax_id,
                            "parent_account_id": parent.account_id if parent else None,
                            "industry": pick(rng, ("Financial services", "Manufacturing", "Retail", "Healthcare",
                                                   "Public sector", "Energy", "Technology", "Logistics")),
                            "billing_address": {"street": faker.street_address(), "city": faker.city(),
                                                "postcode": faker.postcode()}}
    if us_state:
        body["us_state"] = us_state
    result = yield from firm.call("crm", "POST", "/accounts", body=body, purpose="account")
    if not result.ok:
        return None
    account = Account(result.body["id"], customer_key, name, country, body["currency"], tax_id,
                      body["parent_account_id"], us_state)
    firm.book.add_account(account)
    firm.record("account_created", account_id=account.account_id, customer_key=customer_key, name=name,
                country=country, tax_id=tax_id, parent_account_id=account.parent_account_id)
    contact = f"{faker.first_name()} {faker.last_name()}"
    created = yield from firm.call("crm", "POST", "/contacts", purpose="contact", body={
        "account_id": account.account_id, "name": contact, "role": "DECISION_MAKER"})
    account.contact = contact if created.ok else "Customer representative"
    return account


def company_name(firm: Firm, country: str) -> str:
    """Return the name of a new company: one no other company of the country bears (a country's register
    holds a name once; `Davis Inc` and `DAVIS, INC.` are one name, `Davis PLC` another)."""
    taken = firm.book.names_in(country)
    faker = firm.faker_for_country(country)
    name = str(faker.company())
    while name_key(name) in taken:
        name = str(faker.company())
    return name


def new_company(firm: Firm, country: str, *, with_tax_id: bool = True) -> Process:
    """Create the account of a company the firm has never sold to."""
    firm.companies += 1
    name = company_name(firm, country)
    tax_id = tax_id_for(firm, country) if with_tax_id else None
    account = yield from create_account(firm, name, country, tax_id, f"company-{firm.companies:05d}")
    return account


def choose_account(firm: Firm, country: str) -> Process:
    """Return the account a new opportunity is for: repeat business, a division, a duplicate or a new company."""
    rng = firm.rng("sales-accounts")
    sales = firm.params["sales"]
    existing = list(firm.book.accounts_in(country))
    draw = rng.random()
    repeat = float(sales["existing_customer_rate"])
    hierarchy = repeat + float(sales["account_hierarchy_rate"])
    duplicate = hierarchy + float(sales["duplicate_customer_rate"])
    if existing and draw < repeat:
        return pick(rng, existing)
    if existing and draw < hierarchy:
        parents = [account for account in existing if account.parent_account_id is None] or existing
        parent = pick(rng, parents)
        if chance(rng, 0.5) and parent.tax_id is not None:
            account = yield from create_account(firm, f"{parent.name} - {pick(rng, DIVISIONS)}", country, None,
                                                parent.customer_key, parent)
        else:
            firm.companies += 1
            name = f"{firm.faker_for_country(country).company()} ({parent.name.split(' ')[0]} group)"
            account = yield from create_account(firm, name, country, tax_id_for(firm, country, always=True),
                                                f"company-{firm.companies:05d}", parent)
        return account
    if existing and draw < duplicate:
        original = pick(rng, [account for account in existing if account.parent_account_id is None] or existing)
        account = yield from create_account(firm, _variant_name(firm, original.name), country,
                                            _variant_tax_id(original.tax_id), original.customer_key)
        return account
    account = yield from new_company(firm, country)
    return account
