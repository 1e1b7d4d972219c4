"""Project templates, one per practice (seeded, read-only)."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request, ok

operations = Operations()


@operations("listProjectTemplates")
def list_project_templates(request: Request) -> Reply:
    """List templates, optionally of one practice."""
    practice = request.query.get("practice")
    return request.page(request.store.where(
        "templates", lambda template: practice is None or template["practice"] == practice))


@operations("getProjectTemplate")
def get_project_template(request: Request) -> Reply:
    """Read one template."""
    return ok(request.store.get("templates", request.path["template_id"]))
