"""Skills: what a worker can do, each at a level from 1 (aware) to 5 (expert)."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.hcm.reference import conflict, find_worker

operations = Operations()


@operations("listWorkerSkills")
def list_worker_skills(request: Request) -> Reply:
    """Return a page of a worker's skills."""
    worker = find_worker(request.store, request.path["worker_id"])
    return request.page(request.store.where("skills", lambda skill: skill["worker_id"] == worker["id"]))


@operations("addWorkerSkill")
def add_worker_skill(request: Request) -> Reply:
    """Give a worker a skill they do not hold yet."""
    worker = find_worker(request.store, request.path["worker_id"])
    name = request.body["name"]
    held = request.store.first(
        "skills", lambda skill: skill["worker_id"] == worker["id"] and skill["name"].lower() == name.lower())
    if held is not None:
        raise conflict(f"Worker {worker['id']} already has {held['name']} ({held['id']}); update its level", "name")
    skill = request.store.insert("skills", {"worker_id": worker["id"], "name": name, "level": request.body["level"]})
    request.emit("hcm.skill.added", skill)
    return created(skill, f"/skills/{skill['id']}")


@operations("getSkill")
def get_skill(request: Request) -> Reply:
    """Return one skill."""
    return ok(request.store.get("skills", request.path["skill_id"]))


@operations("updateSkill")
def update_skill(request: Request) -> Reply:
    """Change a skill's level."""
    skill = request.store.get("skills", request.path["skill_id"])
    request.check_if_match(skill)
    skill = request.store.update("skills", skill["id"], {"level": request.body["level"]})
    request.emit("hcm.skill.updated", skill)
    return ok(skill)
