"""Every SQL statement of the ledger: accounts, transfers, entries, and the reads of them.

Hot statements are built once at module level (UPPER_CASE), so the query-plan tests
EXPLAIN exactly what the service runs. repository_payments holds payments, provider
events and idempotency keys.

Transfers are posted by the database function post_transfers() (migration 0005), one or
a batch in one round trip: it locks all their accounts by one SELECT … ORDER BY id FOR
UPDATE (every writer locks in id order, so no interleaving deadlocks), then posts each
as post_transfer() (migration 0002) does: it claims the call's idempotency key and
writes the transfer, its entries and the new balances computed from the locked rows.
The accounts are held only while it runs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments.tables import accounts, ledger_entries, transfers
from shared.records import Record as Record

# The transfer types a user's history lists (resolutions show as their transfer's state).
LISTED_TYPES = ("deposit", "tip", "withdrawal", "refund")


def constant(value: str) -> Any:
    """A string as a SQL literal, not a parameter: a partial index is matched only against
    constants (a prepared statement's generic plan could not use it)."""
    return literal_column(f"'{value}'")


LISTED = ledger_entries.c.type.in_([constant(t) for t in LISTED_TYPES])
IS_WALLET = accounts.c.kind == constant("wallet")


@dataclass(frozen=True, slots=True)
class AccountKey:
    """What names an account: a user's wallet, or a system account's slot."""

    kind: str
    currency: str
    user_id: uuid.UUID | None = None
    provider: str = ""
    slot: int = 0


@dataclass(frozen=True, slots=True)
class Transfer:
    id: uuid.UUID
    type: str
    currency: str
    amount: int
    created_at: datetime
    fee: int = 0
    pending: bool = False
    payer_id: uuid.UUID | None = None
    payee_id: uuid.UUID | None = None
    pending_id: uuid.UUID | None = None
    refund_of: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Key:
    """An idempotency key as claimed: whose, which, for what, with which parameters."""

    owner: str
    request_id: str
    operation: str
    digest: str


# --- accounts ----------------------------------------------------------------------------


def _key_conditions(key: AccountKey) -> list[Any]:
    if key.kind == "wallet":
        return [
            accounts.c.kind == "wallet",
            accounts.c.user_id == key.user_id,
            accounts.c.currency == key.currency,
        ]
    return [
        accounts.c.kind == key.kind,
        accounts.c.provider == key.provider,
        accounts.c.currency == key.currency,
        accounts.c.slot == key.slot,
    ]


async def open_account(conn: AsyncConnection, key: AccountKey) -> int:
    """The account's id, creating it empty if it does not exist yet."""
    statement = (
        insert(accounts)
        .values(
            kind=key.kind,
            user_id=key.user_id,
            provider=key.provider,
            slot=key.slot,
            currency=key.currency,
            posted=0,
            pending_debits=0,
            pending_credits=0,
            version=0,
            created_at=func.now(),
        )
        .on_conflict_do_nothing()
        .returning(accounts.c.id)
    )
    created = await conn.scalar(statement)
    if created is not None:
        return int(created)
    found = await conn.scalar(select(accounts.c.id).where(*_key_conditions(key)))
    assert found is not None
    return int(found)


WALLET = select(accounts).where(
    IS_WALLET,
    accounts.c.user_id == bindparam("user_id", type_=UUID(as_uuid=True)),
    accounts.c.currency == bindparam("currency"),
)

WALLETS_OF_USER = (
    select(accounts)
    .where(
        IS_WALLET,
        accounts.c.user_id == bindparam("user_id", type_=UUID(as_uuid=True)),
    )
    .order_by(accounts.c.currency)
)


async def wallet(conn: AsyncConnection, user_id: uuid.UUID, currency: str) -> Record | None:
    return (await conn.execute(WALLET, {"user_id": user_id, "currency": currency})).one_or_none()


async def wallets(conn: AsyncConnection, user_id: uuid.UUID) -> list[Record]:
    return list((await conn.execute(WALLETS_OF_USER, {"user_id": user_id})).all())


# --- writing a transfer ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Posting:
    """A transfer ready to post: its effect and its (account, side, amount) rows in id order."""

    transfer: Transfer
    effect: str
    rows: Sequence[tuple[int, str, int]]
    key: Key | None


def _arguments(posting: Posting) -> dict[str, Any]:
    transfer, key = posting.transfer, posting.key
    return {
        "owner": key.owner if key else None,
        "request_id": key.request_id if key else None,
        "operation": key.operation if key else None,
        "digest": key.digest if key else None,
        "id": transfer.id,
        "type": transfer.type,
        "currency": transfer.currency,
        "amount": transfer.amount,
        "fee": transfer.fee,
        "pending": transfer.pending,
        "payer_id": transfer.payer_id,
        "payee_id": transfer.payee_id,
        "pending_id": transfer.pending_id,
        "refund_of": transfer.refund_of,
        "payment_id": transfer.payment_id,
        "note": transfer.note,
        "created_at": transfer.created_at,
        "effect": posting.effect,
        "accounts": [row[0] for row in posting.rows],
        "sides": [row[1] for row in posting.rows],
        "amounts": [row[2] for row in posting.rows],
    }


# post_transfers() (migration 0005): the batch's accounts locked in id order, then each
# transfer as post_transfer() posts it, one refused for funds without the others.
POST_TRANSFERS = text("SELECT outcome, result_id FROM post_transfers(CAST(:items AS jsonb))")


async def post_transfers(conn: AsyncConnection, postings: Sequence[Posting]) -> list[Record]:
    """(outcome, result_id) of each posting, in order, all in one transaction."""
    items = json.dumps([_arguments(p) for p in postings], default=str)
    return list((await conn.execute(POST_TRANSFERS, {"items": items})).all())


# --- reading transfers -------------------------------------------------------------------

resolution = transfers.alias("resolution")
refunds = transfers.alias("refunds")

REFUNDED = (
    select(func.coalesce(func.sum(refunds.c.amount), 0))
    .where(refunds.c.refund_of == transfers.c.id)
    .scalar_subquery()
)

# A transfer as the API shows it: with how it was resolved (if pending) and refunded.
SHOWN = select(
    transfers, resolution.c.type.label("resolution"), REFUNDED.label("refunded")
).select_from(transfers.outerjoin(resolution, resolution.c.pending_id == transfers.c.id))

TRANSFER = SHOWN.where(transfers.c.id == bindparam("id", type_=UUID(as_uuid=True)))


async def transfer(conn: AsyncConnection, transfer_id: uuid.UUID) -> Record | None:
    return (await conn.execute(TRANSFER, {"id": transfer_id})).one_or_none()


LOCK_TRANSFER = (
    select(transfers)
    .where(transfers.c.id == bindparam("id", type_=UUID(as_uuid=True)))
    .with_for_update()
)


async def lock_transfer(conn: AsyncConnection, transfer_id: uuid.UUID) -> Record | None:
    """The transfer, locked (it is never updated: the lock orders its refunds)."""
    return (await conn.execute(LOCK_TRANSFER, {"id": transfer_id})).one_or_none()


REFUNDED_OF = select(func.coalesce(func.sum(transfers.c.amount), 0)).where(
    transfers.c.refund_of == bindparam("id", type_=UUID(as_uuid=True))
)


async def refunded(conn: AsyncConnection, transfer_id: uuid.UUID) -> int:
    return int(await conn.scalar(REFUNDED_OF, {"id": transfer_id}) or 0)


ENTRIES_OF = (
    select(ledger_entries.c.account_id, ledger_entries.c.side, ledger_entries.c.amount)
    .where(ledger_entries.c.transfer_id == bindparam("id", type_=UUID(as_uuid=True)))
    .order_by(ledger_entries.c.account_id)
)


async def entries_of(conn: AsyncConnection, transfer_id: uuid.UUID) -> list[Record]:
    return list((await conn.execute(ENTRIES_OF, {"id": transfer_id})).all())


def history_statement(
    user_id: uuid.UUID, type_: str | None, after: uuid.UUID | None, limit: int
) -> Any:
    """A user's transactions, newest first (transfer ids are time-ordered UUIDv7s), on the
    history index that matches the filter."""
    history = ledger_entries
    conditions = [history.c.user_id == user_id, LISTED]
    if type_ is not None:
        conditions.append(history.c.type == type_)
    if after is not None:
        conditions.append(history.c.transfer_id < after)
    page = (
        select(history.c.transfer_id)
        .where(and_(*conditions))
        .order_by(history.c.transfer_id.desc())
        .limit(limit)
        .subquery()
    )
    return SHOWN.join(page, page.c.transfer_id == transfers.c.id).order_by(transfers.c.id.desc())


async def history(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    type_: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Record]:
    return list((await conn.execute(history_statement(user_id, type_, after, limit))).all())


EARNINGS = (
    select(
        accounts.c.currency,
        ledger_entries.c.type,
        ledger_entries.c.side,
        func.sum(ledger_entries.c.amount).label("total"),
        func.count().label("entries"),
    )
    .select_from(ledger_entries.join(accounts, accounts.c.id == ledger_entries.c.account_id))
    .where(
        ledger_entries.c.user_id == bindparam("user_id", type_=UUID(as_uuid=True)),
        ledger_entries.c.type.in_([constant("tip"), constant("refund")]),
    )
    .group_by(accounts.c.currency, ledger_entries.c.type, ledger_entries.c.side)
)


async def earnings(conn: AsyncConnection, user_id: uuid.UUID) -> list[Record]:
    """Per currency, transfer type and side: the sum and count of the user's entries."""
    return list((await conn.execute(EARNINGS, {"user_id": user_id})).all())


# --- erasing a deleted account -----------------------------------------------------------


async def erase_owner(conn: AsyncConnection, user_id: uuid.UUID, pseudonym: uuid.UUID) -> None:
    """Take a deleted account's id out of the ledger, every amount and balance kept: it
    leaves the transfers it was party to (as payer or payee, with the notes it wrote as
    payer) and the entries of its wallets, found by account through the entries' unique
    (account_id, version) index; then its wallets are relabelled `pseudonym`, a name no
    caller holds. Migration 0004 lets the append-only rows change in exactly this way."""
    wallets = select(accounts.c.id).where(IS_WALLET, accounts.c.user_id == user_id)
    entries = ledger_entries.c.account_id.in_(wallets.scalar_subquery())
    party = select(ledger_entries.c.transfer_id).where(entries)
    await conn.execute(
        update(transfers)
        .where(transfers.c.id.in_(party.scalar_subquery()))
        .values(
            payer_id=case((transfers.c.payer_id == user_id, None), else_=transfers.c.payer_id),
            payee_id=case((transfers.c.payee_id == user_id, None), else_=transfers.c.payee_id),
            note=case((transfers.c.payer_id == user_id, ""), else_=transfers.c.note),
        )
    )
    await conn.execute(update(ledger_entries).where(entries).values(user_id=None))
    await conn.execute(
        update(accounts).where(IS_WALLET, accounts.c.user_id == user_id).values(user_id=pseudonym)
    )
