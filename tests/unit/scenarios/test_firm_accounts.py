"""Sales reps' accounts: a new company never bears the name of another company of its country."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from scenarios.engine.actors.accounts import company_name
from scenarios.engine.state import Account, Book


def _firm(drawn: list[str], accounts: list[tuple[str, str]]) -> Any:
    names = iter(drawn)
    faker = SimpleNamespace(company=lambda: next(names))
    book = Book()
    for number, (name, country) in enumerate(accounts):
        book.add_account(Account(f"ACC-{number:06d}", f"company-{number:05d}", name, country, "USD", None, None))
    return SimpleNamespace(faker_for_country=lambda country: faker, book=book)


def test_a_new_company_does_not_take_the_name_of_another_company_of_its_country() -> None:
    # With no tax id on file, a company is known by its name and country: two companies named alike
    # would be one customer to anyone reading the CRM.
    firm = _firm(["DAVIS, INC.", "Davis PLC"], [("Davis Inc", "US")])
    assert company_name(firm, "US") == "Davis PLC"


def test_the_same_name_abroad_is_another_company() -> None:
    firm = _firm(["Davis Inc"], [("Davis Inc", "GB")])
    assert company_name(firm, "US") == "Davis Inc"
