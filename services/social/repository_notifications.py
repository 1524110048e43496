"""SQL of notifications: made only for recipients who would want them, listed, counted, read.

Whether a recipient wants a notification (not their own action, not from someone they
block, not from someone they mute with notifications) is decided inside the INSERT, in
the transaction of the action that makes it. Unread ones are counted on the partial
index notifications_unread, up to a cap.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Text,
    Update,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.repository import (
    MUTE_IN_EFFECT,
    Target,
    id_param,
)
from services.social.repository_lists import OWNER, pages
from services.social.tables import blocks, mutes, notifications
from shared.sqlarrays import uuid_array

UNREAD = notifications.c.read_at.is_(None)

_RECIPIENT = (
    func.unnest(uuid_array("ids"), uuid_array("recipients"))
    .table_valued(Column("id", UUID(as_uuid=True)), Column("recipient_id", UUID(as_uuid=True)))
    .render_derived(name="recipient")
)
_ACTOR = id_param("actor")
# One notification per recipient (ids pair with recipients) who wants it; built once.
INSERT_NOTIFICATIONS = (
    insert(notifications)
    .from_select(
        [c.name for c in notifications.c if c.name != "read_at"],
        select(
            _RECIPIENT.c.id,
            _RECIPIENT.c.recipient_id,
            bindparam("kind", type_=Text),
            _ACTOR,
            bindparam("target_kind", type_=Text),
            id_param("target_id"),
            id_param("post_id"),
            bindparam("now", type_=DateTime(timezone=True)),
        ).where(
            _RECIPIENT.c.recipient_id != _ACTOR,
            ~exists().where(
                blocks.c.blocker_id == _RECIPIENT.c.recipient_id, blocks.c.blocked_id == _ACTOR
            ),
            ~exists().where(
                mutes.c.muter_id == _RECIPIENT.c.recipient_id,
                mutes.c.muted_id == _ACTOR,
                mutes.c.notifications,
                MUTE_IN_EFFECT,
            ),
        ),
    )
    .on_conflict_do_nothing()  # an unread one for the same event exists
    .returning(notifications.c.id)
)


async def insert_notifications(
    conn: AsyncConnection,
    *,
    ids: Sequence[uuid.UUID],
    recipients: Sequence[uuid.UUID],
    kind: str,
    actor: uuid.UUID,
    target: Target | None,
    post_id: uuid.UUID | None,
    now: datetime,
) -> int:
    """How many of the recipients were notified."""
    target_kind, target_id = target if target is not None else (None, None)
    params = {
        "ids": list(ids),
        "recipients": list(recipients),
        "kind": kind,
        "actor": actor,
        "target_kind": target_kind,
        "target_id": target_id,
        "post_id": post_id,
        "now": now,
    }
    return len((await conn.execute(INSERT_NOTIFICATIONS, params)).all())


async def delete_notifications_of(conn: AsyncConnection, user_id: uuid.UUID, limit: int) -> int:
    """Remove up to `limit` notifications to the user or caused by them (on
    notifications_by_recipient and notifications_by_actor); how many."""
    theirs = (
        select(notifications.c.id)
        .where(or_(notifications.c.recipient_id == user_id, notifications.c.actor_id == user_id))
        .limit(limit)
    )
    result = await conn.execute(
        delete(notifications).where(notifications.c.id.in_(theirs)).returning(notifications.c.id)
    )
    return len(result.all())


# A user's notifications, newest first, on notifications_by_recipient (or _unread).
NOTIFICATIONS = pages(notifications, (notifications.c.recipient_id == OWNER,), notifications.c.id)
UNREAD_NOTIFICATIONS = pages(
    notifications, (notifications.c.recipient_id == OWNER, UNREAD), notifications.c.id
)


# How many unread notifications a recipient has, counting no further than `cap`.
COUNT_UNREAD = select(func.count()).select_from(
    select(notifications.c.id)
    .where(notifications.c.recipient_id == id_param("recipient"), UNREAD)
    .limit(bindparam("cap"))
    .subquery()
)


async def position(
    conn: AsyncConnection, recipient: uuid.UUID, notification_id: uuid.UUID
) -> tuple[datetime, uuid.UUID] | None:
    """Where one of the recipient's notifications sits in their list; None if not theirs."""
    statement = select(notifications.c.created_at, notifications.c.id).where(
        notifications.c.id == notification_id, notifications.c.recipient_id == recipient
    )
    row = (await conn.execute(statement)).one_or_none()
    return None if row is None else (row.created_at, row.id)


def mark_read_statement(
    recipient: uuid.UUID, up_to: tuple[datetime, uuid.UUID] | None, now: datetime
) -> Update:
    """Mark the unread notifications read, those up to `up_to` only if given, on
    notifications_unread."""
    statement = update(notifications).where(notifications.c.recipient_id == recipient, UNREAD)
    if up_to is not None:
        bound = tuple_(
            literal(up_to[0], DateTime(timezone=True)), literal(up_to[1], UUID(as_uuid=True))
        )
        statement = statement.where(tuple_(notifications.c.created_at, notifications.c.id) <= bound)
    return statement.values(read_at=now)


async def mark_read(
    conn: AsyncConnection,
    recipient: uuid.UUID,
    up_to: tuple[datetime, uuid.UUID] | None,
    now: datetime,
) -> int:
    """How many were marked read."""
    result = await conn.execute(mark_read_statement(recipient, up_to, now))
    return int(result.rowcount)
