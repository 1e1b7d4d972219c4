"""Skills: one per name per worker, each at a level from 1 to 5."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.unit.hcm.conftest import Api


def test_added_skill_is_readable_listed_and_announced(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/skills", {"name": "Data Engineering", "level": 4})

    skill = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"/skills/{skill['id']}"
    assert (skill["worker_id"], skill["name"], skill["level"]) == (worker["id"], "Data Engineering", 4)
    assert api.get(f"/skills/{skill['id']}").get_json() == skill
    assert api.get(f"/workers/{worker['id']}/skills").get_json()["items"] == [skill]
    assert api.events()[-1]["type"] == "hcm.skill.added"
    assert api.events()[-1]["data"] == skill


def test_same_skill_twice_is_a_conflict_whatever_its_case(api: Api, worker: dict[str, Any]) -> None:
    api.post(f"/workers/{worker['id']}/skills", {"name": "Data Engineering", "level": 4})

    response = api.post(f"/workers/{worker['id']}/skills", {"name": "data engineering", "level": 2})

    assert response.status_code == 409
    assert len(api.get(f"/workers/{worker['id']}/skills").get_json()["items"]) == 1


def test_skill_level_outside_one_to_five_is_refused(api: Api, worker: dict[str, Any]) -> None:
    response = api.post(f"/workers/{worker['id']}/skills", {"name": "Machine Learning", "level": 6})

    assert response.status_code == 400
    assert response.get_json()["field"] == "body/level"


def test_skill_of_an_unknown_worker_is_404(api: Api) -> None:
    assert api.post("/workers/WRK-000404/skills", {"name": "Machine Learning", "level": 3}).status_code == 404
    assert api.get("/workers/WRK-000404/skills").status_code == 404


def test_level_change_needs_a_current_etag_and_emits_updated(api: Api, worker: dict[str, Any]) -> None:
    skill = api.post(f"/workers/{worker['id']}/skills", {"name": "Process Mining", "level": 2}).get_json()

    first = api.patch(f"/skills/{skill['id']}", {"level": 3}, {"If-Match": '"1"'})
    stale = api.patch(f"/skills/{skill['id']}", {"level": 5}, {"If-Match": '"1"'})

    assert (first.status_code, first.get_json()["level"]) == (200, 3)
    assert stale.status_code == 412
    assert api.get(f"/skills/{skill['id']}").get_json()["level"] == 3
    assert api.event_types("hcm.skill.") == ["hcm.skill.added", "hcm.skill.updated"]


def test_workers_can_be_found_by_skill(api: Api, hire: Callable[..., dict[str, Any]]) -> None:
    oliver = hire()
    lena = hire(email="lena.hoffmann@firmsim.example", legal_entity="DE01")
    api.post(f"/workers/{oliver['id']}/skills", {"name": "Cloud Architecture", "level": 3})
    api.post(f"/workers/{lena['id']}/skills", {"name": "Supply Chain", "level": 5})

    found = api.get("/workers?skill=cloud%20architecture").get_json()["items"]

    assert [worker["id"] for worker in found] == [oliver["id"]]
