"""Every SQL statement of provider payments, provider events and idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments.repository import Record
from services.payments.tables import idempotency_keys, payments, provider_events

# --- idempotency keys --------------------------------------------------------------------


CLAIM_KEY = (
    insert(idempotency_keys)
    .values(
        owner=bindparam("owner"),
        request_id=bindparam("request_id"),
        operation=bindparam("operation"),
        digest=bindparam("digest"),
        result_id=bindparam("result_id", type_=UUID(as_uuid=True)),
        created_at=bindparam("created_at", type_=DateTime(timezone=True)),
    )
    .on_conflict_do_nothing()
    .returning(idempotency_keys.c.owner)
)


async def claim_key(
    conn: AsyncConnection,
    owner: str,
    request_id: str,
    operation: str,
    digest: str,
    result_id: uuid.UUID,
    now: datetime,
) -> bool:
    """Record the key with the id of what this call is about to make; False if it exists.

    A concurrent claim of the same key waits here until the first transaction ends."""
    params = {
        "owner": owner,
        "request_id": request_id,
        "operation": operation,
        "digest": digest,
        "result_id": result_id,
        "created_at": now,
    }
    return (await conn.execute(CLAIM_KEY, params)).one_or_none() is not None


async def find_key(conn: AsyncConnection, owner: str, request_id: str) -> Record | None:
    statement = select(idempotency_keys).where(
        idempotency_keys.c.owner == owner, idempotency_keys.c.request_id == request_id
    )
    return (await conn.execute(statement)).one_or_none()


async def forget_keys(conn: AsyncConnection, before: datetime) -> int:
    statement = delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
    return (await conn.execute(statement)).rowcount


async def forget_keys_of(conn: AsyncConnection, owner: str) -> None:
    """Every key of one caller (a prefix of the primary key)."""
    await conn.execute(delete(idempotency_keys).where(idempotency_keys.c.owner == owner))


# --- payments ----------------------------------------------------------------------------


async def insert_payment(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(payments).values(**values))


PAYMENT = select(payments).where(payments.c.id == bindparam("id", type_=UUID(as_uuid=True)))


async def payment(conn: AsyncConnection, payment_id: uuid.UUID) -> Record | None:
    return (await conn.execute(PAYMENT, {"id": payment_id})).one_or_none()


async def lock_payment_by_reference(
    conn: AsyncConnection, provider: str, reference: str
) -> Record | None:
    statement = (
        select(payments)
        .where(payments.c.provider == provider, payments.c.reference == reference)
        .with_for_update()
    )
    return (await conn.execute(statement)).one_or_none()


async def lock_pending_payment(conn: AsyncConnection, payment_id: uuid.UUID) -> Record | None:
    """The payment, locked, if it is still pending and nobody else holds it."""
    statement = (
        select(payments)
        .where(payments.c.id == payment_id, payments.c.state == "pending")
        .with_for_update(skip_locked=True)
    )
    return (await conn.execute(statement)).one_or_none()


async def settle_payment(
    conn: AsyncConnection,
    payment_id: uuid.UUID,
    state: str,
    now: datetime,
    *,
    transfer_id: uuid.UUID | None = None,
    failure_reason: str = "",
) -> Record:
    values: dict[str, Any] = {
        "state": state,
        "updated_at": now,
        "failure_reason": failure_reason,
        "next_action": None,  # nothing is left to do, and its secret is no longer needed
    }
    if transfer_id is not None:
        values["transfer_id"] = transfer_id
    statement = (
        update(payments).where(payments.c.id == payment_id).values(**values).returning(payments)
    )
    return (await conn.execute(statement)).one()


async def expired_withdrawals(
    conn: AsyncConnection, before: datetime, limit: int
) -> list[uuid.UUID]:
    statement = (
        select(payments.c.id)
        .where(
            payments.c.state == "pending",
            payments.c.kind == "withdrawal",
            payments.c.created_at < before,
        )
        .order_by(payments.c.created_at)
        .limit(limit)
    )
    return list((await conn.scalars(statement)).all())


# --- provider events ---------------------------------------------------------------------


async def record_event(
    conn: AsyncConnection,
    provider: str,
    event_id: str,
    digest: str,
    payment_id: uuid.UUID,
    now: datetime,
) -> bool:
    """False if the provider's event id was handled before (waits for a concurrent one)."""
    statement = (
        insert(provider_events)
        .values(
            provider=provider,
            event_id=event_id,
            digest=digest,
            payment_id=payment_id,
            received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(provider_events.c.event_id)
    )
    return (await conn.execute(statement)).one_or_none() is not None


async def find_event(conn: AsyncConnection, provider: str, event_id: str) -> Record | None:
    statement = select(provider_events).where(
        provider_events.c.provider == provider, provider_events.c.event_id == event_id
    )
    return (await conn.execute(statement)).one_or_none()


async def relabel_payments(conn: AsyncConnection, user_id: uuid.UUID, pseudonym: uuid.UUID) -> None:
    """A deleted account's payments become `pseudonym`'s (as its wallets did), without
    their destinations or next actions (nobody is left to take them); on
    payments_by_user."""
    await conn.execute(
        update(payments)
        .where(payments.c.user_id == user_id)
        .values(user_id=pseudonym, destination="", next_action=None)
    )
