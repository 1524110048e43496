"""Occasional chores of background loops: due at once, then at most once per period."""

from __future__ import annotations

import time

from shared.background import Every


def test_a_chore_is_due_on_its_first_call() -> None:
    assert Every(60.0).due()


def test_a_chore_done_is_not_due_again_within_its_period() -> None:
    chore = Every(60.0)
    chore.due()
    assert not chore.due()


def test_a_chore_is_due_again_once_its_period_has_passed() -> None:
    chore = Every(0.02)
    chore.due()
    time.sleep(0.03)
    assert chore.due()
    assert not chore.due()
