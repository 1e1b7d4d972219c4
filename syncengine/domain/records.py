"""A quicker constructor for the frozen, slotted dataclasses the engine builds per message.

A frozen dataclass's `__init__` stores each field with `object.__setattr__(self, name, value)`, which
looks the slot up by name on every call; `quick_init` stores it with the slot's own descriptor
(`Class.field.__set__`), found once. Same arguments, defaults, default factories, `__post_init__`,
errors and frozen instances; ~40 % less time per object (an 8-field one: 1.4-1.7 us -> 0.9 us).
A worker builds about a dozen such objects per event (deliveries, source events, entries, tracking
records, cross-references, transactions): 4-8 % of its CPU in py-spy.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

T = TypeVar("T", bound=type)

def quick_init(cls: T) -> T:
    """Replace a frozen, slotted dataclass's `__init__` with one that sets each slot through its descriptor."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"quick_init: {cls.__qualname__} is not a frozen dataclass with slots (apply it above "
                        f"@dataclass(frozen=True, slots=True))")
    original = cls.__dict__["__init__"]
    fields = dataclasses.fields(cls)
    if list(inspect.signature(original).parameters)[1:] != [field.name for field in fields]:
        raise TypeError(f"quick_init: {cls.__qualname__}: only plain fields are supported (no InitVar, no init=False)")
    namespace: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    arguments, body = [], []
    for number, field in enumerate(fields):
        if field.kw_only:
            raise TypeError(f"quick_init: {cls.__qualname__}.{field.name}: keyword-only fields are not supported")
        setter = f"_set_{number}"
        namespace[setter] = getattr(cls, field.name).__set__
        if field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{number}"] = field.default_factory
            arguments.append(f"{field.name}=_MISSING")
            body.append(f"  {setter}(self, _factory_{number}() if {field.name} is _MISSING else {field.name})")
            continue
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{number}"] = field.default
            arguments.append(f"{field.name}=_default_{number}")
        else:
            arguments.append(field.name)
        body.append(f"  {setter}(self, {field.name})")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__(self, {', '.join(arguments)}):\n" + "\n".join(body or ["  pass"]) + "\n"
    exec(source, namespace)  # as `dataclasses` builds `__init__`: from field names only
    init = namespace["__init__"]
    init.__qualname__ = original.__qualname__
    init.__module__ = original.__module__
    init.__annotations__ = dict(original.__annotations__)
    init.__doc__ = original.__doc__
    type.__setattr__(cls, "__init__", init)
    return cls
