"""A serving process settles its heap: startup's objects frozen, young collections short,
old ones rare."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared.server import GC_THRESHOLDS, settle_heap


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settling_freezes_what_startup_made_out_of_the_collectors_reach(restored) -> None:
    made_at_startup = [[n] for n in range(100)]
    assert id(made_at_startup[0]) in {id(o) for o in gc.get_objects()}
    settle_heap()
    collected = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in collected for o in made_at_startup)
    assert gc.get_freeze_count() >= len(made_at_startup)


def test_settling_keeps_young_collections_short_and_old_ones_rare(restored) -> None:
    settle_heap()
    assert gc.get_threshold() == GC_THRESHOLDS
    young, middle, old = GC_THRESHOLDS
    assert young <= 2_000  # a young collection's pause grows with it
    assert middle > 10 and old > 10  # Python's defaults: 700, 10, 10
