"""Every SQL statement of subjects, their reports and notes, and the queue.

Hot statements are built once at module level (UPPER_CASE), so the query-plan tests
EXPLAIN exactly what the service runs. repository_decisions holds decisions,
enforcements and appeals; repository_audit the audit log.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.moderation.tables import decisions, notes, reports, subjects
from shared.records import Record as Record

ID = bindparam("id", type_=UUID(as_uuid=True))
NOW: Any = bindparam("now")

# --- subjects ----------------------------------------------------------------------------

# A subject for the target, made on its first report; on a later one the existing row,
# locked for the rest of the report's transaction (the no-op update takes the lock).
OPEN_SUBJECT = (
    insert(subjects)
    .values(
        id=bindparam("id"),
        kind=bindparam("kind"),
        target_id=bindparam("target_id"),
        owner_id=bindparam("owner_id"),
        state="open",
        reason=bindparam("reason"),
        severity=bindparam("severity"),
        reporter_count=0,
        first_reported_at=NOW,
        last_reported_at=NOW,
        due_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    .on_conflict_do_update(constraint="subjects_target", set_={"updated_at": subjects.c.updated_at})
    .returning(subjects)
)


async def open_subject(conn: AsyncConnection, values: dict[str, Any]) -> Record:
    return (await conn.execute(OPEN_SUBJECT, values)).one()


SUBJECT = select(subjects).where(subjects.c.id == ID)
LOCK_SUBJECT = SUBJECT.with_for_update()


async def subject(conn: AsyncConnection, subject_id: uuid.UUID) -> Record | None:
    return (await conn.execute(SUBJECT, {"id": subject_id})).one_or_none()


async def lock_subject(conn: AsyncConnection, subject_id: uuid.UUID) -> Record | None:
    return (await conn.execute(LOCK_SUBJECT, {"id": subject_id})).one_or_none()


async def update_subject(
    conn: AsyncConnection, subject_id: uuid.UUID, values: dict[str, Any]
) -> Record:
    statement = update(subjects).where(subjects.c.id == subject_id).values(values)
    return (await conn.execute(statement.returning(subjects))).one()


def _claimable(now: Any) -> Any:
    return or_(subjects.c.claim_expires_at.is_(None), subjects.c.claim_expires_at <= now)


CLAIM = (
    update(subjects)
    .where(
        subjects.c.id == bindparam("subject", type_=UUID(as_uuid=True)),
        subjects.c.state != "closed",
        or_(_claimable(NOW), subjects.c.claimed_by == bindparam("moderator")),
    )
    .values(
        claimed_by=bindparam("moderator"),
        claim_expires_at=bindparam("until"),
        updated_at=NOW,
    )
    .returning(subjects)
)


async def claim(
    conn: AsyncConnection,
    subject_id: uuid.UUID,
    moderator: uuid.UUID,
    now: datetime,
    until: datetime,
) -> Record | None:
    """The subject, now the moderator's; None when it is closed or another's claim lasts."""
    params = {"subject": subject_id, "moderator": moderator, "now": now, "until": until}
    return (await conn.execute(CLAIM, params)).one_or_none()


@dataclass(frozen=True)
class QueueFilter:
    """Which subjects a queue read or claim-next considers."""

    state: str
    kind: str | None = None
    reason: str | None = None

    @property
    def shape(self) -> tuple[bool, bool]:
        return self.kind is not None, self.reason is not None

    def params(self) -> dict[str, Any]:
        return {"in_state": self.state, "of_kind": self.kind, "for_reason": self.reason}


# Queue statements are built once per filter shape, with bind parameters (not per call):
# building and keying a statement costs about a third of running it.
def _filtered(kind: bool, reason: bool) -> list[Any]:
    conditions = [subjects.c.state == bindparam("in_state")]
    if kind:
        conditions.append(subjects.c.kind == bindparam("of_kind"))
    if reason:
        conditions.append(subjects.c.reason == bindparam("for_reason"))
    return conditions


@functools.cache
def claim_next_statement(kind: bool, reason: bool) -> Any:
    """Claim a subject nobody holds: one whose claim lapsed (subjects_claims, by expiry),
    else the first due unclaimed one (subjects_unclaimed). COALESCE stops at the first
    found, so the second lookup runs only when the first finds nothing. Rows locked by
    concurrent claimers are skipped rather than waited for, so they never get the same one.
    """
    lapsed = (
        select(subjects.c.id)
        .where(
            *_filtered(kind, reason),
            subjects.c.claimed_by.is_not(None),
            subjects.c.claim_expires_at <= NOW,
        )
        .order_by(subjects.c.claim_expires_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    unclaimed = (
        select(subjects.c.id)
        .where(*_filtered(kind, reason), subjects.c.claimed_by.is_(None))
        .order_by(subjects.c.due_at, subjects.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(subjects)
        .where(subjects.c.id == func.coalesce(lapsed, unclaimed))
        .values(
            claimed_by=bindparam("moderator"),
            claim_expires_at=bindparam("claim_until"),
            updated_at=NOW,
        )
        .returning(subjects)
    )


async def claim_next(
    conn: AsyncConnection,
    where: QueueFilter,
    moderator: uuid.UUID,
    now: datetime,
    until: datetime,
) -> Record | None:
    params = {**where.params(), "moderator": moderator, "now": now, "claim_until": until}
    return (await conn.execute(claim_next_statement(*where.shape), params)).one_or_none()


@functools.cache
def queue_statement(kind: bool, reason: bool, after: bool) -> Any:
    """One page of the queue: a keyset range on the index that leads with the filter."""
    conditions = _filtered(kind, reason)
    if after:
        position = tuple_(bindparam("after_due"), bindparam("after_id", type_=UUID(as_uuid=True)))
        conditions.append(tuple_(subjects.c.due_at, subjects.c.id) > position)
    return (
        select(subjects)
        .where(and_(*conditions))
        .order_by(subjects.c.due_at, subjects.c.id)
        .limit(bindparam("page_limit"))
    )


async def queue_page(
    conn: AsyncConnection,
    where: QueueFilter,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Record]:
    statement = queue_statement(*where.shape, after is not None)
    params = {**where.params(), "page_limit": limit}
    if after is not None:
        params |= {"after_due": after[0], "after_id": after[1]}
    return list((await conn.execute(statement, params)).all())


async def rows(conn: AsyncConnection, statement: Any) -> list[Record]:
    return list((await conn.execute(statement)).all())


COUNT_IN_STATE = (
    select(func.count()).select_from(subjects).where(subjects.c.state == bindparam("state"))
)


async def count_in_state(conn: AsyncConnection, state: str) -> int:
    return int(await conn.scalar(COUNT_IN_STATE, {"state": state}) or 0)


async def any_subject(conn: AsyncConnection) -> bool:
    """Whether any target was ever reported (the demo seed runs once)."""
    return bool(await conn.scalar(select(subjects.c.id).limit(1)))


# --- reports -----------------------------------------------------------------------------

OPEN_REPORT_BY = select(reports).where(
    reports.c.subject_id == bindparam("subject_id", type_=UUID(as_uuid=True)),
    reports.c.reporter_id == bindparam("reporter_id", type_=UUID(as_uuid=True)),
    reports.c.state == "open",
)


async def open_report_by(
    conn: AsyncConnection, subject_id: uuid.UUID, reporter_id: uuid.UUID
) -> Record | None:
    params = {"subject_id": subject_id, "reporter_id": reporter_id}
    return (await conn.execute(OPEN_REPORT_BY, params)).one_or_none()


async def insert_report(conn: AsyncConnection, values: dict[str, Any]) -> Record:
    statement = insert(reports).values(values).returning(reports)
    return (await conn.execute(statement)).one()


RESOLVE_REPORTS = (
    update(reports)
    .where(
        reports.c.subject_id == bindparam("of_subject", type_=UUID(as_uuid=True)),
        reports.c.state == "open",
    )
    .values(state="resolved", decision_id=bindparam("by_decision"), resolved_at=NOW)
)


async def resolve_reports(
    conn: AsyncConnection, subject_id: uuid.UUID, decision_id: uuid.UUID, now: datetime
) -> int:
    """Resolve every open report on the subject with the decision; how many."""
    params = {"of_subject": subject_id, "by_decision": decision_id, "now": now}
    return (await conn.execute(RESOLVE_REPORTS, params)).rowcount


# A report as its reporter sees it: with the decision that resolved it.
REPORT_SHOWN = select(
    reports,
    subjects.c.kind.label("subject_kind"),
    subjects.c.target_id.label("target_id"),
    decisions.c.action.label("outcome"),
    decisions.c.state.label("outcome_state"),
).select_from(
    reports.join(subjects, subjects.c.id == reports.c.subject_id).outerjoin(
        decisions, decisions.c.id == reports.c.decision_id
    )
)


def reports_of_statement(
    reporter_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> Any:
    """A reporter's reports, newest first, on reports_by_reporter."""
    conditions = [reports.c.reporter_id == reporter_id]
    if after is not None:
        conditions.append(tuple_(reports.c.created_at, reports.c.id) < tuple_(*after))
    return (
        REPORT_SHOWN.where(*conditions)
        .order_by(reports.c.created_at.desc(), reports.c.id.desc())
        .limit(limit)
    )


def reports_on_statement(subject_id: uuid.UUID, limit: int) -> Any:
    """A subject's latest reports, newest first, on reports_by_subject."""
    return (
        REPORT_SHOWN.where(reports.c.subject_id == subject_id)
        .order_by(reports.c.created_at.desc(), reports.c.id.desc())
        .limit(limit)
    )


# --- notes -------------------------------------------------------------------------------


async def insert_note(conn: AsyncConnection, values: dict[str, Any]) -> Record:
    return (await conn.execute(insert(notes).values(values).returning(notes))).one()


NOTES_ON = (
    select(notes)
    .where(notes.c.subject_id == bindparam("subject_id", type_=UUID(as_uuid=True)))
    .order_by(notes.c.created_at, notes.c.id)
    .limit(bindparam("limit"))
)


async def notes_on(conn: AsyncConnection, subject_id: uuid.UUID, limit: int) -> list[Record]:
    return list((await conn.execute(NOTES_ON, {"subject_id": subject_id, "limit": limit})).all())
