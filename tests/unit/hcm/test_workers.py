"""Workers: hiring, reading, listing with filters and pagination, and changing details."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from simulators.hcm import create_app
from tests.unit.hcm.conftest import WORKER, Api

Hire = Callable[..., dict[str, Any]]


def test_hired_worker_is_active_with_entity_currency_country_and_standard_week(api: Api) -> None:
    response = api.post("/workers", {**WORKER, "legal_entity": "DE01", "email": "lena.hoffmann@firmsim.example",
                                     "first_name": "Lena", "last_name": "Hoffmann"})

    worker = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"/workers/{worker['id']}"
    assert response.headers["ETag"] == '"1"'
    assert worker["id"] == "WRK-000001"
    assert (worker["status"], worker["currency"], worker["country"]) == ("ACTIVE", "EUR", "DE")
    assert worker["weekly_capacity_hours"] == "40.00"
    assert worker["termination_date"] is None
    assert worker["role_history"] == [{"role": "SENIOR_CONSULTANT", "effective_from": "2026-03-02", "reason": "HIRE"}]


def test_uk_worker_gets_a_37_5_hour_week_unless_told_otherwise(hire: Hire) -> None:
    assert hire()["weekly_capacity_hours"] == "37.50"
    assert hire(email="part.timer@firmsim.example", weekly_capacity_hours="22.5")["weekly_capacity_hours"] == "22.50"


def test_hiring_emits_hired_event_with_the_record(api: Api, worker: dict[str, Any]) -> None:
    [event] = api.events()

    assert event["type"] == "hcm.worker.hired"
    assert event["subject"] == worker["id"]
    assert event["data"] == worker


def test_read_worker_returns_record_and_etag(api: Api, worker: dict[str, Any]) -> None:
    response = api.get(f"/workers/{worker['id']}")

    assert response.status_code == 200
    assert response.get_json() == worker
    assert response.headers["ETag"] == '"1"'


def test_unknown_worker_is_404_problem(api: Api) -> None:
    response = api.get("/workers/WRK-999999")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "https://firmsim.dev/problems/not-found"


def test_email_already_taken_is_a_conflict_whatever_its_case(api: Api, worker: dict[str, Any]) -> None:
    response = api.post("/workers", {**WORKER, "email": worker["email"].upper()})

    assert response.status_code == 409
    assert response.get_json()["field"] == "email"
    assert api.event_types() == ["hcm.worker.hired"]


def test_manager_must_be_a_known_active_worker(api: Api, hire: Hire) -> None:
    unknown = api.post("/workers", {**WORKER, "manager_id": "WRK-000042"})
    manager = hire(email="amelia.clarke@firmsim.example", role="MANAGER")
    report = hire(manager_id=manager["id"])

    assert unknown.status_code == 422
    assert unknown.get_json()["type"] == "https://firmsim.dev/problems/invalid-manager"
    assert report["manager_id"] == manager["id"]


def test_terminated_worker_cannot_become_a_manager(api: Api, hire: Hire) -> None:
    manager = hire(email="amelia.clarke@firmsim.example")
    api.post(f"/workers/{manager['id']}/terminate", {"termination_date": "2026-03-31"})

    response = api.post("/workers", {**WORKER, "manager_id": manager["id"]})

    assert response.status_code == 422
    assert "TERMINATED" in response.get_json()["detail"]


def test_unknown_practice_or_entity_is_refused_by_the_spec(api: Api) -> None:
    practice = api.post("/workers", {**WORKER, "practice": "LEGAL"})
    entity = api.post("/workers", {**WORKER, "legal_entity": "FR01"})

    assert (practice.status_code, entity.status_code) == (400, 400)
    assert practice.get_json()["field"] == "body/practice"


def test_list_filters_by_entity_role_status_practice_type_and_manager(api: Api, hire: Hire) -> None:
    manager = hire(email="amelia.clarke@firmsim.example", role="MANAGER", legal_entity="US01")
    analyst = hire(email="noah.fischer@firmsim.example", role="ANALYST", legal_entity="DE01",
                   practice="DATA_AI", manager_id=manager["id"])
    contractor = hire(email="priya.raman@firmsim.example", worker_type="CONTRACTOR", manager_id=manager["id"])
    api.post(f"/workers/{contractor['id']}/terminate", {"termination_date": "2026-04-30"})

    def ids(query: str) -> list[str]:
        return [worker["id"] for worker in api.get(f"/workers?{query}").get_json()["items"]]

    assert ids("legal_entity=DE01") == [analyst["id"]]
    assert ids("role=MANAGER") == [manager["id"]]
    assert ids("status=TERMINATED") == [contractor["id"]]
    assert ids("practice=DATA_AI") == [analyst["id"]]
    assert ids("worker_type=CONTRACTOR") == [contractor["id"]]
    assert ids(f"manager_id={manager['id']}") == [analyst["id"], contractor["id"]]
    assert ids(f"manager_id={manager['id']}&status=ACTIVE") == [analyst["id"]]


def test_list_pages_through_every_worker_once_with_cursors(api: Api, hire: Hire) -> None:
    hired = [hire(email=f"consultant{number}@firmsim.example")["id"] for number in range(5)]

    seen: list[str] = []
    page = api.get("/workers?limit=2").get_json()
    seen += [worker["id"] for worker in page["items"]]
    while page["next_cursor"]:
        page = api.get(f"/workers?limit=2&cursor={page['next_cursor']}").get_json()
        seen += [worker["id"] for worker in page["items"]]

    assert seen == hired


def test_update_changes_details_bumps_version_and_emits_updated(api: Api, worker: dict[str, Any]) -> None:
    response = api.patch(f"/workers/{worker['id']}", {"practice": "DATA_AI", "weekly_capacity_hours": "30"},
                         {"If-Match": '"1"'})

    updated = response.get_json()
    assert response.status_code == 200
    assert (updated["practice"], updated["weekly_capacity_hours"], updated["version"]) == ("DATA_AI", "30.00", 2)
    assert response.headers["ETag"] == '"2"'
    assert api.events()[-1]["type"] == "hcm.worker.updated"
    assert api.events()[-1]["data"] == updated


def test_update_with_a_stale_etag_is_412_and_changes_nothing(api: Api, worker: dict[str, Any]) -> None:
    api.patch(f"/workers/{worker['id']}", {"last_name": "Bennett-Hughes"})

    response = api.patch(f"/workers/{worker['id']}", {"practice": "STRATEGY"}, {"If-Match": '"1"'})

    assert response.status_code == 412
    assert response.get_json()["type"] == "https://firmsim.dev/problems/precondition-failed"
    assert api.get(f"/workers/{worker['id']}").get_json()["practice"] == "TECHNOLOGY"


def test_update_refuses_role_and_entity_which_change_only_by_transition(api: Api, worker: dict[str, Any]) -> None:
    role = api.patch(f"/workers/{worker['id']}", {"role": "PARTNER"})
    entity = api.patch(f"/workers/{worker['id']}", {"legal_entity": "US01"})

    assert (role.status_code, entity.status_code) == (400, 400)


def test_update_refuses_a_manager_cycle(api: Api, hire: Hire) -> None:
    boss = hire(email="amelia.clarke@firmsim.example")
    report = hire(email="noah.fischer@firmsim.example", manager_id=boss["id"])

    cycle = api.patch(f"/workers/{boss['id']}", {"manager_id": report["id"]})
    itself = api.patch(f"/workers/{boss['id']}", {"manager_id": boss["id"]})

    assert (cycle.status_code, itself.status_code) == (422, 422)


def test_update_can_take_an_email_only_if_free(api: Api, hire: Hire) -> None:
    first = hire()
    second = hire(email="noah.fischer@firmsim.example")

    taken = api.patch(f"/workers/{second['id']}", {"email": first["email"]})
    own = api.patch(f"/workers/{first['id']}", {"email": "Oliver.Bennett@firmsim.example"})

    assert (taken.status_code, own.status_code) == (409, 200)


def test_terminated_worker_cannot_be_updated(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-03-31"})

    response = api.patch(f"/workers/{worker['id']}", {"practice": "STRATEGY"})

    assert response.status_code == 409


def test_hire_replayed_with_the_same_key_creates_one_worker(api: Api) -> None:
    key = {"Idempotency-Key": "hire-oliver-bennett"}

    first = api.post("/workers", WORKER, key)
    second = api.post("/workers", WORKER, key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json()
    assert len(api.get("/workers").get_json()["items"]) == 1
    assert api.event_types() == ["hcm.worker.hired"]


def test_hire_key_reused_for_another_worker_is_422(api: Api) -> None:
    key = {"Idempotency-Key": "hire-1"}
    api.post("/workers", WORKER, key)

    response = api.post("/workers", {**WORKER, "email": "someone.else@firmsim.example"}, key)

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/idempotency-key-reused"


def test_demo_roster_is_the_same_for_the_same_seed() -> None:
    def roster(seed: int) -> dict[str, Any]:
        app = create_app({"CLOCK": ManualClock(datetime(2026, 3, 2, tzinfo=UTC)), "DEMO_WORKERS": 5, "SEED": seed,
                          "VALIDATE_RESPONSES": True})
        client = app.test_client()
        state: dict[str, Any] = client.get("/admin/state").get_json()["records"]
        listed = client.get("/workers", headers={"Authorization": "Bearer firmsim-dev-token"})
        assert listed.status_code == 200
        assert context_of(app).response_violations == []
        return state

    first, again, other = roster(7), roster(7), roster(8)

    assert first == again
    assert len(first["workers"]) == 5
    assert len(first["cost_rates"]) == 5
    assert first["workers"] != other["workers"]
