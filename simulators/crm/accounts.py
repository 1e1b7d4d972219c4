"""Accounts: customers and prospects in a parent/child hierarchy, and their ERP write-back."""

from __future__ import annotations

from typing import Any

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import business_error
from simulators.common.store import Record, Store
from simulators.crm.terms import canonical

operations = Operations()

ACCOUNTS = "accounts"
EDITABLE = ("name", "parent_account_id", "country", "us_state", "tax_id", "currency", "industry", "billing_address")


def require_account(store: Store, account_id: str, field: str = "account_id") -> Record:
    """Return the account a request body names, or refuse with 422 unknown-account."""
    account = store.find(ACCOUNTS, account_id)
    if account is None:
        raise business_error("unknown-account", "Unknown account", f"No account with id {account_id!r}",
                             field=field)
    return account


def _check_parent(store: Store, account_id: str | None, parent_id: str | None) -> None:
    """Refuse an unknown parent and a parent that would close a cycle in the hierarchy."""
    if parent_id is None:
        return
    require_account(store, parent_id, "parent_account_id")
    if account_id is None:
        return
    ancestors: list[str] = []
    ancestor: str | None = parent_id
    while ancestor is not None and ancestor not in ancestors:
        if ancestor == account_id:
            chain = " -> ".join([account_id, *ancestors, account_id])
            raise business_error("account-hierarchy-cycle", "Account hierarchy cycle",
                                 f"{parent_id} cannot be the parent of {account_id}: the hierarchy would loop "
                                 f"({chain})", field="parent_account_id")
        ancestors.append(ancestor)
        parent = store.find(ACCOUNTS, ancestor)
        ancestor = parent.get("parent_account_id") if parent else None


def _check_us_state(account: dict[str, Any]) -> None:
    if account.get("us_state") is not None and account.get("country") != "US":
        raise business_error("invalid-us-state", "US state on a non-US account",
                             f"us_state applies only to accounts in the US, not in {account.get('country')}",
                             field="us_state")


def _account_filter(query: dict[str, Any]) -> Any:
    def matches(account: Record) -> bool:
        return all(
            query.get(name) is None or account.get(name) == query[name]
            for name in ("parent_account_id", "country", "erp_customer_number", "credit_hold")
        )

    return matches


@operations("listAccounts")
def list_accounts(request: Request) -> Reply:
    """Return a page of accounts, filtered."""
    query, matches = request.query, _account_filter(request.query)
    if query.get("erp_customer_number") is not None:  # the engine's lookup by ERP customer: through its index
        return request.page([account for account in request.store.where_equal(
            ACCOUNTS, "erp_customer_number", query["erp_customer_number"]) if matches(account)])
    return request.page(request.store.where(ACCOUNTS, matches))


@operations("createAccount")
def create_account(request: Request) -> Reply:
    """Create an account under an existing parent (or none)."""
    body = request.body
    fields: dict[str, Any] = {name: body.get(name) for name in EDITABLE}
    _check_us_state(fields)
    _check_parent(request.store, None, fields["parent_account_id"])
    account = request.store.insert(ACCOUNTS, {**fields, "erp_customer_number": None, "ar_status": None,
                                              "credit_hold": False})
    request.emit("crm.account.created", account)
    return created(account, f"/accounts/{account['id']}")


@operations("getAccount")
def get_account(request: Request) -> Reply:
    """Return one account."""
    return ok(request.store.get(ACCOUNTS, request.path["account_id"]))


@operations("updateAccount")
def update_account(request: Request) -> Reply:
    """Change the CRM-owned attributes of an account."""
    account = request.store.get(ACCOUNTS, request.path["account_id"])
    request.check_if_match(account)
    changes = {name: value for name, value in request.body.items() if name in EDITABLE and account.get(name) != value}
    if not changes:
        return ok(account)
    _check_us_state({**account, **changes})
    if "parent_account_id" in changes:
        _check_parent(request.store, account["id"], changes["parent_account_id"])
    account = request.store.update(ACCOUNTS, account["id"], changes)
    request.emit("crm.account.updated", account)
    return ok(account)


@operations("setAccountErpLink")
def set_account_erp_link(request: Request) -> Reply:
    """Record the ERP customer the account is billed as (sync endpoint)."""
    account = request.store.get(ACCOUNTS, request.path["account_id"])
    request.check_if_match(account)
    number = request.body["erp_customer_number"]
    if account.get("erp_customer_number") == number:
        return ok(account)
    account = request.store.update(ACCOUNTS, account["id"], {"erp_customer_number": number})
    request.emit("crm.account.erp_linked", account)
    return ok(account)


@operations("setAccountArStatus")
def set_account_ar_status(request: Request) -> Reply:
    """Record the receivables and credit hold the ERP reports (sync endpoint)."""
    account = request.store.get(ACCOUNTS, request.path["account_id"])
    request.check_if_match(account)
    reported = request.body["ar_status"]
    ar_status: dict[str, Any] = {
        "balance": canonical(reported["balance"]),
        "overdue_amount": canonical(reported["overdue_amount"]),
        "currency": reported["currency"],
    }
    if "as_of" in reported:
        ar_status["as_of"] = reported["as_of"]
    changes = {"ar_status": ar_status, "credit_hold": request.body["credit_hold"]}
    if all(account.get(name) == value for name, value in changes.items()):
        return ok(account)
    account = request.store.update(ACCOUNTS, account["id"], changes)
    request.emit("crm.account.ar_status_changed", account)
    return ok(account)
