"""Routing details every mock shares: literal paths answer with their own methods only."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import MethodNotAllowed

from simulators.common.spec import ApiSpec


def _shadows(template: str, path: str) -> bool:
    """Tell whether the path template `template` (with {params}) would also match the literal `path`."""
    parts, literal = template.split("/"), path.split("/")
    return template != path and len(parts) == len(literal) and all(
        part == word or part.startswith("{") for part, word in zip(parts, literal, strict=True))


def refuse_shadowed_methods(app: Flask, spec: ApiSpec) -> None:
    """Answer a literal path (`/time-entries/bulk-approve`) with its own methods only.

    Flask would route PATCH /time-entries/bulk-approve to PATCH /time-entries/{time_entry_id} (a 400
    for a malformed id) and advertise that sibling's methods on OPTIONS; HTTP wants 405 and an
    `Allow` header naming exactly the literal path's methods.
    """
    declared: dict[str, set[str]] = {}
    for operation in spec.operations.values():
        declared.setdefault(operation.path, set()).add(operation.method)
    literal = {path: methods for path, methods in declared.items()
               if "{" not in path and any(_shadows(template, path) for template in declared)}

    @app.before_request
    def _literal_path_methods() -> Response | None:
        methods = literal.get(request.path)
        if methods is None or request.method in methods:
            return None
        allowed = [*sorted(methods), "OPTIONS"]
        if request.method == "OPTIONS":
            return Response(status=200, headers={"Allow": ", ".join(allowed)})
        raise MethodNotAllowed(valid_methods=allowed)
