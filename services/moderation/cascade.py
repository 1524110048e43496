"""A deleted account leaves nothing of its own readable in moderation; what moderation
decided and why is kept, naming a pseudonym instead of the account.

- Claims it holds are released, so its subjects go back to the queue at once.
- Subjects about it or its content are closed (the target is gone, nothing is left to
  decide) with their open reports resolved without a decision; they, and the decisions
  about it, name the pseudonym as owner (and as target, for a reported account). An
  effect of such a decision still pending finds its target gone and is done.
- Its appeals are deleted: one still pending has nobody left to answer it, and a resolved
  one's outcome is in its decision's state.
- Its reports are relabelled with the pseudonym and lose the comment it wrote, rather
  than deleted: every subject keeps exactly the reports, distinct reporters, worst reason
  and due time it had (the pseudonym is one distinct reporter, as the account was), the
  queue keeps the others' content that was reported, and nothing of the subject needs
  recomputing. Deleting them would rewrite or empty subjects that are about someone else.
- Notes, decisions, overturned appeals and effects of its own as a moderator keep their
  text and outcome under the pseudonym: they are the record of work on others' cases.

The pseudonym is one per account (a random UUID no caller holds; user ids are UUIDv7),
kept in `erasures` only while the cascade runs so a re-delivery resumes with it, and
deleted in the consumer's transaction that records the event: afterwards nothing in
moderation's tables links the two. The audit log is not touched: it is append-only and
hash-chained (its triggers refuse UPDATE and DELETE, and a changed entry would break the
chain), so its entries keep the account's id as actor or target, for admins only.

An account may have many rows, so each step runs in batches of `BATCH`, each a short
transaction of its own that changes only rows still naming the account: a batch is
idempotent and a re-delivery after a crash resumes where the last committed one stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from services.moderation import repository_cascade as steps
from services.moderation.deps import Deps, now
from services.moderation.repository_cascade import Erasure
from shared.eventing import Subscription, on_user_deleted

GROUP = "moderation.cascade"
BATCH = 500

Step = Callable[[AsyncConnection, Erasure, int], Awaitable[int]]

STEPS: tuple[Step, ...] = (
    steps.release_claims,
    steps.close_subjects_of,
    steps.relabel_decisions_of,
    steps.delete_appeals_of,
    steps.relabel_reports_of,
    steps.relabel_notes_of,
    steps.relabel_decided_by,
    steps.relabel_enforced_as,
    steps.relabel_resolved_by,
)


def subscription(deps: Deps) -> Subscription:
    async def cascade(conn: AsyncConnection, user_id: uuid.UUID, _: object) -> None:
        await Cascade(deps, user_id).run(conn)

    return on_user_deleted(GROUP, cascade)


class Cascade:
    def __init__(self, deps: Deps, user_id: uuid.UUID) -> None:
        self._deps = deps
        self._user = user_id

    async def run(self, conn: AsyncConnection) -> None:
        async with self._deps.db.transaction() as own:
            pseudonym = await steps.pseudonym_of(own, self._user, uuid.uuid4(), now())
        for step in STEPS:
            while await self._batch(step, pseudonym):
                pass
        await steps.forget_pseudonym(conn, self._user)

    async def _batch(self, step: Step, pseudonym: uuid.UUID) -> bool:
        """One batch of `step` in a transaction of its own; whether it changed anything."""
        async with self._deps.db.transaction() as conn:
            erasure = Erasure(self._user, pseudonym, now())
            return await step(conn, erasure, BATCH) > 0
