"""Contacts: people at an account."""

from __future__ import annotations

from tests.unit.crm.builders import Api, body_of, new_account, problem_type

KATRIN = {"name": "Katrin Vogel", "email": "k.vogel@northwind-logistics.de", "role": "ECONOMIC_BUYER"}


def test_contact_is_created_at_an_existing_account_and_emitted(api: Api) -> None:
    account = new_account(api)
    contact = body_of(api.post("/contacts", {**KATRIN, "account_id": account["id"]}), 201)
    assert contact["id"] == "CON-000001" and contact["account_id"] == account["id"]
    assert body_of(api.get(f"/contacts/{contact['id']}"), 200) == contact
    created = api.events("crm.contact.")
    assert [(e["type"], e["subject"], e["data"]) for e in created] == [("crm.contact.created", contact["id"], contact)]


def test_contact_at_an_unknown_account_is_refused(api: Api) -> None:
    response = api.post("/contacts", {**KATRIN, "account_id": "ACC-000404"})
    assert response.status_code == 422 and problem_type(response) == "unknown-account"
    assert api.event_types() == []


def test_contact_role_and_email_change_with_if_match(api: Api) -> None:
    account = new_account(api)
    contact = body_of(api.post("/contacts", {**KATRIN, "account_id": account["id"]}), 201)
    path = f"/contacts/{contact['id']}"
    changed = body_of(api.patch(path, {"role": "DECISION_MAKER"}, {"If-Match": '"1"'}), 200)
    assert changed["role"] == "DECISION_MAKER" and changed["version"] == 2
    assert api.patch(path, {"email": None}, {"If-Match": '"1"'}).status_code == 412
    assert api.event_types("crm.contact.") == ["crm.contact.created", "crm.contact.updated"]


def test_contacts_list_by_account_and_role(api: Api) -> None:
    northwind, contoso = new_account(api), new_account(api, name="Contoso Inc.", country="US", currency="USD")
    katrin = body_of(api.post("/contacts", {**KATRIN, "account_id": northwind["id"]}), 201)
    body_of(api.post("/contacts", {"name": "Sam Reyes", "role": "BILLING", "account_id": contoso["id"]}), 201)
    jonas = body_of(api.post("/contacts", {"name": "Jonas Peters", "role": "BILLING",
                                           "account_id": northwind["id"]}), 201)
    assert body_of(api.get("/contacts", account_id=northwind["id"]), 200)["items"] == [katrin, jonas]
    assert body_of(api.get("/contacts", account_id=northwind["id"], role="BILLING"), 200)["items"] == [jonas]


def test_malformed_email_is_a_validation_error(api: Api) -> None:
    account = new_account(api)
    response = api.post("/contacts", {**KATRIN, "email": "not-an-email", "account_id": account["id"]})
    assert response.status_code == 400 and problem_type(response) == "validation-error"
