"""Listings narrowed by project or resource return exactly what filtering every record would, in id order."""

from __future__ import annotations

from typing import Any

from tests.unit.psa.builders import Api, assign, create_project, upsert_resource


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_assignments_listed_by_project_resource_or_both(api: Api) -> None:
    first, second = create_project(api), create_project(api, crm_opportunity_id="OPP-000043", source_id="OPP-000043")
    amara, ben = upsert_resource(api), upsert_resource(api, "WRK-000008", name="Ben Carter")
    made = [assign(api, project["id"], resource["id"]) for resource in (amara, ben) for project in (first, second)]
    everything = api.get("/assignments?limit=100").json["items"]
    assert _ids(everything) == sorted(_ids(made))

    def listed(query: str) -> list[str]:
        return _ids(api.get(f"/assignments?limit=100&{query}").json["items"])

    assert listed(f"project_id={second['id']}") == [a["id"] for a in everything if a["project_id"] == second["id"]]
    assert listed(f"resource_id={ben['id']}") == [a["id"] for a in everything if a["resource_id"] == ben["id"]]
    assert listed(f"project_id={first['id']}&resource_id={ben['id']}") == [made[2]["id"]]
    assert listed("project_id=PRJ-999999") == []


def test_rate_cards_listed_by_project_keep_the_other_filters(api: Api) -> None:
    rates = [{"role": "SENIOR_CONSULTANT", "bill_rate": "170", "effective_from": "2026-01-01"}]
    project = create_project(api, rates=rates)
    create_project(api, rates=rates, crm_opportunity_id="OPP-000043", source_id="OPP-000043")

    def listed(query: str) -> list[str]:
        return _ids(api.get(f"/rate-cards?limit=100&{query}").json["items"])

    assert listed(f"project_id={project['id']}") == [project["rate_card_id"]]
    assert listed(f"project_id={project['id']}&currency=GBP&default=false") == [project["rate_card_id"]]
    assert listed(f"project_id={project['id']}&currency=USD") == []
    assert listed(f"project_id={project['id']}&default=true") == []


def test_milestones_and_tasks_listed_per_project(api: Api) -> None:
    first, second = create_project(api), create_project(api, crm_opportunity_id="OPP-000043", source_id="OPP-000043")
    for project in (first, second, first):
        response = api.post(f"/projects/{project['id']}/milestones", {
            "name": f"Milestone of {project['id']}", "amount": "1000.00", "currency": "GBP",
            "due_date": "2026-04-30", "requires_acceptance": False})
        assert response.status_code == 201, response.json
    milestones = api.get(f"/projects/{first['id']}/milestones").json["items"]
    tasks = api.get(f"/projects/{second['id']}/tasks?limit=100").json["items"]

    assert len(milestones) == 2 and {m["project_id"] for m in milestones} == {first["id"]}
    assert _ids(milestones) == sorted(_ids(milestones))
    assert tasks and {task["project_id"] for task in tasks} == {second["id"]}
    taken = api.post(f"/projects/{second['id']}/tasks", {"code": tasks[0]["code"], "name": "Again"})
    assert taken.status_code == 409
    elsewhere = api.post(f"/projects/{first['id']}/tasks", {"code": "9.9", "name": "New work"})
    assert elsewhere.status_code == 201, elsewhere.json
