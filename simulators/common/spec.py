"""Load a system's OpenAPI spec, bundle the shared components, and compile its validators once."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from contracts import OPENAPI_DIR

COMMON_FILE = "_common.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: several times faster
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")
KNOWN_VALID_LIMIT = 4096
"""Valid values a parameter remembers before it forgets them all and starts again."""


def _bundle_refs(node: Any) -> Any:
    """Rewrite `_common.yaml#/components/...` references into local ones."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(COMMON_FILE + "#"):
                out[key] = value[len(COMMON_FILE):]
            else:
                out[key] = _bundle_refs(value)
        return out
    if isinstance(node, list):
        return [_bundle_refs(item) for item in node]
    return node


def _pointer(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def bundle(spec_path: Path) -> dict[str, Any]:
    """Return the spec at `spec_path` as one self-contained document."""
    spec: dict[str, Any] = yaml.load(spec_path.read_text(encoding="utf-8"), Loader=_LOADER)
    common = yaml.load((OPENAPI_DIR / COMMON_FILE).read_text(encoding="utf-8"), Loader=_LOADER)
    paths = {}
    for path, item in spec.get("paths", {}).items():
        ref = item.get("$ref") if isinstance(item, dict) else None
        if isinstance(ref, str) and ref.startswith(COMMON_FILE + "#"):
            item = copy.deepcopy(_pointer(common, ref[len(COMMON_FILE):]))
        paths[path] = item
    spec["paths"] = paths
    spec = dict(_bundle_refs(spec))
    components = spec.setdefault("components", {})
    for section, entries in common.get("components", {}).items():
        merged = dict(copy.deepcopy(entries))
        for name, entry in components.get(section, {}).items():
            if entry == {"$ref": f"#/components/{section}/{name}"}:
                continue  # the system spec re-exports the shared component under its own name
            if name in entries:
                raise ValueError(f"{spec_path.name}: components.{section}.{name} collides with {COMMON_FILE}; "
                                 f"rename it")
            merged[name] = entry
        components[section] = merged
    return spec


@dataclass(frozen=True, slots=True)
class Parameter:
    """One path, query or header parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: Any
    json_type: str = field(init=False)
    """The parameter's JSON type (for coercing strings from the URL), read on every request."""
    known_valid: set[Any] = field(init=False, compare=False, repr=False)
    """Path and query values the validator has passed (a tuple for an array), so a value seen again
    (an id read again, the engine's same list of event types on every feed read) is not validated again;
    see `passes`."""

    def __post_init__(self) -> None:
        kind = self.schema.get("type", "string")
        object.__setattr__(self, "json_type", kind if isinstance(kind, str) else "string")
        object.__setattr__(self, "known_valid", set())

    def passes(self, value: Any) -> bool:
        """Tell whether a path or query value (coerced) is valid, remembering the values that are."""
        key = tuple(value) if self.json_type == "array" else value
        known = self.known_valid
        if key in known:
            return True
        if not self.validator.is_valid(value):
            return False
        if len(known) >= KNOWN_VALID_LIMIT:
            known.clear()  # start afresh rather than grow without bound (ids are many)
        known.add(key)
        return True


@dataclass(slots=True)
class Operation:
    """One operation of the spec with its compiled validators."""

    operation_id: str
    method: str
    path: str
    rule: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    body_validator: Any | None
    body_required: bool
    owned_elsewhere: dict[str, str]
    sync_endpoint: bool
    responses: dict[str, Any] = field(default_factory=dict)
    response_schemas: dict[str, Any] = field(default_factory=dict)
    response_validators: dict[str, Any] = field(default_factory=dict)
    query_names: frozenset[str] = frozenset()


class ApiSpec:
    """A bundled spec and its operations, compiled once per process."""

    def __init__(self, system_kind: str, document: dict[str, Any]) -> None:
        self.system_kind = system_kind
        self.document = document
        self.json = json.dumps(document, separators=(",", ":"), sort_keys=True)
        self.operations: dict[str, Operation] = {}
        for path, item in document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in _HTTP_METHODS:
                if method in item:
                    operation = self._compile(path, method, item[method], shared)
                    if operation.operation_id in self.operations:
                        raise ValueError(f"duplicate operationId {operation.operation_id}")
                    self.operations[operation.operation_id] = operation

    def _validator(self, schema: dict[str, Any]) -> Any:
        root = dict(schema)
        root["components"] = self._reachable_components(schema)
        return jsonschema_rs.validator_for(root, validate_formats=True)

    def _reachable_components(self, schema: Any) -> dict[str, Any]:
        """Return the components a schema reaches through its `$ref`s, transitively (all of them when one
        points elsewhere).

        The validator compiles the same schema either way, but handing jsonschema_rs every component
        for every parameter and body made compiling a spec's validators take seconds.
        """
        components = self.document.get("components", {})
        reached: dict[str, Any] = {}
        pending = [schema]
        while pending:
            node = pending.pop()
            if isinstance(node, list):
                pending.extend(node)
            elif isinstance(node, dict):
                for key, value in node.items():
                    if key != "$ref" or not isinstance(value, str):
                        pending.append(value)
                        continue
                    parts = value.split("/")
                    if len(parts) < 4 or parts[:2] != ["#", "components"] or "~" in value:
                        return dict(components)
                    section, name = parts[2], parts[3]
                    if name not in reached.setdefault(section, {}):
                        entry = components.get(section, {}).get(name)
                        if entry is None:
                            return dict(components)  # let the validator report the dangling reference
                        reached[section][name] = entry
                        pending.append(entry)
        return reached

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (one level at a time, until a non-reference)."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = _pointer(self.document, node["$ref"])
        return node

    def _compile(self, path: str, method: str, spec: dict[str, Any], shared: list[Any]) -> Operation:
        operation_id = spec.get("operationId")
        if not operation_id:
            raise ValueError(f"{method.upper()} {path} has no operationId")
        parameters = []
        for raw in [*shared, *spec.get("parameters", [])]:
            param = self.resolve(raw)
            schema = self.resolve(param.get("schema", {}))
            parameters.append(
                Parameter(
                    name=param["name"],
                    location=param["in"],
                    required=bool(param.get("required", param["in"] == "path")),
                    schema=schema,
                    validator=self._validator(param.get("schema", {})),
                )
            )
        body_validator = None
        body_required = False
        owned: dict[str, str] = {}
        request_body = self.resolve(spec.get("requestBody"))
        if request_body:
            body_required = bool(request_body.get("required", False))
            media = request_body.get("content", {}).get("application/json")
            if media is not None and "schema" in media:
                body_validator = self._validator(media["schema"])
                body_schema = self.resolve(media["schema"])
                for name, prop in body_schema.get("properties", {}).items():
                    if not isinstance(prop, dict):
                        continue
                    owner = prop.get("x-owned-by") or self.resolve(prop).get("x-owned-by")
                    if owner and owner != self.system_kind:
                        owned[name] = owner
        responses = spec.get("responses", {})
        schemas = {}  # compiled on first use: only runs that validate responses need them
        for status, response in responses.items():
            response = self.resolve(response)
            for media_type, media in (response.get("content") or {}).items():
                if "schema" in media:
                    schemas[f"{status} {media_type}"] = media["schema"]
        return Operation(
            operation_id=operation_id,
            method=method.upper(),
            path=path,
            rule=re.sub(r"\{([A-Za-z0-9_]+)\}", r"<\1>", path),
            tags=tuple(spec.get("tags", [])),
            parameters=tuple(parameters),
            body_validator=body_validator,
            body_required=body_required,
            owned_elsewhere=owned,
            sync_endpoint=bool(spec.get("x-sync-endpoint", False)),
            responses=responses,
            response_schemas=schemas,
            query_names=frozenset(param.name for param in parameters if param.location == "query"),
        )

    def response_errors(self, operation: Operation, status: int, content_type: str, body: Any) -> list[str]:
        """Return what is wrong with a response against the spec (empty when it conforms)."""
        declared = str(status) if str(status) in operation.responses else "default"
        if declared not in operation.responses:
            return [f"status {status} not declared for {operation.operation_id}"]
        media_type = content_type.split(";", maxsplit=1)[0].strip()
        content = self.resolve(operation.responses[declared]).get("content") or {}
        if not content:
            return []
        if media_type not in content:
            return [f"content type {media_type} not declared for {operation.operation_id} {status}"]
        key = f"{declared} {media_type}"
        if key not in operation.response_schemas:
            return []
        validator = operation.response_validators.get(key)
        if validator is None:
            validator = operation.response_validators[key] = self._validator(operation.response_schemas[key])
        return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(body)]


@cache
def load_spec(system_kind: str) -> ApiSpec:
    """Return the compiled spec of `crm`, `psa`, `hcm` or `erp`."""
    return ApiSpec(system_kind, bundle(OPENAPI_DIR / f"{system_kind}.yaml"))
