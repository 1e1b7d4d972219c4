"""Customers: created by the sync engine, searched before creating, corrected in place."""

from __future__ import annotations

from tests.unit.erp.support import ErpClient


def test_created_customer_gets_an_id_defaults_and_an_event(erp: ErpClient) -> None:
    customer = erp.customer("DE01", crm_account_id="ACC-000042", source_system="crm", source_id="ACC-000042",
                            source_version=3, credit_limit="50000")

    assert customer["id"] == "CUS-000001"
    assert (customer["payment_terms_days"], customer["credit_limit"], customer["credit_hold"]) == (
        30, "50000.00", False)
    assert (customer["source_system"], customer["source_id"], customer["source_version"]) == ("crm", "ACC-000042", 3)
    assert [event["type"] for event in erp.events()] == ["erp.customer.created"]


def test_search_by_tax_registration_ignores_spacing_and_case(erp: ErpClient) -> None:
    customer = erp.customer("UK01", tax_registration="GB 987 654 321")
    erp.customer("DE01")

    found = erp.get("/customers?tax_registration=gb987654321")["items"]

    assert [item["id"] for item in found] == [customer["id"]]


def test_search_by_name_matches_part_of_the_name(erp: ErpClient) -> None:
    erp.customer("UK01")
    rhein = erp.customer("DE01")

    assert [item["id"] for item in erp.get("/customers?name=rhein")["items"]] == [rhein["id"]]


def test_duplicate_customers_are_not_refused_because_deduplication_is_the_engines_job(erp: ErpClient) -> None:
    first = erp.customer("UK01")
    second = erp.customer("UK01")

    assert first["id"] != second["id"]


def test_update_adds_a_missing_tax_registration(erp: ErpClient) -> None:
    customer = erp.post("/customers", {"name": "Lumiere SA", "legal_entity": "UK01", "country": "FR",
                                       "currency": "EUR"})

    response = erp.call("PATCH", f"/customers/{customer['id']}", {"tax_registration": "FR40303265045"},
                        {"If-Match": '"1"'})

    assert response.status == 200
    assert response.body["tax_registration"] == "FR40303265045"
    assert response.headers["ETag"] == '"2"'
    assert erp.events()[-1]["type"] == "erp.customer.updated"


def test_update_with_a_stale_etag_is_refused(erp: ErpClient) -> None:
    customer = erp.customer("UK01")
    erp.call("PATCH", f"/customers/{customer['id']}", {"name": "Albion Group plc"})

    response = erp.call("PATCH", f"/customers/{customer['id']}", {"name": "Other"}, {"If-Match": '"1"'})

    assert response.status == 412
    assert erp.get(f"/customers/{customer['id']}")["name"] == "Albion Group plc"


def test_update_from_an_older_source_version_is_refused(erp: ErpClient) -> None:
    customer = erp.customer("UK01", source_system="crm", source_id="ACC-1", source_version=4)

    response = erp.call("PATCH", f"/customers/{customer['id']}", {"name": "Old name", "source_version": 3})

    assert response.status == 409
    assert response.body["type"].endswith("/stale-version")


def test_search_by_crm_account_and_entity_combines_every_filter(erp: ErpClient) -> None:
    uk = erp.customer("UK01", crm_account_id="ACC-000007", tax_registration="GB 123 456 789")
    de = erp.customer("DE01", crm_account_id="ACC-000007")
    erp.customer("UK01", crm_account_id="ACC-000008")

    def ids(query: str) -> list[str]:
        return [item["id"] for item in erp.get(f"/customers?{query}")["items"]]

    assert ids("crm_account_id=ACC-000007") == [uk["id"], de["id"]]
    assert ids("crm_account_id=ACC-000007&legal_entity=DE01") == [de["id"]]
    assert ids("crm_account_id=ACC-000007&tax_registration=gb123456789") == [uk["id"]]
    assert ids("legal_entity=UK01&tax_registration=gb-123.456.789") == [uk["id"]]
    assert ids("legal_entity=DE01&tax_registration=gb123456789") == []
    assert ids("crm_account_id=ACC-000009") == []


def test_search_by_tax_registration_follows_corrections(erp: ErpClient) -> None:
    missing = erp.post("/customers", {"name": "Lumiere SA", "legal_entity": "UK01", "country": "FR", "currency": "EUR"})
    other = erp.customer("UK01", tax_registration="GB 987 654 321")

    def ids(query: str) -> list[str]:
        return [item["id"] for item in erp.get(f"/customers?{query}")["items"]]

    assert ids("tax_registration=FR40303265045") == []
    erp.call("PATCH", f"/customers/{missing['id']}", {"tax_registration": "FR 403 032 650 45"})
    assert ids("tax_registration=fr40303265045&name=lumiere") == [missing["id"]]
    erp.call("PATCH", f"/customers/{other['id']}", {"tax_registration": "FR40303265045"})
    assert ids("tax_registration=FR-403.032.650.45") == [missing["id"], other["id"]]
    assert ids("tax_registration=GB987654321") == []
