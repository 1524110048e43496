"""Natural batching: the calls that arrive while one batch is out go together in the next.

A call that finds nothing in flight goes at once, alone, so a quiet service waits for
nothing; under load, one round trip serves many calls, and the batch grows with the
load instead of with a timer. Each call gets its own answer. When a batch fails as a
whole, `split` decides: its calls are sent again one by one (so each gets its own
answer, and none another's error), or all get the batch's error.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Waiting(Generic[T, R]):
    item: T
    done: asyncio.Future[R]


class Batcher(Generic[T, R]):
    def __init__(
        self,
        send: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int,
        split: bool,
    ) -> None:
        """`send` answers a batch in its order, one answer per item."""
        self._send = send
        self._max = max_batch
        self._split = split
        self._waiting: list[_Waiting[T, R]] = []
        self._draining: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(item, done))
        if self._draining is None:
            # A context of its own: a batch is no one caller's (logs, deadlines).
            self._draining = asyncio.create_task(self._drain(), context=contextvars.Context())
        return await asyncio.shield(done)

    async def close(self) -> None:
        """Wait for the calls already taken to be answered."""
        if self._draining is not None:
            await self._draining

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
                await self._answer(batch)
        finally:
            self._draining = None

    async def _answer(self, batch: list[_Waiting[T, R]]) -> None:
        try:
            answers = await self._send([w.item for w in batch])
        except Exception as exc:
            if self._split and len(batch) > 1:
                for waiting in batch:
                    await self._answer([waiting])
                return
            for waiting in batch:
                waiting.done.set_exception(exc)
                waiting.done.exception()  # retrieved: its caller may have gone
            return
        for waiting, answer in zip(batch, answers, strict=True):
            waiting.done.set_result(answer)
