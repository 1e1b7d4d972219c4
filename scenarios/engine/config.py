"""Scenario files: load, merge `extends` and defaults, validate with errors that name file and field."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

ENGINE_DIR = Path(__file__).resolve().parent
LIBRARY_DIR = ENGINE_DIR.parent / "library"
MAX_EXTENDS_DEPTH = 5
_OFFSET = re.compile(r"^(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?$")


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file, the field and what was expected."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario: its name, where it came from, and its merged parameters."""

    name: str
    description: str
    source: str
    seed: int
    start: date
    end: date
    params: dict[str, Any]

    @property
    def start_instant(self) -> datetime:
        """Return midnight UTC of the first day of the period."""
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def days(self) -> int:
        """Return the length of the period in days (both ends included)."""
        return (self.end - self.start).days + 1

    def section(self, name: str) -> dict[str, Any]:
        """Return one section of the parameters (firm, sales, delivery, ...)."""
        value: dict[str, Any] = self.params[name]
        return value


def library_names() -> list[str]:
    """Return the names of the library scenarios."""
    return sorted(path.stem for path in LIBRARY_DIR.glob("*.yaml") if not path.stem.startswith("_"))


def resolve(name_or_path: str) -> Path:
    """Return the file of a library name or a path, or raise naming what was looked for."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"{name_or_path}: no such scenario file")
        return path
    candidate = LIBRARY_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    raise ScenarioError(f"{name_or_path}: not a library scenario ({', '.join(library_names())}) nor a file")


def _plain(node: Any) -> Any:
    """Turn YAML dates into ISO strings so the schema sees what the user wrote."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, datetime):
        return node.isoformat().replace("+00:00", "Z")
    if isinstance(node, date):
        return node.isoformat()
    return node


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path}:{where}: not valid YAML ({getattr(error, 'problem', error)})") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot be read ({error})") from error
    if not isinstance(document, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario fields at the top level")
    plain: dict[str, Any] = _plain(document)
    return plain


@cache
def _defaults() -> dict[str, Any]:
    return _read(ENGINE_DIR / "defaults.yaml")


@cache
def _validator() -> Any:
    schema = yaml.safe_load((ENGINE_DIR / "scenario.schema.yaml").read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def _with_parents(path: Path, depth: int = 0) -> dict[str, Any]:
    document = _read(path)
    parent = document.get("extends")
    if parent is None:
        return document
    if depth >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{path}: extends: more than {MAX_EXTENDS_DEPTH} levels (a cycle?)")
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: expected the name of a library scenario or a path")
    if parent.endswith((".yaml", ".yml")):
        parent_path = path.parent / parent
        if not parent_path.is_file():
            raise ScenarioError(f"{path}: extends: no such file {parent_path}")
    else:
        try:
            parent_path = resolve(parent)
        except ScenarioError as error:
            raise ScenarioError(f"{path}: extends: {error}") from error
    merged: dict[str, Any] = _merge(_with_parents(parent_path, depth + 1), document)
    return merged


def parse_offset(text: str) -> timedelta:
    """Return the duration of an offset like `29d18h`, `6h` or `90m`."""
    match = _OFFSET.match(text)
    if not match or not text:
        raise ScenarioError(f"{text!r}: expected an offset like 29d18h")
    return timedelta(days=int(match["d"] or 0), hours=int(match["h"] or 0), minutes=int(match["m"] or 0))


def _check_semantics(path: Path, params: dict[str, Any]) -> None:
    start, end = date.fromisoformat(params["period"]["start"]), date.fromisoformat(params["period"]["end"])
    if end < start:
        raise ScenarioError(f"{path}: period.end: must not be before period.start ({start})")
    if (end - start).days > 3 * 366:
        raise ScenarioError(f"{path}: period: at most three years")
    mix = params["sales"]["pricing_mix"]
    if abs(sum(mix.values()) - 1) > 1e-6:
        total = sum(mix.values())
        raise ScenarioError(f"{path}: sales.pricing_mix: the shares must add up to 1 (they add up to {total})")
    terms = params["finance"].get("payment_terms_mix") or {"": 1}
    if abs(sum(terms.values()) - 1) > 1e-6:
        raise ScenarioError(f"{path}: finance.payment_terms_mix: the shares must add up to 1")
    countries = params["sales"]["customer_mix"]
    if abs(sum(countries.values()) - 1) > 1e-6:
        raise ScenarioError(f"{path}: sales.customer_mix: the shares must add up to 1")
    for name, size in params["sales"]["deal_size"].items():
        if size["min"] > size["max"]:
            raise ScenarioError(f"{path}: sales.deal_size.{name}: min must not exceed max")
    for entity in params["firm"]["legal_entities"]:
        if entity not in params["firm"]["cost_model"]["capacity_hours"]:
            raise ScenarioError(f"{path}: firm.cost_model.capacity_hours: missing {entity}")
    for fault in params["faults"]:
        if "T" not in fault["start"]:
            parse_offset(fault["start"])


def load(name_or_path: str) -> Scenario:
    """Load, merge and validate a scenario by library name or file path."""
    path = resolve(name_or_path)
    document = _with_parents(path)
    params: dict[str, Any] = _merge(copy.deepcopy(_defaults()), document)  # a caller may change its own
    params.pop("extends", None)
    return from_params(params, path)


def from_params(params: dict[str, Any], path: Path) -> Scenario:
    """Validate fully merged parameters (e.g. a run's scenario.resolved.json) into a Scenario."""
    errors = list(_validator().iter_errors(params))
    if errors:
        lines = []
        for error in errors[:5]:
            field = ".".join(str(part) for part in error.instance_path) or "(top level)"
            lines.append(f"{path}: {field}: {error.message}")
        raise ScenarioError("\n".join(lines))
    _check_semantics(path, params)
    return Scenario(
        name=params["name"],
        description=params["description"],
        source=str(path),
        seed=params["seed"],
        start=date.fromisoformat(params["period"]["start"]),
        end=date.fromisoformat(params["period"]["end"]),
        params=params,
    )
