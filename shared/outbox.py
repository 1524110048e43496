"""The transactional outbox: a domain event is a row written in the transaction of the change
it describes, so a change without its event, or an event without its change, cannot be
committed. `shared.relay` publishes the rows to Redis streams afterwards.

Order: `position` is a bigserial, so it is assigned when the row is inserted, not when its
transaction commits, and two concurrent transactions may commit in the other order. The
relay never keeps a cursor (it always reads every unpublished row in position order), so a
transaction that commits late is published late, never skipped. Events of one aggregate
follow commit order when their transactions are serialized on that aggregate: a service
records an event after the statement that locks the aggregate's row (the UPDATE of it, or
an advisory lock on it), so the next transaction on that aggregate takes its position only
once this one has committed, and no reader can see the later event without the earlier
one. Events of unrelated aggregates have no order to keep.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf import any_pb2, timestamp_pb2
from google.protobuf.message import Message
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    Table,
    Text,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from shared import context
from shared.ids import new_id

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=True),
    Column("id", UUID(as_uuid=True), nullable=False),
    # The Redis stream the event goes to: one per family of event types.
    Column("stream", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    # The serialized daira.events.v1.Event, exactly the bytes the relay publishes.
    Column("envelope", LargeBinary, nullable=False),
    Column(
        "created_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=text("clock_timestamp()"),
    ),
    Column("published_at", DateTime(timezone=True)),
)

OUTBOX_DDL = """
CREATE TABLE outbox (
    position bigserial PRIMARY KEY,
    id uuid NOT NULL,
    stream text NOT NULL,
    event_type text NOT NULL,
    aggregate_id text NOT NULL,
    envelope bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
-- What the relay has yet to publish, in position order; stays small however big the table.
CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
"""


# A commit that wrote events wakes the relay listening on this channel (`shared.relay`),
# which otherwise sleeps: one notification per inserting statement, and PostgreSQL folds
# a transaction's identical ones into one, delivered at commit.
NOTIFY_CHANNEL = "daira_outbox"
OUTBOX_NOTIFY_DDL = f"""
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
"""


def stream_name(prefix: str, family: str) -> str:
    """The Redis stream of a family of events ("content.posts") in a deployment whose
    streams all start with `prefix` (the `events_stream_prefix` setting)."""
    return f"{prefix}.{family}" if prefix else family


def create_outbox_table() -> None:
    """Called from a service's Alembic migration (`upgrade()`) to create its outbox."""
    from alembic import op

    op.execute(OUTBOX_DDL)


def create_outbox_notify() -> None:
    """Called from a service's migration, after its outbox exists: commits that record
    events notify NOTIFY_CHANNEL."""
    from alembic import op

    op.execute(OUTBOX_NOTIFY_DDL)


def drop_outbox_notify() -> None:
    from alembic import op

    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION outbox_notify()")


def drop_outbox_table() -> None:
    """The matching `downgrade()` step."""
    from alembic import op

    op.execute("DROP TABLE outbox")


def envelope(
    event_type: str,
    aggregate_id: str | uuid.UUID,
    payload: Message,
    *,
    request_id: str,
    version: int = 1,
) -> events_pb2.Event:
    """The daira.events.v1.Event carrying `payload`."""
    packed = any_pb2.Any()
    packed.Pack(payload)
    occurred = timestamp_pb2.Timestamp()
    occurred.FromDatetime(datetime.now(UTC))
    return events_pb2.Event(
        id=str(new_id()),
        type=event_type,
        aggregate_id=str(aggregate_id),
        occur_time=occurred,
        request_id=request_id,
        version=version,
        payload=packed,
    )


# Built once, the row sent as parameters: a statement built per event cost more CPU than
# sending it.
_RECORD = insert(outbox)


async def record(
    conn: AsyncConnection,
    stream: str,
    event_type: str,
    aggregate_id: str | uuid.UUID,
    payload: Message,
    request_id: str | None = None,
    *,
    version: int = 1,
) -> events_pb2.Event:
    """Write an event in the caller's transaction (after the statement that changes, and so
    locks, its aggregate: see the module's note on order). `request_id` defaults to that
    of the RPC being served."""
    items = [(aggregate_id, payload)]
    (event,) = await record_all(conn, stream, event_type, items, request_id, version=version)
    return event


async def record_all(
    conn: AsyncConnection,
    stream: str,
    event_type: str,
    items: Sequence[tuple[str | uuid.UUID, Message]],
    request_id: str | None = None,
    *,
    version: int = 1,
) -> list[events_pb2.Event]:
    """`record` for events of one type about several aggregates (a batch's changes), in
    the order given, written by one statement rather than a round trip each."""
    if request_id is None:
        inbound = context.inbound.get()
        request_id = inbound.request_id if inbound is not None else ""
    events = [
        envelope(event_type, aggregate_id, payload, request_id=request_id, version=version)
        for aggregate_id, payload in items
    ]
    if events:
        rows = [
            {
                "id": uuid.UUID(event.id),
                "stream": stream,
                "event_type": event_type,
                "aggregate_id": event.aggregate_id,
                "envelope": event.SerializeToString(),
            }
            for event in events
        ]
        await conn.execute(_RECORD, rows)
    return events
