"""The worker lifecycle: terminate, rehire and change role, legal and illegal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.hcm.conftest import Api


def test_termination_sets_status_date_reason_and_emits_terminated(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30",
                                                               "reason": "END_OF_CONTRACT"}, {"If-Match": '"1"'})

    terminated = response.get_json()
    assert response.status_code == 200
    assert (terminated["status"], terminated["termination_date"]) == ("TERMINATED", "2026-06-30")
    assert terminated["termination_reason"] == "END_OF_CONTRACT"
    assert api.events()[-1]["type"] == "hcm.worker.terminated"
    assert api.events()[-1]["data"] == terminated


def test_termination_reason_defaults_to_resignation(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-03-02"})

    assert response.get_json()["termination_reason"] == "RESIGNATION"


def test_termination_before_the_hire_date_is_refused(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-03-01"})

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-effective-date"
    assert api.get(f"/workers/{worker['id']}").get_json()["status"] == "ACTIVE"


def test_terminating_twice_is_an_invalid_transition(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30"})

    response = api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-07-31"})

    assert response.status_code == 409
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-transition"
    assert response.get_json()["current_status"] == "TERMINATED"
    assert api.event_types() == ["hcm.worker.hired", "hcm.worker.terminated"]


@pytest.mark.parametrize("path,body", [
    ("terminate", {"termination_date": "2026-06-30"}),
    ("change-role", {"role": "MANAGER", "effective_date": "2026-04-01"}),
])
def test_transition_with_a_stale_etag_is_412(api: Api, worker: dict[str, Any], path: str, body: dict[str, Any]) -> None:
    api.patch(f"/workers/{worker['id']}", {"practice": "OPERATIONS"})

    response = api.post(f"/workers/{worker['id']}/{path}", body, {"If-Match": '"1"'})

    assert response.status_code == 412
    assert api.get(f"/workers/{worker['id']}").get_json()["status"] == "ACTIVE"


def test_rehire_after_termination_restores_active_and_keeps_the_original_hire_date(
        api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30"})

    response = api.post(f"/workers/{worker['id']}/rehire",
                        {"rehire_date": "2026-09-01", "role": "MANAGER", "legal_entity": "US01"})

    rehired = response.get_json()
    assert response.status_code == 200
    assert (rehired["status"], rehired["hire_date"], rehired["original_hire_date"]) == (
        "ACTIVE", "2026-09-01", "2026-03-02")
    assert (rehired["termination_date"], rehired["termination_reason"]) == (None, None)
    assert (rehired["legal_entity"], rehired["currency"], rehired["weekly_capacity_hours"]) == ("US01", "USD", "40.00")
    assert rehired["role_history"][-1] == {"role": "MANAGER", "effective_from": "2026-09-01", "reason": "REHIRE"}
    assert api.event_types()[-1] == "hcm.worker.rehired"


def test_rehire_must_come_after_the_termination_date(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30"})

    response = api.post(f"/workers/{worker['id']}/rehire", {"rehire_date": "2026-06-30"})

    assert response.status_code == 422
    assert response.get_json()["field"] == "rehire_date"


def test_rehiring_an_active_worker_is_an_invalid_transition(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/rehire", {"rehire_date": "2026-09-01"})

    assert response.status_code == 409
    assert response.get_json()["current_status"] == "ACTIVE"


def test_promotion_moves_role_and_appends_effective_dated_history(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/change-role", {"role": "MANAGER", "effective_date": "2026-04-01"},
                        {"If-Match": '"1"'})

    promoted = response.get_json()
    assert response.status_code == 200
    assert (promoted["role"], promoted["role_effective_from"]) == ("MANAGER", "2026-04-01")
    assert promoted["role_history"] == [
        {"role": "SENIOR_CONSULTANT", "effective_from": "2026-03-02", "reason": "HIRE"},
        {"role": "MANAGER", "effective_from": "2026-04-01", "reason": "PROMOTION"},
    ]
    assert api.events()[-1]["type"] == "hcm.worker.role_changed"
    assert api.events()[-1]["data"] == promoted


def test_role_change_to_the_same_role_is_a_conflict(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/change-role",
                        {"role": "SENIOR_CONSULTANT", "effective_date": "2026-04-01"})

    assert response.status_code == 409


@pytest.mark.parametrize("effective_date", ["2026-03-02", "2026-02-01"])
def test_role_change_must_start_after_the_current_role(api: Api, worker: dict[str, Any], effective_date: str) -> None:
    response = api.post(f"/workers/{worker['id']}/change-role", {"role": "MANAGER", "effective_date": effective_date})

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-effective-date"


def test_terminated_worker_cannot_change_role(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30"})

    response = api.post(f"/workers/{worker['id']}/change-role", {"role": "MANAGER", "effective_date": "2026-04-01"})

    assert response.status_code == 409
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-transition"


def test_transition_on_an_unknown_worker_is_404(api: Api) -> None:
    response = api.post("/workers/WRK-000404/terminate", {"termination_date": "2026-06-30"})

    assert response.status_code == 404


def test_termination_replayed_with_the_same_key_is_applied_once(api: Api, worker: dict[str, Any]) -> None:
    key = {"Idempotency-Key": f"terminate-{worker['id']}"}

    first = api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30"}, key)
    replay = api.post(f"/workers/{worker['id']}/terminate", {"termination_date": "2026-06-30"}, key)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert api.event_types() == ["hcm.worker.hired", "hcm.worker.terminated"]
