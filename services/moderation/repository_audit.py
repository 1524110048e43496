"""Every SQL statement of the audit log: the chain's lock and head, appends, the reads of
ListAuditLog and the walk of VerifyAuditLog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.moderation.tables import audit_log
from shared.records import Record as Record

# One chain per database: every append takes this transaction-scoped lock first, so two
# appends never read the same head and fork the chain.
CHAIN_LOCK_KEY = 0x617564697463686E  # "auditchn"

LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)")

HEAD = select(audit_log.c.sequence, audit_log.c.hash).order_by(audit_log.c.sequence.desc()).limit(1)

EVENT = select(audit_log).where(
    audit_log.c.source == bindparam("source"),
    audit_log.c.event_id == bindparam("event_id"),
    audit_log.c.event_id != "",
)

INSERT = insert(audit_log)

FROM_SEQUENCE = (
    select(audit_log)
    .where(audit_log.c.sequence > bindparam("after"))
    .order_by(audit_log.c.sequence)
    .limit(bindparam("limit"))
)


async def lock_chain(conn: AsyncConnection) -> None:
    await conn.execute(LOCK_CHAIN, {"key": CHAIN_LOCK_KEY})


async def head(conn: AsyncConnection) -> Record | None:
    """The last entry's sequence and hash; None for an empty log."""
    return (await conn.execute(HEAD)).one_or_none()


async def event(conn: AsyncConnection, source: str, event_id: str) -> Record | None:
    return (await conn.execute(EVENT, {"source": source, "event_id": event_id})).one_or_none()


async def insert_entry(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(INSERT, values)


async def entries_after(conn: AsyncConnection, after: int, limit: int) -> list[Record]:
    """The next `limit` entries in chain order."""
    return list((await conn.execute(FROM_SEQUENCE, {"after": after, "limit": limit})).all())


def list_statement(
    *,
    actor: str | None,
    target: tuple[str, str] | None,
    action: str | None,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Any:
    """Entries newest first, one keyset range on the index that leads with the filter."""
    conditions: list[Any] = []
    if actor is not None:
        conditions.append(audit_log.c.actor == actor)
    if target is not None:
        conditions += [audit_log.c.target_kind == target[0], audit_log.c.target_id == target[1]]
    if action is not None:
        conditions.append(audit_log.c.action == action)
    if start is not None:
        conditions.append(audit_log.c.occurred_at >= start)
    if end is not None:
        conditions.append(audit_log.c.occurred_at < end)
    if after is not None:
        conditions.append(tuple_(audit_log.c.occurred_at, audit_log.c.sequence) < tuple_(*after))
    return (
        select(audit_log)
        .where(and_(True, *conditions))
        .order_by(audit_log.c.occurred_at.desc(), audit_log.c.sequence.desc())
        .limit(limit)
    )


async def list_entries(conn: AsyncConnection, statement: Any) -> list[Record]:
    return list((await conn.execute(statement)).all())
