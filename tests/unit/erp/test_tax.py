"""Tax on invoices: VAT per entity, reverse charge, US state overrides, the rounding rule, missing registrations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.erp.support import ErpClient


def _invoice_for(erp: ErpClient, entity: str, customer: dict[str, Any], quantity: str = "5",
                 rate: str = "200.00") -> dict[str, Any]:
    contract = erp.contract("TIME_AND_MATERIALS", entity, customer=customer)
    erp.transaction(contract, quantity=quantity, rate=rate)
    run = erp.run(entity)
    return erp.get(f"/invoices/{run['invoice_ids'][0]}")


def _customer(erp: ErpClient, entity: str, country: str, currency: str, **fields: Any) -> dict[str, Any]:
    return erp.post("/customers", {"name": f"Customer in {country}", "legal_entity": entity, "country": country,
                                   "currency": currency, **fields})


def test_uk_entity_charges_uk_vat_at_20_percent(erp: ErpClient) -> None:
    invoice = _invoice_for(erp, "UK01", _customer(erp, "UK01", "GB", "GBP"))

    # 5 h × 200.00 = 1000.00; VAT 20 % = 200.00
    assert (invoice["lines"][0]["tax_code"], invoice["tax_total"], invoice["total"]) == ("UK_STANDARD", "200.00",
                                                                                         "1200.00")
    assert (invoice["tax_note"], invoice["supplier_tax_registration"]) == (None, "GB123456789")


def test_german_entity_charges_german_vat_at_19_percent(erp: ErpClient) -> None:
    invoice = _invoice_for(erp, "DE01", _customer(erp, "DE01", "DE", "EUR"))

    assert (invoice["lines"][0]["tax_code"], invoice["tax_total"], invoice["total"]) == ("DE_STANDARD", "190.00",
                                                                                         "1190.00")


@pytest.mark.parametrize(("entity", "country", "registration"), [("UK01", "DE", "DE811234567"),
                                                                  ("DE01", "GB", "GB987654321"),
                                                                  ("DE01", "FR", "FR40303265045")])
def test_cross_border_business_services_are_reverse_charged_with_a_note(erp: ErpClient, entity: str, country: str,
                                                                        registration: str) -> None:
    customer = _customer(erp, entity, country, "EUR", tax_registration=registration)

    invoice = _invoice_for(erp, entity, customer)

    assert (invoice["lines"][0]["tax_code"], invoice["lines"][0]["tax_rate_percent"]) == ("REVERSE_CHARGE", "0")
    assert (invoice["tax_total"], invoice["total"]) == ("0.00", "1000.00")
    assert invoice["tax_note"].startswith("Reverse charge")
    assert invoice["customer_tax_registration"] == registration


def test_services_to_a_customer_outside_the_vat_area_are_outside_the_scope(erp: ErpClient) -> None:
    invoice = _invoice_for(erp, "UK01", _customer(erp, "UK01", "US", "USD"))

    assert (invoice["lines"][0]["tax_code"], invoice["tax_total"]) == ("OUTSIDE_SCOPE", "0.00")
    assert invoice["tax_note"].startswith("Outside the scope")


@pytest.mark.parametrize(("state", "code", "tax"), [("NY", "US_EXEMPT", "0.00"), ("HI", "US_HI_GET", "40.00"),
                                                    ("NM", "US_NM_GRT", "51.25"), ("SD", "US_SD_SALES", "42.00"),
                                                    ("WV", "US_WV_SALES", "60.00")])
def test_us_services_are_exempt_except_in_states_that_tax_them(erp: ErpClient, state: str, code: str,
                                                               tax: str) -> None:
    invoice = _invoice_for(erp, "US01", _customer(erp, "US01", "US", "USD", us_state=state))

    # 1000.00 × 0 %, 4 %, 5.125 %, 4.2 %, 6 %
    assert (invoice["lines"][0]["tax_code"], invoice["tax_total"]) == (code, tax)


def test_line_tax_is_rounded_half_up_to_cents(erp: ErpClient) -> None:
    invoice = _invoice_for(erp, "US01", _customer(erp, "US01", "US", "USD", us_state="NM"), quantity="8",
                           rate="186.40")

    # 8 × 186.40 = 1491.20; × 5.125 % = 76.424 -> 76.42
    assert (invoice["net_total"], invoice["tax_total"], invoice["total"]) == ("1491.20", "76.42", "1567.62")


def test_totals_are_sums_of_rounded_lines(erp: ErpClient) -> None:
    contract = erp.contract("TIME_AND_MATERIALS", "DE01", customer=_customer(erp, "DE01", "DE", "EUR"))
    erp.transaction(contract, quantity="7.5", rate="0.20")
    erp.transaction(contract, quantity="7.5", rate="0.20")

    invoice = erp.get(f"/invoices/{erp.run('DE01')['invoice_ids'][0]}")

    # each line: 1.50 × 19 % = 0.285 -> 0.29 (half up; half-even would give 0.28);
    # the tax total is 0.58, the sum of the rounded lines, not 3.00 × 19 % = 0.57
    assert [line["tax_amount"] for line in invoice["lines"]] == ["0.29", "0.29"]
    assert (invoice["net_total"], invoice["tax_total"], invoice["total"]) == ("3.00", "0.58", "3.58")


def test_credit_memo_credits_tax_at_the_original_rate(erp: ErpClient) -> None:
    customer = _customer(erp, "DE01", "DE", "EUR")
    contract = erp.contract("TIME_AND_MATERIALS", "DE01", customer=customer)
    transaction = erp.transaction(contract, quantity="7.5", rate="0.20")
    erp.run("DE01")
    erp.call("PATCH", f"/customers/{customer['id']}", {"country": "AT", "tax_registration": "ATU12345678"})

    erp.post(f"/billable-transactions/{transaction['id']}/reverse", status=200)
    credit_memo = erp.get(f"/credit-memos/{erp.run('DE01', '2026-04-30')['credit_memo_ids'][0]}")

    assert [(line["tax_code"], line["tax_amount"]) for line in credit_memo["lines"]] == [("DE_STANDARD", "0.29")]
    assert credit_memo["total"] == "1.79"


def test_posting_for_a_customer_missing_its_registration_is_refused(erp: ErpClient) -> None:
    customer = _customer(erp, "UK01", "DE", "EUR", tax_registration="DE811234567")
    contract = erp.contract("TIME_AND_MATERIALS", "UK01", customer=customer)
    erp.transaction(contract)
    erp.call("PATCH", f"/customers/{customer['id']}", {"tax_registration": None})

    refused = erp.call("POST", "/billable-transactions", erp.item(contract))
    run = erp.run()

    assert (refused.status, refused.body["type"]) == (422, "https://firmsim.dev/problems/missing-tax-registration")
    assert run["invoice_ids"] == []
    assert [(e["contract_id"], e["type"]) for e in run["exceptions"]] == [
        (contract["id"], "https://firmsim.dev/problems/missing-tax-registration")]
    assert erp.balance(contract)["unbilled"] == "1200.00"


def test_fixing_the_registration_lets_the_next_run_bill(erp: ErpClient) -> None:
    customer = _customer(erp, "UK01", "DE", "EUR", tax_registration="DE811234567")
    contract = erp.contract("TIME_AND_MATERIALS", "UK01", customer=customer)
    erp.transaction(contract)
    erp.call("PATCH", f"/customers/{customer['id']}", {"tax_registration": None})
    erp.run()

    erp.call("PATCH", f"/customers/{customer['id']}", {"tax_registration": "DE811234567"})
    run = erp.run()

    assert (len(run["invoice_ids"]), run["exceptions"]) == (1, [])


def test_a_contract_with_nothing_to_bill_raises_no_exception(erp: ErpClient) -> None:
    customer = _customer(erp, "UK01", "DE", "EUR", tax_registration="DE811234567")
    erp.contract("TIME_AND_MATERIALS", "UK01", customer=customer)
    erp.call("PATCH", f"/customers/{customer['id']}", {"tax_registration": None})

    assert erp.run()["exceptions"] == []
