"""Legal entities and tax codes are seeded and read-only."""

from __future__ import annotations

from tests.unit.erp.support import ErpClient


def test_three_legal_entities_are_seeded_with_their_currency_and_regime(erp: ErpClient) -> None:
    entities = {entity["id"]: entity for entity in erp.get("/legal-entities")["items"]}

    assert {code: (e["country"], e["currency"], e["tax_regime"]) for code, e in entities.items()} == {
        "DE01": ("DE", "EUR", "VAT"), "UK01": ("GB", "GBP", "VAT"), "US01": ("US", "USD", "US_SALES_TAX")}


def test_tax_codes_carry_the_statutory_rates(erp: ErpClient) -> None:
    rates = {code["id"]: code["rate_percent"] for code in erp.get("/tax-codes?limit=100")["items"]}

    assert rates == {"UK_STANDARD": "20", "DE_STANDARD": "19", "REVERSE_CHARGE": "0", "OUTSIDE_SCOPE": "0",
                     "US_EXEMPT": "0", "US_HI_GET": "4", "US_NM_GRT": "5.125", "US_SD_SALES": "4.2",
                     "US_WV_SALES": "6"}


def test_tax_codes_can_be_listed_per_entity(erp: ErpClient) -> None:
    codes = [code["id"] for code in erp.get("/tax-codes?legal_entity=DE01")["items"]]

    assert codes == ["DE_STANDARD", "OUTSIDE_SCOPE", "REVERSE_CHARGE"]


def test_reverse_charge_code_prints_a_note(erp: ErpClient) -> None:
    assert "Reverse charge" in erp.get("/tax-codes/REVERSE_CHARGE")["invoice_note"]


def test_legal_entities_cannot_be_written(erp: ErpClient) -> None:
    response = erp.call("POST", "/legal-entities", {"id": "FR01"})

    assert response.status == 405
    assert response.body["type"].endswith("/method-not-allowed")


def test_unknown_tax_code_is_not_found(erp: ErpClient) -> None:
    assert erp.call("GET", "/tax-codes/FR_STANDARD").status == 404


def test_options_lists_only_the_methods_of_the_batch_route(erp: ErpClient) -> None:
    batch = erp.client.options("/billable-transactions/batch")
    one = erp.client.options("/billable-transactions/BTX-000001")

    assert batch.headers["Allow"] == "POST, OPTIONS"
    assert set(one.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_only_post_is_allowed_on_the_batch_route(erp: ErpClient) -> None:
    response = erp.call("GET", "/billable-transactions/batch")

    assert (response.status, response.headers["Allow"]) == (405, "POST, OPTIONS")
    assert response.body["type"].endswith("/method-not-allowed")
    assert erp.call("GET", "/billable-transactions/BTX-000001").status == 404


def test_the_app_factory_is_exported_by_the_package() -> None:
    from simulators import erp

    assert callable(erp.create_app)
