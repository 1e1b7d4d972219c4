"""WBS tasks of a project."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, created, ok
from simulators.common.errors import ApiProblem
from simulators.psa.staffing import check_task
from simulators.psa.values import money

operations = Operations()


@operations("listProjectTasks")
def list_project_tasks(request: Request) -> Reply:
    """List a project's tasks."""
    project = request.store.get("projects", request.path["project_id"])
    return request.page(request.store.where_equal("tasks", "project_id", project["id"]))


@operations("createProjectTask")
def create_project_task(request: Request) -> Reply:
    """Add a task to a project's WBS (its code unique in the project)."""
    store = request.store
    project = store.get("projects", request.path["project_id"])
    body = request.body
    parent_id = body.get("parent_task_id")
    check_task(store, project, parent_id, "parent_task_id")
    if store.where_equal("tasks", ("project_id", "code"), (project["id"], body["code"])):
        raise ApiProblem(409, "conflict", "WBS code taken",
                         f"project {project['id']} already has a task {body['code']}", field="code")
    planned = body.get("planned_hours")
    task = store.insert("tasks", {"project_id": project["id"], "code": body["code"], "name": body["name"],
                                  "parent_task_id": parent_id, "billable": body.get("billable", True),
                                  "planned_hours": money(planned) if planned is not None else None})
    request.emit("psa.task.created", task)
    return created(task, f"/tasks/{task['id']}")


@operations("getTask")
def get_task(request: Request) -> Reply:
    """Read one task."""
    return ok(request.store.get("tasks", request.path["task_id"]))
