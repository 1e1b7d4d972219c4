"""The admin API: reset, seed, state export, faults, subscriptions, clock and the admin token."""

from __future__ import annotations

from typing import Any

from simulators.common.clock import ManualClock
from tests.unit.common import toy
from tests.unit.common.conftest import ToyApi


def test_reset_forgets_records_events_faults_subscriptions_and_keys(api: ToyApi) -> None:
    api.create("sprocket", {"Idempotency-Key": "key-1"})
    api.add_fault(kind="latency", params={"ms": 10})
    api.client.post("/admin/subscriptions", json={"url": "https://engine.example/hook", "secret": "whsec-12345"})

    response = api.client.post("/admin/reset")
    recreated = api.create("gear", {"Idempotency-Key": "key-1"})

    assert response.get_json() == {"system": "toy", "reset": True}
    assert api.client.get("/admin/faults").get_json()["items"] == []
    assert api.client.get("/admin/subscriptions").get_json()["items"] == []
    assert recreated.status_code == 201
    assert recreated.get_json()["id"] == "WID-000001"
    assert [event["sequence"] for event in api.get("/events").get_json()["items"]] == [1]


def test_seed_adds_records_as_given_and_ids_continue_after_them(api: ToyApi) -> None:
    response = api.client.post("/admin/seed", json={"widgets": [
        {"id": "WID-000041", "name": "flange", "status": "POLISHED"},
        {"name": "washer", "status": "ROUGH"},
    ]})
    created = api.create("bolt").get_json()

    assert response.get_json() == {"seeded": {"widgets": 2}}
    assert api.get("/widgets/WID-000041").get_json()["status"] == "POLISHED"
    assert created["id"] == "WID-000043"
    assert api.get("/events").get_json()["items"][0]["subject"] == "WID-000043"  # seeding emits nothing


def test_seed_into_an_unknown_collection_is_400_and_seeds_nothing(api: ToyApi) -> None:
    response = api.client.post("/admin/seed", json={"widgets": [{"name": "washer", "status": "ROUGH"}],
                                                    "gadgets": [{"name": "x"}]})

    assert response.status_code == 400
    assert api.widgets() == []


def test_state_exports_every_record_deterministically(api: ToyApi) -> None:
    api.create("sprocket")
    api.create("gear")

    state = api.client.get("/admin/state").get_json()

    assert (state["system"], state["kind"], state["events"]) == ("toy", "toy", 2)
    assert [widget["name"] for widget in state["records"]["widgets"]] == ["sprocket", "gear"]


def test_faults_can_be_listed_and_removed_one_by_one_or_all(api: ToyApi) -> None:
    first = api.add_fault(kind="outage", id="maintenance", start="2026-03-02T22:00:00Z", duration=3600).get_json()
    api.add_fault(kind="latency", params={"ms": 100})

    listed = api.client.get("/admin/faults").get_json()["items"]
    removed = api.client.delete(f"/admin/faults/{first['id']}")
    missing = api.client.delete("/admin/faults/maintenance")
    cleared = api.client.delete("/admin/faults")

    assert listed[0] == {"id": "maintenance", "kind": "outage", "start": "2026-03-02T22:00:00Z",
                         "end": "2026-03-02T23:00:00Z", "params": {}}
    assert [fault["kind"] for fault in listed] == ["outage", "latency"]
    assert (removed.status_code, missing.status_code, cleared.status_code) == (200, 404, 200)
    assert api.client.get("/admin/faults").get_json()["items"] == []


def test_subscription_needs_an_http_url_and_a_real_secret(api: ToyApi) -> None:
    no_url = api.client.post("/admin/subscriptions", json={"url": "ftp://engine", "secret": "whsec-12345"})
    short_secret = api.client.post("/admin/subscriptions", json={"url": "https://engine.example", "secret": "x"})
    not_an_object = api.client.post("/admin/subscriptions", json=["https://engine.example"])

    assert [r.status_code for r in (no_url, short_secret, not_an_object)] == [400, 400, 400]


def test_stats_count_calls_by_operation_and_status(api: ToyApi) -> None:
    api.create("sprocket")
    api.post("/widgets", {"name": ""})
    api.get("/widgets")

    stats = api.client.get("/admin/stats").get_json()

    assert stats["calls"] == {"createWidget": {"201": 1, "400": 1}, "listWidgets": {"200": 1}}
    assert stats["events"] == 1


def test_manual_clock_can_be_read_and_moved(api: ToyApi, clock: ManualClock) -> None:
    advanced = api.client.post("/admin/clock", json={"advance_s": 90}).get_json()
    jumped = api.client.post("/admin/clock", json={"now": "2026-04-01T00:00:00Z"}).get_json()

    assert advanced == {"now": "2026-03-02T09:01:30Z"}
    assert jumped == {"now": "2026-04-01T00:00:00Z"}
    assert api.client.get("/admin/clock").get_json() == {"now": "2026-04-01T00:00:00Z", "manual": True}
    assert api.client.post("/admin/clock", json={"advance_s": -1}).status_code == 400


def test_admin_token_guards_the_admin_api_when_configured(config: dict[str, Any]) -> None:
    app = toy.create_app({**config, "ADMIN_TOKEN": "admin-secret"})
    client = app.test_client()

    refused = client.post("/admin/reset")
    business_token = client.post("/admin/reset", headers={"Authorization": "Bearer firmsim-dev-token"})
    accepted = client.post("/admin/reset", headers={"Authorization": "Bearer admin-secret"})

    assert (refused.status_code, business_token.status_code, accepted.status_code) == (401, 401, 200)
