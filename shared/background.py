"""A background loop stopped between its steps rather than in the middle of one.

Cancelling a task in the middle of a Redis command can leave redis-py's connection
waiting for a reply that never comes (the cancellation is swallowed by its read timeout),
so `close()` asks the loop to stop and waits for the step in hand to end; only a step
that outlasts `stop_seconds` is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time


class BackgroundLoop:
    def __init__(self, stop_seconds: float) -> None:
        self._stop_seconds = stop_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=self._stop_seconds)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _run(self) -> None:
        raise NotImplementedError


class Every:
    """A loop's occasional chore (pruning, a gauge, tending): `due()` is true on its first
    call and then at most once per `seconds`."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._last = -math.inf

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last < self._seconds:
            return False
        self._last = now
        return True
