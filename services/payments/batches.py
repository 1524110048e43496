"""Tips posted in batches: the tips that arrive while one batch is in the database go
together in the next, in one round trip and one transaction (post_transfers(),
migration 0005).

A tip that finds nothing in flight goes at once, alone, so batching adds no wait at low
load; under load, a wallet that everyone tips at once is locked once per batch rather
than once per tip, with the batch's other accounts, in id order. Each tip keeps its own
outcome: one refused for funds is refused alone. If a batch fails as a whole (the
database gone, an error no tip should cause), its tips are posted again one by one, so
each gets its own answer and none another's error.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.payments import ledger, repository
from services.payments.ledger import Movement
from services.payments.repository import Key, Posting, Transfer
from shared.db import Database

# Under PostgreSQL's 64 cached subtransactions per transaction (one per tip).
MAX_BATCH = 32


@dataclass(frozen=True, slots=True)
class _Waiting:
    posting: Posting
    done: asyncio.Future[tuple[str, object]]


class TransferBatches:
    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max = max_batch
        self._waiting: list[_Waiting] = []
        self._draining: asyncio.Task[None] | None = None

    async def write(
        self, transfer: Transfer, movements: Sequence[Movement], key: Key | None = None
    ) -> uuid.UUID | None:
        """As ledger.write, in the next batch."""
        done: asyncio.Future[tuple[str, object]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(ledger.posting(transfer, movements, key), done))
        if self._draining is None:
            # A context of its own: the batch is no one caller's (logs, deadlines).
            self._draining = asyncio.create_task(self._drain(), context=contextvars.Context())
        outcome, result_id = await asyncio.shield(done)
        return ledger.result(outcome, result_id, transfer, key)

    async def close(self) -> None:
        """Wait for the tips already taken to be posted."""
        if self._draining is not None:
            await self._draining

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
                await self._post(batch)
        finally:
            self._draining = None

    async def _post(self, batch: list[_Waiting]) -> None:
        try:
            async with self._db.connection() as conn:
                posted = await repository.post_transfers(conn, [w.posting for w in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            for waiting in batch:
                await self._post([waiting])
            return
        for waiting, row in zip(batch, posted, strict=True):
            waiting.done.set_result((row.outcome, row.result_id))
