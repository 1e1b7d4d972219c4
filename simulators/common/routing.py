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


class OperationRouter:
    """Find the operation a business request is for, without Flask's URL map, when that is unambiguous.

    `match` answers only where Werkzeug's routing would certainly pick the same operation: an ASCII
    path without empty segments that fits exactly one template of the method, and is not a literal
    path of the spec called with another method. Anything else (None) goes through Flask, which
    answers it exactly as before (405, 404, OPTIONS, HEAD, redirects).
    """

    def __init__(self, spec: ApiSpec) -> None:
        self._literal: dict[tuple[str, str], str] = {}
        self._literal_paths: set[str] = set()
        # (method, segment count, first segment or None for a parameter) -> [(slots, operationId)];
        # a slot is "=word" for a literal segment, the parameter's name otherwise
        self._templates: dict[tuple[str, int, str | None], list[tuple[tuple[str, ...], str]]] = {}
        for operation in spec.operations.values():
            if "{" not in operation.path:
                self._literal[(operation.method, operation.path)] = operation.operation_id
                self._literal_paths.add(operation.path)
                continue
            parts = operation.path.split("/")[1:]
            slots = tuple(part[1:-1] if part.startswith("{") else f"={part}" for part in parts)
            first = None if parts[0].startswith("{") else parts[0]
            self._templates.setdefault((operation.method, len(parts), first), []).append(
                (slots, operation.operation_id))
        # a literal first segment's candidates followed by those opening with a parameter, merged once
        for (method, count, first), templates in list(self._templates.items()):
            if first is not None:
                self._templates[(method, count, first)] = [*templates, *self._templates.get((method, count, None), ())]

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """Return the operationId and path parameters of a request, or None to leave it to Flask."""
        if path in self._literal_paths:
            found = self._literal.get((method, path))
            return (found, {}) if found else None
        if not path.isascii() or not path.startswith("/"):
            return None
        parts = path.split("/")[1:]
        if "" in parts:
            return None
        candidates = self._templates.get((method, len(parts), parts[0])) or self._templates.get(
            (method, len(parts), None), [])
        found_id: str | None = None
        view_args: dict[str, str] = {}
        for slots, operation_id in candidates:
            args = {}
            for slot, word in zip(slots, parts, strict=True):
                if slot[0] != "=":
                    args[slot] = word
                elif slot[1:] != word:
                    break
            else:
                if found_id is not None:
                    return None  # two templates fit: Werkzeug's rule weights decide, so Flask routes it
                found_id, view_args = operation_id, args
        return (found_id, view_args) if found_id else None
