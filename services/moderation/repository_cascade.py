"""Every SQL statement of a deleted account's cascade (cascade.py).

Each step takes one batch of the rows that name the account in one column, found by that
column's index and locked, and relabels them with the pseudonym (or removes them) in one
statement; it answers how many it changed, and a row it changed names the account no
more, so the next batch of a step starts where the last one ended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.moderation.tables import (
    appeals,
    decisions,
    enforcements,
    erasures,
    notes,
    reports,
    subjects,
)


@dataclass(frozen=True)
class Erasure:
    """A deleted account, the pseudonym that takes its place, and when its batch runs."""

    user_id: uuid.UUID
    pseudonym: uuid.UUID
    at: datetime


async def pseudonym_of(
    conn: AsyncConnection, user_id: uuid.UUID, candidate: uuid.UUID, now: datetime
) -> uuid.UUID:
    """The account's pseudonym: `candidate`, unless a cascade of it began before."""
    claim = insert(erasures).values(user_id=user_id, pseudonym=candidate, started_at=now)
    await conn.execute(claim.on_conflict_do_nothing(index_elements=[erasures.c.user_id]))
    found = select(erasures.c.pseudonym).where(erasures.c.user_id == user_id)
    return uuid.UUID(str((await conn.execute(found)).scalar_one()))


async def forget_pseudonym(conn: AsyncConnection, user_id: uuid.UUID) -> None:
    await conn.execute(delete(erasures).where(erasures.c.user_id == user_id))


def _naming(column: Column[Any], user_id: uuid.UUID, limit: int) -> Any:
    """The ids of up to `limit` rows whose `column` is the account, locked."""
    table = column.table
    return select(table.c.id).where(column == user_id).limit(limit).with_for_update()


def replacing(column: Column[Any], user_id: uuid.UUID, value: Any, limit: int, **also: Any) -> Any:
    """One batch of rows naming the account in `column`, set to `value` (and `also`),
    returning their ids."""
    table = column.table
    return (
        update(table)
        .where(table.c.id.in_(_naming(column, user_id, limit)))
        .values({column.name: value, **also})
        .returning(table.c.id)
    )


async def _replace(
    conn: AsyncConnection,
    column: Column[Any],
    user_id: uuid.UUID,
    value: Any,
    limit: int,
    **also: Any,
) -> list[uuid.UUID]:
    statement = replacing(column, user_id, value, limit, **also)
    return list((await conn.execute(statement)).scalars())


async def release_claims(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    released = await _replace(
        conn,
        subjects.c.claimed_by,
        erasure.user_id,
        None,
        limit,
        claim_expires_at=None,
        updated_at=erasure.at,
    )
    return len(released)


async def close_subjects_of(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    """Subjects about the account or its content, relabelled and closed: their target is
    gone, so nothing is left to decide; their open reports are resolved without a
    decision, and their counts stay as they were."""
    pseudonym = erasure.pseudonym
    closed = await _replace(
        conn,
        subjects.c.owner_id,
        erasure.user_id,
        pseudonym,
        limit,
        target_id=case((subjects.c.kind == "user", pseudonym), else_=subjects.c.target_id),
        state="closed",
        claimed_by=None,
        claim_expires_at=None,
        updated_at=erasure.at,
    )
    if closed:
        resolved = (
            update(reports)
            .where(reports.c.subject_id.in_(closed), reports.c.state == "open")
            .values(state="resolved", resolved_at=erasure.at)
        )
        await conn.execute(resolved)
    return len(closed)


async def relabel_decisions_of(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    """Decisions about the account or its content, and the account as their effects'
    target (an effect still pending finds it gone, and is done)."""
    pseudonym = erasure.pseudonym
    relabelled = await _replace(
        conn,
        decisions.c.owner_id,
        erasure.user_id,
        pseudonym,
        limit,
        target_id=case((decisions.c.kind == "user", pseudonym), else_=decisions.c.target_id),
    )
    if relabelled:
        targets = (
            update(enforcements)
            .where(
                enforcements.c.decision_id.in_(relabelled),
                enforcements.c.target_id == erasure.user_id,
            )
            .values(target_id=pseudonym)
        )
        await conn.execute(targets)
    return len(relabelled)


async def delete_appeals_of(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    statement = delete(appeals).where(
        appeals.c.id.in_(_naming(appeals.c.appellant_id, erasure.user_id, limit))
    )
    return (await conn.execute(statement)).rowcount


async def relabel_reports_of(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    """The account's reports, with the comment it wrote taken out."""
    column = reports.c.reporter_id
    return len(await _replace(conn, column, erasure.user_id, erasure.pseudonym, limit, comment=""))


async def relabel_notes_of(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    column = notes.c.author_id
    return len(await _replace(conn, column, erasure.user_id, erasure.pseudonym, limit))


async def relabel_decided_by(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    column = decisions.c.moderator_id
    return len(await _replace(conn, column, erasure.user_id, erasure.pseudonym, limit))


async def relabel_enforced_as(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    """Effects carried as the account (its decisions and the reversals it overturned)."""
    column = enforcements.c.actor_id
    return len(await _replace(conn, column, erasure.user_id, erasure.pseudonym, limit))


async def relabel_resolved_by(conn: AsyncConnection, erasure: Erasure, limit: int) -> int:
    column = appeals.c.resolver_id
    return len(await _replace(conn, column, erasure.user_id, erasure.pseudonym, limit))
