"""The record of the events each consumer group has handled: `processed_events`, written in
the transaction of the handler's effects, so each event has its effect once per group
(`shared.consumers`), and pruned once older than any duplicate worth skipping."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.sqlarrays import uuid_array

metadata = MetaData()

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer_group", Text, primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The ids of the group's events that were not yet recorded, recorded now. Built once (built
# per call, it cost more CPU than the round trip it makes).
_RECORD = (
    insert(processed_events)
    .from_select(
        ["consumer_group", "event_id"],
        select(
            bindparam("group", type_=Text),
            func.unnest(uuid_array("event_ids")),
        ),
    )
    .on_conflict_do_nothing()
    .returning(processed_events.c.event_id)
)

PROCESSED_EVENTS_DDL = """
CREATE TABLE processed_events (
    consumer_group text NOT NULL,
    event_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
"""


async def record(conn: AsyncConnection, group: str, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Record the events as handled by `group`: those it had not handled before."""
    return set(await conn.scalars(_RECORD, {"group": group, "event_ids": event_ids}))


async def prune(conn: AsyncConnection, group: str, older_than_unix_seconds: float) -> None:
    """Forget the group's events made before that instant (event ids are UUIDv7s, which
    begin with the milliseconds they were made at)."""
    floor = uuid.UUID(int=int(older_than_unix_seconds * 1000) << 80)
    await conn.execute(
        delete(processed_events).where(
            and_(processed_events.c.consumer_group == group, processed_events.c.event_id < floor)
        )
    )


def create_processed_events_table() -> None:
    """Called from the Alembic migration of a service that consumes events."""
    from alembic import op

    op.execute(PROCESSED_EVENTS_DDL)


def drop_processed_events_table() -> None:
    from alembic import op

    op.execute("DROP TABLE processed_events")
