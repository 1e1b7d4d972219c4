"""The garbage collector around a run: paused while it simulates and is checked, what it kept promoted after."""

from __future__ import annotations

import gc

import pytest

from harness.gc_pause import gc_paused


def test_paused_turns_the_collector_off_and_on_again_only_if_it_was_on() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("the run failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_block_kept_is_in_the_oldest_generation_and_the_young_count_is_zero() -> None:
    with gc_paused():
        kept = [[number] for number in range(1000)]  # lists: always tracked (a dict of ints is not)
    assert gc.get_count()[0] < 100
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    assert id(kept) in oldest and all(id(item) in oldest for item in kept)
    assert not {id(item) for item in gc.get_objects(generation=0)} & {id(item) for item in kept}


def test_nothing_is_promoted_or_unfrozen_while_something_else_keeps_objects_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            young = [[number] for number in range(10)]
        # not unfrozen (0), nothing frozen since (more); another thread (an xdist worker's) may free a frozen object
        assert 0 < gc.get_freeze_count() <= frozen
        assert not {id(item) for item in gc.get_objects(generation=2)} & {id(item) for item in young}
    finally:
        gc.unfreeze()
