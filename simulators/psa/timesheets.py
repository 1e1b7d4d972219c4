"""Weekly timesheets: a resource's week of time entries in one request, one result per entry."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request
from simulators.common.errors import ApiProblem, business_error
from simulators.common.store import Record
from simulators.psa import lifecycle
from simulators.psa.time_entries import TIME, new_time_entry
from simulators.psa.values import day, find_referenced, shift

operations = Operations()


@operations("createTimesheet")
def create_timesheet(request: Request) -> Reply:
    """Create (and optionally submit) a week of time entries; a bad entry does not sink the others."""
    body = request.body
    resource = find_referenced(request.store, "resources", body["resource_id"], "resource_id")
    week_start = day(body["week_start"])
    week_end = shift(week_start, 6)
    if week_start.weekday() != 0 or week_end is None:
        raise business_error("invalid-week", "Week must start on a Monday",
                             f"week_start {week_start.isoformat()} is a {week_start.strftime('%A')}",
                             field="week_start")
    submit = body.get("submit", False)
    results: list[Record] = []
    for index, item in enumerate(body["entries"]):
        mark = len(request.events)
        try:
            with request.store.transaction():
                project = find_referenced(request.store, "projects", item["project_id"], "project_id")
                if not week_start <= day(item["date"]) <= week_end:
                    raise business_error("outside-week", "Date outside the week",
                                         f"{item['date']} is not in the week {week_start.isoformat()} to "
                                         f"{week_end.isoformat()}", field="date")
                entry = new_time_entry(request, resource, project, item)
                if submit:
                    entry = lifecycle.transition(request, TIME, entry, "submit", bookable=True)
            results.append({"index": index, "status": 201, "id": entry["id"]})
        except ApiProblem as problem:
            del request.events[mark:]
            results.append({"index": index, "status": problem.status, "problem": problem.to_dict()})
    return Reply(200, {"resource_id": resource["id"], "week_start": week_start.isoformat(),
                       "week_end": week_end.isoformat(), "submit": submit, "results": results})
