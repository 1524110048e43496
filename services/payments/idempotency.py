"""request_id on every call that moves money: a retry answers with what the first call made.

The key is claimed first in the call's own transaction (for a tip, in the same
statement as its transfer: ledger.write), carrying the id of the resource the call is
about to create; if the call fails the key goes with the rollback, so only calls that
did something keep a key. A concurrent retry waits on the claim and then
finds the first call's result. The same key with other parameters is ALREADY_EXISTS.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments import repository_payments
from services.payments.repository import Key
from shared.errors import AlreadyExists, InvalidArgument
from shared.validation import digest, request_id


def required_request_id(value: str) -> str:
    key = request_id(value)
    if key is None:
        raise InvalidArgument("request_id", "is required: it makes retries safe")
    return key


async def claim(
    conn: AsyncConnection,
    owner: str,
    key: str,
    operation: str,
    params: tuple[object, ...],
    result_id: uuid.UUID,
    now: datetime,
) -> uuid.UUID | None:
    """None when this call is the first with `key`; else the id the first one made."""
    fingerprint = digest(operation, *params)
    if await repository_payments.claim_key(
        conn, owner, key, operation, fingerprint, result_id, now
    ):
        return None
    made = await made_by(conn, Key(owner, key, operation, fingerprint))
    if made is None:
        raise reused(key)
    return made


async def made_by(conn: AsyncConnection, claimed: Key) -> uuid.UUID | None:
    """What an earlier call with this key and these parameters made; None if there was none
    (or it had other parameters)."""
    earlier = await repository_payments.find_key(conn, claimed.owner, claimed.request_id)
    if earlier is None or earlier.operation != claimed.operation:
        return None
    return uuid.UUID(str(earlier.result_id)) if earlier.digest == claimed.digest else None


async def answered(conn: AsyncConnection, claimed: Key) -> uuid.UUID | None:
    """What an earlier call with this key made; None if there was none; ALREADY_EXISTS if
    it had other parameters. For a call that must know before it starts (a provider asked
    outside any transaction)."""
    earlier = await repository_payments.find_key(conn, claimed.owner, claimed.request_id)
    if earlier is None:
        return None
    if (earlier.operation, earlier.digest) != (claimed.operation, claimed.digest):
        raise reused(claimed.request_id)
    return uuid.UUID(str(earlier.result_id))


def key_of(owner: str, key: str, operation: str, params: tuple[object, ...]) -> Key:
    """The key to claim with the transfer itself (ledger.write), for a call that makes
    nothing but one transfer."""
    return Key(owner, key, operation, digest(operation, *params))


def reused(key: str) -> AlreadyExists:
    return AlreadyExists(
        "this request_id was used for a different request",
        reason="REQUEST_ID_REUSED",
        metadata={"request_id": key},
    )
