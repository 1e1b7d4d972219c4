"""Who may book time and expenses where: the rules shared by time entries, timesheets and expenses."""

from __future__ import annotations

from datetime import date

from simulators.common.errors import business_error
from simulators.common.store import Record, Store
from simulators.psa.values import find_referenced


def assignment_on(store: Store, resource_id: str, project_id: str, on: date) -> Record | None:
    """Return the resource's assignment to the project covering a date (the oldest if several)."""
    wanted = on.isoformat()
    for assignment in store.where_equal("assignments", ("resource_id", "project_id"), (resource_id, project_id)):
        if assignment["start_date"] <= wanted <= assignment["end_date"]:
            return assignment
    return None


def check_task(store: Store, project: Record, task_id: str | None, field: str = "task_id") -> None:
    """Refuse a task that does not exist (404) or belongs to another project (422 `invalid-task`)."""
    if task_id is None:
        return
    task = find_referenced(store, "tasks", task_id, field)
    if task["project_id"] != project["id"]:
        raise business_error("invalid-task", "Task of another project",
                             f"task {task_id} belongs to project {task['project_id']}, not {project['id']}",
                             field=field)


def check_bookable(store: Store, resource: Record, project: Record, on: date, task_id: str | None) -> Record:
    """Return the assignment that lets a resource book to a project on a date, or refuse with 422 saying why."""
    if not resource["active"]:
        raise business_error("resource-inactive", "Resource inactive",
                             f"resource {resource['id']} is inactive in HCM", field="resource_id")
    if project["status"] != "ACTIVE":
        raise business_error("project-not-active", "Project not active",
                             f"project {project['id']} is {project['status']}; time and expenses are booked only "
                             "to ACTIVE projects", field="project_id")
    check_task(store, project, task_id)
    assignment = assignment_on(store, resource["id"], project["id"], on)
    if assignment is None:
        raise business_error("not-assigned", "Resource not assigned",
                             f"resource {resource['id']} is not assigned to project {project['id']} on "
                             f"{on.isoformat()}", field="date")
    return assignment
