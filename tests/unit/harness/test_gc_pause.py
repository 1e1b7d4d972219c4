"""The garbage collector's settings around a run: relaxed while it simulates, paused while it is checked."""

from __future__ import annotations

import gc

import pytest

from harness.gc_pause import GC_THRESHOLDS, gc_paused, gc_relaxed


def test_relaxed_sets_the_thresholds_and_puts_the_old_ones_back_even_on_error() -> None:
    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    with pytest.raises(RuntimeError), gc_relaxed():
        assert gc.get_threshold() == GC_THRESHOLDS
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == before


def test_paused_turns_the_collector_off_and_on_again_only_if_it_was_on() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
