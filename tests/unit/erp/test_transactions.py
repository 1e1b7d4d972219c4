"""Billable transactions: posting one or a batch, what is refused, reversal and write-off."""

from __future__ import annotations

from tests.unit.erp.support import ErpClient


def test_posted_transaction_is_unbilled_and_traceable_to_its_source(erp: ErpClient) -> None:
    contract = erp.contract()

    transaction = erp.transaction(contract, quantity="7.5", rate="200.00", source_id="TE-000451",
                                  external_id="psa:TE-000451:v1", worker_id="WRK-1", role="CONSULTANT")

    assert transaction["status"] == "UNBILLED"
    assert (transaction["amount"], transaction["quantity"], transaction["rate"]) == ("1500.00", "7.5", "200.00")
    assert (transaction["source_system"], transaction["source_id"], transaction["source_version"]) == (
        "psa", "TE-000451", 1)
    assert (transaction["customer_id"], transaction["legal_entity"]) == (contract["customer_id"], "UK01")
    assert transaction["posting_period"] == "2026-03"
    assert erp.events()[-1]["type"] == "erp.billable_transaction.posted"


def test_the_same_source_posted_twice_is_posted_twice(erp: ErpClient) -> None:
    contract = erp.contract()
    item = erp.item(contract)

    first = erp.post("/billable-transactions", item)
    second = erp.post("/billable-transactions", item)

    assert first["id"] != second["id"]
    assert erp.balance(contract)["unbilled"] == "2400.00"


def test_an_external_id_is_used_once(erp: ErpClient) -> None:
    contract = erp.contract()
    first = erp.transaction(contract, external_id="psa:TE-1:v1")

    again = erp.call("POST", "/billable-transactions", erp.item(contract, external_id="psa:TE-1:v1"))

    assert again.status == 409
    assert (again.body["type"], again.body["existing_id"]) == (
        "https://firmsim.dev/problems/duplicate-external-id", first["id"])


def test_an_idempotency_key_replays_the_first_posting(erp: ErpClient) -> None:
    contract = erp.contract()
    item = erp.item(contract)

    first = erp.call("POST", "/billable-transactions", item, {"Idempotency-Key": "psa:TE-1:v1"})
    replay = erp.call("POST", "/billable-transactions", item, {"Idempotency-Key": "psa:TE-1:v1"})

    assert replay.body == first.body
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(erp.get("/billable-transactions")["items"]) == 1


def test_amount_must_be_quantity_times_rate_rounded_half_up(erp: ErpClient) -> None:
    contract = erp.contract()

    rounded = erp.call("POST", "/billable-transactions", erp.item(contract, quantity="1.3333", rate="100.125",
                                                                  amount="133.50"))
    wrong = erp.call("POST", "/billable-transactions", erp.item(contract, quantity="1", rate="100", amount="99.99"))

    # 1.3333 × 100.125 = 133.4966625 -> 133.50
    assert rounded.status == 201
    assert (wrong.status, wrong.body["expected_amount"]) == (422, "100.00")


def test_time_is_not_billable_on_fixed_fee_or_retainer_contracts_but_expenses_are(erp: ErpClient) -> None:
    fixed_fee = erp.contract("FIXED_FEE", total_price="1000", billing_plan={
        "eac": "800", "milestones": [{"id": "ALL", "name": "Delivery", "amount": "1000"}]})
    retainer = erp.contract("RETAINER", total_price="1000", billing_plan={
        "retainer": {"monthly_fee": "1000", "term_months": 1}})

    statuses = [erp.call("POST", "/billable-transactions", erp.item(contract, kind=kind, quantity="1",
                                                                    rate="412.30")).status
                for contract in (fixed_fee, retainer) for kind in ("TIME", "EXPENSE")]

    assert statuses == [422, 201, 422, 201]


def test_transaction_in_another_currency_or_for_an_unknown_contract_is_refused(erp: ErpClient) -> None:
    contract = erp.contract()

    euros = erp.call("POST", "/billable-transactions", {**erp.item(contract), "currency": "EUR"})
    unknown = erp.call("POST", "/billable-transactions", {**erp.item(contract), "contract_id": "CON-000999"})

    assert euros.body["type"] == "https://firmsim.dev/problems/currency-not-allowed"
    assert unknown.body["type"] == "https://firmsim.dev/problems/unknown-contract"


def test_batch_posts_each_item_on_its_own(erp: ErpClient) -> None:
    contract = erp.contract()
    items = [erp.item(contract, external_id="X-1"), {**erp.item(contract), "currency": "USD"},
             erp.item(contract, external_id="X-1"), erp.item(contract, kind="EXPENSE", quantity="1", rate="35.10")]

    results = erp.post("/billable-transactions/batch", {"items": items}, status=200)["results"]

    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 422), (2, 409), (3, 201)]
    assert results[1]["problem"]["type"] == "https://firmsim.dev/problems/currency-not-allowed"
    assert results[1]["problem"]["field"] == "body/items/1/currency"
    posted = erp.get("/billable-transactions")["items"]
    assert [t["id"] for t in posted] == [results[0]["id"], results[3]["id"]]
    assert len(erp.events("erp.billable_transaction.")) == 2


def test_reversal_before_invoicing_leaves_the_unbilled_pool(erp: ErpClient) -> None:
    contract = erp.contract()
    kept = erp.transaction(contract)
    reversed_ = erp.transaction(contract, quantity="2")

    result = erp.post(f"/billable-transactions/{reversed_['id']}/reverse",
                      {"reason": "Returned in PSA", "source_version": 2}, status=200)
    run = erp.run()

    assert (result["status"], result["credit_pending"], result["reversal_source_version"]) == ("REVERSED", False, 2)
    invoice = erp.get(f"/invoices/{run['invoice_ids'][0]}")
    assert [line["billable_transaction_id"] for line in invoice["lines"]] == [kept["id"]]
    assert run["credit_memo_ids"] == []
    assert erp.call("POST", f"/billable-transactions/{reversed_['id']}/reverse").status == 409


def test_reversal_with_a_stale_etag_is_refused(erp: ErpClient) -> None:
    transaction = erp.transaction(erp.contract())

    response = erp.call("POST", f"/billable-transactions/{transaction['id']}/reverse", {}, {"If-Match": '"7"'})

    assert response.status == 412
    assert erp.get(f"/billable-transactions/{transaction['id']}")["status"] == "UNBILLED"




def test_transactions_are_found_by_external_id_source_or_contract_with_every_other_filter(erp: ErpClient) -> None:
    contract, other = erp.contract(), erp.contract()
    first = erp.transaction(contract, source_id="TE-000001", external_id="psa:TE-000001:v1")
    second = erp.transaction(contract, source_id="TE-000002")
    third = erp.transaction(other, source_id="TE-000001")

    def ids(query: str) -> list[str]:
        return [item["id"] for item in erp.get(f"/billable-transactions?{query}")["items"]]

    assert ids("external_id=psa:TE-000001:v1") == [first["id"]]
    assert ids(f"external_id=psa:TE-000001:v1&contract_id={other['id']}") == []
    assert ids("source_id=TE-000001") == [first["id"], third["id"]]
    assert ids(f"source_id=TE-000001&contract_id={other['id']}") == [third["id"]]
    assert ids(f"contract_id={contract['id']}") == [first["id"], second["id"]]
    assert ids(f"contract_id={contract['id']}&status=UNBILLED") == [first["id"], second["id"]]
    assert ids(f"contract_id={contract['id']}&status=BILLED") == []
