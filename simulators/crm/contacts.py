"""Contacts: the people at an account."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.crm.accounts import require_account

operations = Operations()

CONTACTS = "contacts"
EDITABLE = ("name", "email", "role")


@operations("listContacts")
def list_contacts(request: Request) -> Reply:
    """Return a page of contacts, filtered by account and role."""
    account_id, role = request.query.get("account_id"), request.query.get("role")
    return request.page(request.store.where(CONTACTS, lambda contact: (
        (account_id is None or contact.get("account_id") == account_id)
        and (role is None or contact.get("role") == role))))


@operations("createContact")
def create_contact(request: Request) -> Reply:
    """Create a contact at an existing account."""
    body = request.body
    require_account(request.store, body["account_id"])
    contact = request.store.insert(CONTACTS, {"account_id": body["account_id"],
                                              **{name: body.get(name) for name in EDITABLE}})
    request.emit("crm.contact.created", contact)
    return created(contact, f"/contacts/{contact['id']}")


@operations("getContact")
def get_contact(request: Request) -> Reply:
    """Return one contact."""
    return ok(request.store.get(CONTACTS, request.path["contact_id"]))


@operations("updateContact")
def update_contact(request: Request) -> Reply:
    """Change a contact's name, email or role."""
    contact = request.store.get(CONTACTS, request.path["contact_id"])
    request.check_if_match(contact)
    changes = {name: value for name, value in request.body.items() if name in EDITABLE and contact.get(name) != value}
    if not changes:
        return ok(contact)
    contact = request.store.update(CONTACTS, contact["id"], changes)
    request.emit("crm.contact.updated", contact)
    return ok(contact)
