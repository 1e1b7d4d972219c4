"""Accounts: hierarchy, ownership of ERP attributes, sync endpoints, concurrency, lists."""

from __future__ import annotations

from tests.unit.crm.builders import ACCOUNT, Api, body_of, new_account, problem_type

AR_STATUS = {"balance": "48250.5", "overdue_amount": "12000", "currency": "EUR", "as_of": "2026-03-31T18:00:00Z"}


def test_created_account_is_readable_with_its_etag_and_erp_attributes_empty(api: Api) -> None:
    response = api.post("/accounts", ACCOUNT)
    account = body_of(response, 201)
    assert account["id"] == "ACC-000001"
    assert response.headers["Location"] == "/accounts/ACC-000001"
    assert account["erp_customer_number"] is None and account["ar_status"] is None and account["credit_hold"] is False
    read = api.get("/accounts/ACC-000001")
    assert body_of(read, 200) == account
    assert read.headers["ETag"] == '"1"'
    assert api.event_types() == ["crm.account.created"]


def test_child_account_names_an_existing_parent(api: Api) -> None:
    parent = new_account(api, name="Northwind Holding AG")
    child = new_account(api, parent_account_id=parent["id"])
    assert child["parent_account_id"] == parent["id"]
    assert [a["id"] for a in body_of(api.get("/accounts", parent_account_id=parent["id"]), 200)["items"]] == [
        child["id"]]


def test_unknown_parent_is_refused_on_create_and_update(api: Api) -> None:
    response = api.post("/accounts", {**ACCOUNT, "parent_account_id": "ACC-000099"})
    assert response.status_code == 422 and problem_type(response) == "unknown-account"
    assert response.json["field"] == "parent_account_id"  # type: ignore[index]
    account = new_account(api)
    response = api.patch(f"/accounts/{account['id']}", {"parent_account_id": "ACC-000099"})
    assert response.status_code == 422 and problem_type(response) == "unknown-account"
    assert body_of(api.get(f"/accounts/{account['id']}"), 200)["parent_account_id"] is None


def test_account_cannot_be_its_own_parent(api: Api) -> None:
    account = new_account(api)
    response = api.patch(f"/accounts/{account['id']}", {"parent_account_id": account["id"]})
    assert response.status_code == 422 and problem_type(response) == "account-hierarchy-cycle"


def test_reparenting_a_grandparent_under_its_grandchild_is_refused_as_a_cycle(api: Api) -> None:
    group = new_account(api, name="Northwind Group")
    region = new_account(api, name="Northwind DACH", parent_account_id=group["id"])
    site = new_account(api, name="Northwind Hamburg", parent_account_id=region["id"])
    response = api.patch(f"/accounts/{group['id']}", {"parent_account_id": site["id"]})
    assert response.status_code == 422 and problem_type(response) == "account-hierarchy-cycle"
    assert "ACC-000001 -> ACC-000003 -> ACC-000002 -> ACC-000001" in response.json["detail"]  # type: ignore[index]
    assert body_of(api.get(f"/accounts/{group['id']}"), 200)["version"] == 1


def test_moving_an_account_to_another_branch_of_the_hierarchy_is_allowed(api: Api) -> None:
    group = new_account(api, name="Northwind Group")
    dach = new_account(api, name="Northwind DACH", parent_account_id=group["id"])
    nordics = new_account(api, name="Northwind Nordics", parent_account_id=group["id"])
    site = new_account(api, name="Northwind Hamburg", parent_account_id=dach["id"])
    moved = body_of(api.patch(f"/accounts/{site['id']}", {"parent_account_id": nordics["id"]}), 200)
    assert moved["parent_account_id"] == nordics["id"] and moved["version"] == 2
    assert api.event_types()[-1] == "crm.account.updated"


def test_us_state_belongs_only_to_us_accounts(api: Api) -> None:
    us = new_account(api, name="Contoso Inc.", country="US", us_state="NY", currency="USD", tax_id="12-3456789")
    assert us["us_state"] == "NY"
    response = api.post("/accounts", {**ACCOUNT, "us_state": "NY"})
    assert response.status_code == 422 and problem_type(response) == "invalid-us-state"
    response = api.patch(f"/accounts/{us['id']}", {"country": "CA"})
    assert response.status_code == 422 and problem_type(response) == "invalid-us-state"
    moved = body_of(api.patch(f"/accounts/{us['id']}", {"country": "CA", "us_state": None}), 200)
    assert moved["country"] == "CA" and moved["us_state"] is None


def test_erp_owned_attributes_are_refused_naming_the_erp(api: Api) -> None:
    for field, value in (("erp_customer_number", "CUS-000001"), ("credit_hold", True),
                         ("ar_status", {"balance": "1.00"})):
        response = api.post("/accounts", {**ACCOUNT, field: value})
        assert response.status_code == 403, field
        assert problem_type(response) == "attribute-owned-elsewhere"
        assert response.json["owner"] == "erp"  # type: ignore[index]
    account = new_account(api)
    response = api.patch(f"/accounts/{account['id']}", {"erp_customer_number": "CUS-000001"})
    assert response.status_code == 403 and response.json["owner"] == "erp"  # type: ignore[index]
    assert api.event_types() == ["crm.account.created"]


def test_erp_link_sync_endpoint_writes_the_customer_number_once(api: Api) -> None:
    account = new_account(api)
    linked = body_of(api.put(f"/accounts/{account['id']}/erp-link", {"erp_customer_number": "CUS-000017"}), 200)
    assert linked["erp_customer_number"] == "CUS-000017" and linked["version"] == 2
    again = body_of(api.put(f"/accounts/{account['id']}/erp-link", {"erp_customer_number": "CUS-000017"}), 200)
    assert again["version"] == 2
    assert api.event_types() == ["crm.account.created", "crm.account.erp_linked"]
    assert body_of(api.get("/accounts", erp_customer_number="CUS-000017"), 200)["items"] == [linked]


def test_ar_status_sync_endpoint_records_receivables_and_credit_hold(api: Api) -> None:
    account = new_account(api)
    path = f"/accounts/{account['id']}/ar-status"
    held = body_of(api.put(path, {"ar_status": AR_STATUS, "credit_hold": True}), 200)
    assert held["ar_status"] == {"balance": "48250.50", "overdue_amount": "12000.00", "currency": "EUR",
                                 "as_of": "2026-03-31T18:00:00Z"}
    assert held["credit_hold"] is True
    body_of(api.put(path, {"ar_status": AR_STATUS, "credit_hold": True}), 200)
    released = body_of(api.put(path, {"ar_status": {**AR_STATUS, "overdue_amount": "0"}, "credit_hold": False}), 200)
    assert released["credit_hold"] is False and released["version"] == 3
    events = api.events("crm.account.ar_status_changed")
    assert [event["data"]["credit_hold"] for event in events] == [True, False]
    assert body_of(api.get("/accounts", credit_hold="false"), 200)["items"] == [released]


def test_stale_if_match_is_refused_and_changes_nothing(api: Api) -> None:
    account = new_account(api)
    path = f"/accounts/{account['id']}"
    body_of(api.patch(path, {"industry": "Logistics"}, {"If-Match": '"1"'}), 200)
    response = api.patch(path, {"industry": "Shipping"}, {"If-Match": '"1"'})
    assert response.status_code == 412 and problem_type(response) == "precondition-failed"
    response = api.put(f"{path}/erp-link", {"erp_customer_number": "CUS-1"}, {"If-Match": '"1"'})
    assert response.status_code == 412
    assert body_of(api.get(path), 200)["industry"] == "Logistics"


def test_patch_without_a_change_keeps_the_version_and_emits_nothing(api: Api) -> None:
    account = new_account(api)
    same = body_of(api.patch(f"/accounts/{account['id']}", {"name": account["name"]}), 200)
    assert same["version"] == 1
    assert api.event_types() == ["crm.account.created"]


def test_idempotent_create_replays_the_first_response(api: Api) -> None:
    key = {"Idempotency-Key": "create-northwind-1"}
    first = api.post("/accounts", ACCOUNT, key)
    replay = api.post("/accounts", ACCOUNT, key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    assert len(body_of(api.get("/accounts"), 200)["items"]) == 1
    assert api.event_types() == ["crm.account.created"]
    other = api.post("/accounts", {**ACCOUNT, "name": "Another"}, key)
    assert other.status_code == 422 and problem_type(other) == "idempotency-key-reused"


def test_accounts_page_in_id_order_with_a_cursor(api: Api) -> None:
    created = [new_account(api, name=f"Customer {n}")["id"] for n in range(5)]
    first = body_of(api.get("/accounts", limit=2), 200)
    second = body_of(api.get("/accounts", limit=2, cursor=first["next_cursor"]), 200)
    third = body_of(api.get("/accounts", limit=2, cursor=second["next_cursor"]), 200)
    assert [a["id"] for page in (first, second, third) for a in page["items"]] == created
    assert third["next_cursor"] is None


def test_account_list_filters_by_country(api: Api) -> None:
    new_account(api)
    us = new_account(api, name="Contoso Inc.", country="US", currency="USD")
    assert body_of(api.get("/accounts", country="US"), 200)["items"] == [us]


def test_unknown_account_is_not_found(api: Api) -> None:
    response = api.get("/accounts/ACC-000042")
    assert response.status_code == 404 and problem_type(response) == "not-found"
