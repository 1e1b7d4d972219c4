"""`quick_init`: the engine's frozen records are built as `dataclass` builds them, only quicker."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from dataclasses import InitVar, dataclass, field

import pytest

from syncengine.domain.messages import SourceEvent
from syncengine.domain.records import quick_init
from syncengine.domain.work import BillableTransaction, Expense, TimeEntry, Valuation
from syncengine.ledger.records import Tracking, XrefEntry
from syncengine.mapping.erp_billing import ItemResult
from syncengine.runtime.registry import Delivery
from syncengine.runtime.worker import _Entry

QUICK = [SourceEvent, Valuation, TimeEntry, Expense, BillableTransaction, Tracking, XrefEntry, ItemResult, Delivery,
         _Entry]
counter = itertools.count()


def _plain_copy(cls: type) -> type:
    """Return the class as `dataclass` alone builds it (same fields, defaults and factories)."""
    fields = [(f.name, f.type, field(default=f.default, default_factory=f.default_factory))
              for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True, slots=True)


def _has_factory(cls: type, name: str) -> bool:
    return any(f.name == name and f.default_factory is not dataclasses.MISSING for f in dataclasses.fields(cls))


@quick_init
@dataclass(frozen=True, slots=True)
class Posting:
    reference: str
    amount: int
    note: str | None = None
    number: int = field(default_factory=lambda: next(counter))


@pytest.mark.parametrize("cls", QUICK, ids=lambda cls: cls.__name__)
def test_an_engine_record_takes_the_arguments_dataclass_gives_it(cls: type) -> None:
    quick = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    plain = inspect.signature(_plain_copy(cls).__init__).parameters  # type: ignore[misc]
    assert [(p.name, p.kind) for p in quick.values()] == [(p.name, p.kind) for p in plain.values()]
    assert {name: p.default for name, p in quick.items() if not _has_factory(cls, name)} == {
        name: p.default for name, p in plain.items() if not _has_factory(cls, name)}
    values = {f.name: object() for f in dataclasses.fields(cls)}
    record = cls(**values)
    assert all(getattr(record, name) is value for name, value in values.items())
    assert record == cls(*values.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, dataclasses.fields(cls)[0].name, "changed")


def test_defaults_and_factories_apply_as_dataclass_applies_them() -> None:
    first, second = Posting("BT-1", 5), Posting("BT-2", 6, "late", number=99)
    assert (first.note, second.note, second.number) == (None, "late", 99)
    assert Posting("BT-3", 7).number == first.number + 1  # the factory runs per object
    assert dataclasses.replace(first, amount=9) == Posting("BT-1", 9, None, first.number)
    assert repr(second) == "Posting(reference='BT-2', amount=6, note='late', number=99)"


def test_wrong_arguments_are_refused_in_dataclass_words() -> None:
    with pytest.raises(TypeError, match=r"Posting.__init__\(\) missing 1 required positional argument: 'amount'"):
        Posting("BT-1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'amunt'"):
        Posting("BT-1", amunt=5)  # type: ignore[call-arg]


def test_post_init_runs_after_the_fields_are_set() -> None:
    seen = []

    @quick_init
    @dataclass(frozen=True, slots=True)
    class Checked:
        amount: int

        def __post_init__(self) -> None:
            seen.append(self.amount)

    Checked(3)
    assert seen == [3]


def test_what_it_cannot_build_as_dataclass_would_is_refused_at_once() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        amount: int

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        amount: int
        scale: InitVar[int] = 1

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        amount: int

    for cls in (NoSlots, WithInitVar, KeywordOnly):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)
