"""Tips posted in batches: the tips that arrive while one batch is in the database go
together in the next (shared.batching), in one round trip and one transaction
(post_transfers(), migration 0005).

Under load, a wallet that everyone tips at once is locked once per batch rather than
once per tip, with the batch's other accounts, in id order. Each tip keeps its own
outcome: one refused for funds is refused alone. If a batch fails as a whole (the
database gone, an error no tip should cause), its tips are posted again one by one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.payments import ledger, repository
from services.payments.ledger import Movement
from services.payments.repository import Key, Posting, Record, Transfer
from shared.batching import Batcher
from shared.db import Database

# Under PostgreSQL's 64 cached subtransactions per transaction (one per tip).
MAX_BATCH = 32


class TransferBatches:
    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._batcher: Batcher[Posting, Record] = Batcher(
            self._post, max_batch=max_batch, split=True
        )

    async def write(
        self, transfer: Transfer, movements: Sequence[Movement], key: Key | None = None
    ) -> uuid.UUID | None:
        """As ledger.write, in the next batch."""
        posted = await self._batcher.submit(ledger.posting(transfer, movements, key))
        return ledger.result(posted.outcome, posted.result_id, transfer, key)

    async def close(self) -> None:
        await self._batcher.close()

    async def _post(self, postings: Sequence[Posting]) -> list[Record]:
        async with self._db.connection() as conn:
            return await repository.post_transfers(conn, postings)
