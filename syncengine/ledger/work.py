"""Units of work: a block of ledger writes that commits together or not at all, per thread.

Units of work nest: an inner one joins the outer, which alone commits. Every public write outside
a unit of work runs in its own (`standalone`), which an adapter may re-run when it surely failed.
"""

from __future__ import annotations

import abc
import functools
import inspect
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
U = TypeVar("U", bound="UnitsOfWork")


def standalone(method: Callable[Concatenate[U, P], R]) -> Callable[Concatenate[U, P], R]:
    """Let the adapter retry a public operation when it is its own unit of work (see `_retry_standalone`)."""

    def run(self: U, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # outside a unit of work (`in_unit_of_work`, inlined: called per read), on an adapter that re-runs one
        if self._retries_standalone and not getattr(self._local, "depth", 0):
            return self._retry_standalone(lambda: method(self, *args, **kwargs))
        return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)
    run._standalone_of = method  # type: ignore[attr-defined]
    return run


_JOINED: AbstractContextManager[None] = nullcontext()
"""An inner unit of work: it joins the open one."""


class UnitsOfWork(abc.ABC):
    """Begin, commit and roll back a ledger's units of work, nested per thread."""

    _retries_standalone: ClassVar[bool] = False
    """Whether the adapter overrides `_retry_standalone` (set per class: `standalone` asks it per call)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._retries_standalone = cls._retry_standalone is not UnitsOfWork._retry_standalone
        # An adapter that never re-runs a standalone operation calls its operations directly, without the
        # `standalone` wrapper's extra call per ledger read (one that does keeps, or gets back, the wrapper).
        for name in dir(cls):
            value = inspect.getattr_static(cls, name)
            wrapper = getattr(value, "_standalone_wrapper", value)
            method = getattr(wrapper, "_standalone_of", None)
            if method is not None:
                method._standalone_wrapper = wrapper
                setattr(cls, name, wrapper if cls._retries_standalone else method)

    def __init__(self) -> None:
        self._lock: AbstractContextManager[Any] = threading.RLock()
        self._local = threading.local()

    @property
    def _depth(self) -> int:
        depth: int = getattr(self._local, "depth", 0)
        return depth

    @_depth.setter
    def _depth(self, depth: int) -> None:
        self._local.depth = depth

    def _retry_standalone(self, operation: Callable[[], R]) -> R:
        """Run an operation that is its own unit of work; an adapter may re-run it when it surely failed."""
        return operation()

    # -- units of work ---------------------------------------------------------------------------

    def unit_of_work(self) -> AbstractContextManager[None]:
        """Run a block whose ledger writes commit together when it ends, or roll back if it raises.

        Inside one already open on this thread it joins it: nothing to do, since the outer one holds the
        lock and alone commits or rolls back (what a raise through the inner block leads to)."""
        if getattr(self._local, "depth", 0):
            return _JOINED
        return _Outermost(self)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the open unit of work has committed (never if it rolls back); at once outside one.

        For what may be kept in memory only once it is surely in the ledger (see `flows.time_expense_billing`'s
        contract lookups)."""
        if not self.in_unit_of_work:
            callback()
            return
        pending: list[Callable[[], None]] | None = getattr(self._local, "after_commit", None)
        if pending is None:
            pending = self._local.after_commit = []
        pending.append(callback)

    def unit_memo(self) -> dict[str, Any]:
        """Return what the open unit of work keeps of its own reads, until it commits or rolls back (outside
        one, a new dict each time: nothing is kept). For a lookup each message of a batch would make again."""
        if not self.in_unit_of_work:
            return {}
        memo: dict[str, Any] | None = getattr(self._local, "memo", None)
        if memo is None:
            memo = self._local.memo = {}
        return memo

    def _run_after_commit(self) -> None:
        pending: list[Callable[[], None]] | None = getattr(self._local, "after_commit", None)
        self._local.after_commit = None
        for callback in pending or ():
            callback()

    @property
    def in_unit_of_work(self) -> bool:
        """Tell whether a unit of work is open."""
        return self._depth > 0

    @abc.abstractmethod
    def _begin(self) -> None: ...

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def _rollback(self) -> None: ...


class _Outermost(AbstractContextManager[None]):
    """The outermost unit of work of a thread: holds the ledger's lock, begins, then commits or rolls back.

    A class rather than a generator (`contextlib.contextmanager`): a unit of work is opened per
    message batch and per standalone write, and a generator's context manager costs twice the calls."""

    __slots__ = ("_units",)

    def __init__(self, units: UnitsOfWork) -> None:
        self._units = units

    def __enter__(self) -> None:
        units = self._units
        units._lock.__enter__()
        try:
            units._local.memo = None
            units._begin()
            units._local.depth = 1
        except BaseException:
            units._lock.__exit__(None, None, None)
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        units, local = self._units, self._units._local
        try:
            local.depth = 0
            if kind is not None:
                local.after_commit = local.memo = None
                units._rollback()
                return
            try:
                units._commit()
            except BaseException:
                local.after_commit = local.memo = None
                raise
            local.memo = None
            units._run_after_commit()
        finally:
            units._lock.__exit__(None, None, None)
