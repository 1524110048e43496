"""Every SQL statement of decisions, their enforcements and appeals, and the queue's
statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.moderation.repository import NOW, Record
from services.moderation.tables import appeals, decisions, enforcements

# --- decisions ---------------------------------------------------------------------------

# The enforcement a decision's state is about: the reversal once overturned.
CURRENT_STEP = case(
    (decisions.c.state.in_(["pending_reversal", "reversed"]), "reverse"), else_="apply"
)

# A decision as the API shows it: with its current enforcement's attempts and error.
DECISION_SHOWN = select(
    decisions,
    enforcements.c.attempts.label("apply_attempts"),
    enforcements.c.last_error.label("apply_error"),
).select_from(
    decisions.outerjoin(
        enforcements,
        and_(enforcements.c.decision_id == decisions.c.id, enforcements.c.step == CURRENT_STEP),
    )
)

DECISION = DECISION_SHOWN.where(decisions.c.id == bindparam("id", type_=UUID(as_uuid=True)))


async def decision(conn: AsyncConnection, decision_id: uuid.UUID) -> Record | None:
    return (await conn.execute(DECISION, {"id": decision_id})).one_or_none()


def decisions_about_statement(
    owner: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> Any:
    """The decisions about a user, newest first on decisions_by_owner, each with the id of
    its appeal (one at most)."""
    conditions = [decisions.c.owner_id == owner]
    if after is not None:
        conditions.append(tuple_(decisions.c.created_at, decisions.c.id) < tuple_(*after))
    return (
        DECISION_SHOWN.add_columns(appeals.c.id.label("appeal_id"))
        .outerjoin(appeals, appeals.c.decision_id == decisions.c.id)
        .where(*conditions)
        .order_by(decisions.c.created_at.desc(), decisions.c.id.desc())
        .limit(limit)
    )


LOCK_DECISION = (
    select(decisions)
    .where(decisions.c.id == bindparam("id", type_=UUID(as_uuid=True)))
    .with_for_update()
)


async def lock_decision(conn: AsyncConnection, decision_id: uuid.UUID) -> Record | None:
    return (await conn.execute(LOCK_DECISION, {"id": decision_id})).one_or_none()


async def insert_decision(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(decisions).values(values))


async def set_decision_state(
    conn: AsyncConnection, decision_id: uuid.UUID, state: str, applied_at: datetime | None
) -> None:
    statement = (
        update(decisions)
        .where(decisions.c.id == decision_id)
        .values(state=state, applied_at=applied_at)
    )
    await conn.execute(statement)


# --- enforcements ------------------------------------------------------------------------


async def insert_enforcement(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(enforcements).values(values))


# Take the due enforcements nobody is attempting, each leased until `until`: a concurrent
# enforcer (another replica) skips them, and one that crashed gives them back at expiry.
LEASE_DUE = text(
    """
    UPDATE enforcements SET next_attempt_at = :until, attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM enforcements
        WHERE state = 'pending' AND next_attempt_at <= :now
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED)
    RETURNING *
    """
)


async def lease_due(
    conn: AsyncConnection, now: datetime, until: datetime, limit: int
) -> list[Record]:
    params = {"now": now, "until": until, "limit": limit}
    return list((await conn.execute(LEASE_DUE, params)).all())


LEASE_ONE = (
    update(enforcements)
    .where(
        enforcements.c.decision_id == bindparam("of_decision", type_=UUID(as_uuid=True)),
        enforcements.c.step == bindparam("of_step"),
        enforcements.c.state == "pending",
    )
    .values(next_attempt_at=bindparam("lease_until"), attempts=enforcements.c.attempts + 1)
    .returning(enforcements)
)


async def lease(
    conn: AsyncConnection, decision_id: uuid.UUID, step: str, until: datetime
) -> Record | None:
    """The decision's pending enforcement of `step`, leased for this attempt."""
    params = {"of_decision": decision_id, "of_step": step, "lease_until": until}
    return (await conn.execute(LEASE_ONE, params)).one_or_none()


async def finish_enforcement(
    conn: AsyncConnection, enforcement_id: uuid.UUID, state: str, error: str, now: datetime
) -> bool:
    """Mark a pending enforcement done or refused; False if it was not pending any more."""
    statement = (
        update(enforcements)
        .where(enforcements.c.id == enforcement_id, enforcements.c.state == "pending")
        .values(state=state, last_error=error, done_at=now)
    )
    return (await conn.execute(statement)).rowcount == 1


async def postpone_enforcement(
    conn: AsyncConnection, enforcement_id: uuid.UUID, error: str, at: datetime
) -> None:
    statement = (
        update(enforcements)
        .where(enforcements.c.id == enforcement_id, enforcements.c.state == "pending")
        .values(last_error=error, next_attempt_at=at)
    )
    await conn.execute(statement)


# --- appeals -----------------------------------------------------------------------------


async def insert_appeal(conn: AsyncConnection, values: dict[str, Any]) -> Record | None:
    """The new appeal; None when the decision already has one."""
    statement = (
        insert(appeals)
        .values(values)
        .on_conflict_do_nothing(constraint="appeals_one_per_decision")
        .returning(appeals)
    )
    return (await conn.execute(statement)).one_or_none()


LOCK_APPEAL = (
    select(appeals)
    .where(appeals.c.id == bindparam("id", type_=UUID(as_uuid=True)))
    .with_for_update()
)


async def lock_appeal(conn: AsyncConnection, appeal_id: uuid.UUID) -> Record | None:
    return (await conn.execute(LOCK_APPEAL, {"id": appeal_id})).one_or_none()


async def resolve_appeal(
    conn: AsyncConnection, appeal_id: uuid.UUID, values: dict[str, Any]
) -> Record:
    statement = update(appeals).where(appeals.c.id == appeal_id).values(values)
    return (await conn.execute(statement.returning(appeals))).one()


def appeals_statement(
    appellant: uuid.UUID | None, state: str | None, after: uuid.UUID | None, limit: int
) -> Any:
    """Appeals oldest first (ids are time-ordered UUIDv7s), on the index of the filter."""
    conditions: list[Any] = []
    if appellant is not None:
        conditions.append(appeals.c.appellant_id == appellant)
    if state is not None:
        conditions.append(appeals.c.state == state)
    if after is not None:
        conditions.append(appeals.c.id > after)
    return select(appeals).where(and_(True, *conditions)).order_by(appeals.c.id).limit(limit)


async def rows(conn: AsyncConnection, statement: Any) -> list[Record]:
    return list((await conn.execute(statement)).all())


# --- statistics --------------------------------------------------------------------------

DECIDED_SINCE = select(
    func.count().label("decided"),
    func.percentile_cont(0.5)
    .within_group(func.extract("epoch", decisions.c.created_at - decisions.c.reported_at))
    .label("median_seconds"),
).where(decisions.c.created_at >= NOW)


async def decided_since(conn: AsyncConnection, since: datetime) -> Record:
    return (await conn.execute(DECIDED_SINCE, {"now": since})).one()
