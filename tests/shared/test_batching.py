"""Natural batching: alone when nothing is in flight, together while a batch is out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from shared.batching import Batcher


class Doubler:
    """Answers each item doubled, one batch at a time; holds each batch until released."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on
        self.release = asyncio.Event()
        self.release.set()

    async def send(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.fail_on in items:
            raise ValueError(f"cannot take {self.fail_on}")
        return [2 * i for i in items]


async def test_a_lone_call_is_sent_at_once_by_itself() -> None:
    doubler = Doubler()
    batcher = Batcher(doubler.send, max_batch=10, split=False)
    assert await batcher.submit(4) == 8
    assert doubler.batches == [[4]]


async def test_calls_arriving_while_a_batch_is_out_go_together_in_the_next() -> None:
    doubler = Doubler()
    doubler.release.clear()
    batcher = Batcher(doubler.send, max_batch=10, split=False)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    later = [asyncio.create_task(batcher.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    doubler.release.set()

    assert await first == 2
    assert [await t for t in later] == [4, 6, 8]
    assert doubler.batches == [[1], [2, 3, 4]]


async def test_a_batch_holds_at_most_max_batch_calls() -> None:
    doubler = Doubler()
    batcher = Batcher(doubler.send, max_batch=2, split=False)
    answers = await asyncio.gather(*(batcher.submit(n) for n in range(5)))
    assert answers == [0, 2, 4, 6, 8]
    assert doubler.batches == [[0, 1], [2, 3], [4]]


async def test_with_split_a_failed_batch_is_sent_again_call_by_call() -> None:
    doubler = Doubler(fail_on=2)
    batcher = Batcher(doubler.send, max_batch=10, split=True)
    answers = await asyncio.gather(*(batcher.submit(n) for n in (1, 2, 3)), return_exceptions=True)
    assert answers[0] == 2 and answers[2] == 6
    assert isinstance(answers[1], ValueError)
    assert doubler.batches == [[1, 2, 3], [1], [2], [3]]


async def test_without_split_every_call_of_a_failed_batch_gets_its_error() -> None:
    doubler = Doubler(fail_on=2)
    batcher = Batcher(doubler.send, max_batch=10, split=False)
    answers = await asyncio.gather(*(batcher.submit(n) for n in (1, 2, 3)), return_exceptions=True)
    assert all(isinstance(a, ValueError) for a in answers)
    assert doubler.batches == [[1, 2, 3]]


async def test_a_caller_that_gives_up_leaves_the_others_answered() -> None:
    doubler = Doubler()
    doubler.release.clear()
    batcher = Batcher(doubler.send, max_batch=10, split=False)
    impatient = asyncio.create_task(batcher.submit(1))
    patient = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    impatient.cancel()
    doubler.release.set()

    assert await patient == 4
    with pytest.raises(asyncio.CancelledError):
        await impatient
    await batcher.close()
