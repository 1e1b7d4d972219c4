"""Turn recorded exchanges and events into Pact interactions, with matchers rather than literal values.

Answers and events carry matchers; a request carries the literal body the engine sent.

Strings are matched by what they are: record ids, dates, instants and decimal amounts by pattern,
codes (`APPROVED`, `FIXED_FEE`, `GBP`) exactly, since the engine maps and branches on them, and other
text by type. A problem's `type` is matched on its slug, which the engine sorts failures by.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pact import Pact, match

from simulators.common.spec import load_spec
from tests.contract.recorder import Exchange
from tests.contract.tracking import used_part

CONSUMER = "firmsim-syncengine"
ID = r"^[A-Z][A-Z0-9]{1,9}-[0-9]{6,}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
DECIMAL = r"^-?\d+(\.\d+)?$"
CODE = r"^[A-Z][A-Z0-9_]*$"
JSON_TYPE = r"^application/(problem\+)?json"


def _kind(value: str) -> str:
    for name, pattern in (("id", ID), ("date", DATE), ("instant", INSTANT), ("decimal", DECIMAL)):
        if re.match(pattern, value):
            return name
    return f"code:{value}" if re.match(CODE, value) else "text"


_PATTERNS = {"id": ID, "date": DATE, "instant": INSTANT, "decimal": DECIMAL}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, str):
        return _kind(value)
    return type(value).__name__


def matched(value: Any) -> Any:
    """Return a JSON value with a matcher on every leaf.

    An array is matched by type whatever its length, with its example items kept whole (Pact applies
    an item's own matchers to every item, so they are kept only when all items have the same shape).
    """
    if isinstance(value, dict):
        return {key: matched(item) for key, item in value.items()}
    if isinstance(value, list):
        uniform = all(_shape(item) == _shape(value[0]) for item in value)
        return match.like([matched(item) if uniform else item for item in value])
    if isinstance(value, bool):
        return match.bool(value)
    if isinstance(value, int):
        return match.int(value)
    if isinstance(value, float):
        return match.number(value)
    if isinstance(value, str):
        kind = _kind(value)
        if kind in _PATTERNS:
            return match.regex(value, regex=_PATTERNS[kind])
        return value if kind.startswith("code:") else match.like(value)
    return value


def problem_matched(problem: dict[str, Any]) -> Any:
    """Match a problem document: its type exactly on the slug, the rest like any other answer."""
    body = matched({key: item for key, item in problem.items() if key != "type"})
    if isinstance(problem.get("type"), str):
        slug = problem["type"].rstrip("/").rsplit("/", 1)[-1]
        body["type"] = match.regex(problem["type"], regex=rf"^.*/{re.escape(slug)}$")
    return body


def _template_regex(template: str) -> str:
    parts = re.split(r"(\{[^}/]+\})", template)
    return "^" + "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$"


@cache
def _operations(system: str) -> list[tuple[re.Pattern[str], str, str, str]]:
    return [(re.compile(_template_regex(operation.path)), operation.method, operation.operation_id, operation.path)
            for operation in load_spec(system).operations.values()]


def operation_of(system: str, method: str, path: str) -> tuple[str, str]:
    """Return the operationId and path template of a request in the system's spec."""
    for pattern, operation_method, operation_id, template in _operations(system):
        if operation_method == method and pattern.match(path):
            return operation_id, template
    raise LookupError(f"{method} {path} is not an operation of contracts/openapi/{system}.yaml")


def path_matcher(path: str, template: str) -> Any:
    """Match a path by its template: the ids in it may be any id."""
    if "{" not in template:
        return path
    return match.regex(path, regex=_template_regex(template))


def add_http_interaction(pact: Pact, exchange: Exchange, description: str, state: str) -> None:
    """Add one recorded exchange to a provider's pact."""
    _, template = operation_of(exchange.system, exchange.method, exchange.path)
    params: dict[str, Any] = {"seed": exchange.seed}
    if exchange.faults:
        params["faults"] = exchange.faults
    interaction = (pact.upon_receiving(description).given(state, **params)
                   .with_request(exchange.method, path_matcher(exchange.path, template)))
    for name, value in exchange.query:
        interaction.with_query_parameter(name, value)
    for name, value in exchange.headers.items():
        if name == "Content-Type":
            interaction.with_header(name, value)
        else:
            interaction.with_header(name, match.regex(value, regex=r"^\S+$"))
    if exchange.body is not None:
        # Literal: the engine's requests are deterministic, and several calls to one path (a deal's
        # milestones) are told apart only by their bodies.
        interaction.with_body(exchange.body, content_type="application/json")
    interaction.will_respond_with(exchange.status)
    response_type = exchange.response_headers.get("content-type")
    if response_type and exchange.response_body is not None:
        interaction.with_header("Content-Type", match.regex(response_type, regex=JSON_TYPE))
    for name in sorted(exchange.headers_read | {"retry-after"}):
        if name in exchange.response_headers and name != "content-type":
            value = exchange.response_headers[name]
            interaction.with_header(name.title(), match.regex(value, regex=r"^\d+$" if value.isdigit() else r"^.+$"))
    if exchange.response_body is not None:
        used = used_part(exchange.response_body)
        body = problem_matched(used) if exchange.status >= 400 and isinstance(used, dict) else matched(used)
        interaction.with_body(body, content_type=response_type or "application/json")


def add_message_interaction(pact: Pact, event: dict[str, Any], data_used: dict[str, Any], description: str,
                            state: str, seed: dict[str, Any], trigger: dict[str, Any]) -> None:
    """Add the event the engine consumes, with the envelope and the `data` fields it reads."""
    contents = {
        "specversion": "1.0",
        "id": match.like(event["id"]),
        "source": match.regex(event["source"], regex=r"^urn:firmsim:[a-z0-9-]+$"),
        "type": event["type"],
        "subject": match.like(event["subject"]),
        "time": match.regex(event["time"], regex=INSTANT),
        "sequence": match.int(event["sequence"]),
        "datacontenttype": "application/json",
        "data": matched(data_used),
    }
    (pact.upon_receiving(description, "Async").given(state, seed=seed, trigger=trigger)
     .with_body(contents, content_type="application/json"))
