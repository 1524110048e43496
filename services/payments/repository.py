"""Every SQL statement of the ledger: accounts, transfers, entries, and the reads of them.

Hot statements are built once at module level (UPPER_CASE), so the query-plan tests
EXPLAIN exactly what the service runs. repository_payments holds payments, provider
events and idempotency keys.

A transfer is written under row locks on all its accounts, taken by one SELECT … ORDER
BY id FOR UPDATE: every writer locks in id order, so no interleaving deadlocks. The
transfer, its entries and the accounts' new balances then go in one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Row, and_, any_, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments.tables import accounts, ledger_entries, transfers

Record = Row[*tuple[Any, ...]]

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
class Entry:
    account_id: int
    user_id: uuid.UUID | None
    side: str
    effect: str
    amount: int
    balance_before: int
    balance_after: int
    pending_before: int
    pending_after: int
    version: int


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's new state after a transfer."""

    id: int
    posted: int
    pending_debits: int
    pending_credits: int
    version: int


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


LOCK_ACCOUNTS = (
    select(accounts)
    .where(accounts.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .order_by(accounts.c.id)
    .with_for_update()
)


async def lock_accounts(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Record]:
    """Lock these accounts until the transaction ends, in id order; their rows by id."""
    result = await conn.execute(LOCK_ACCOUNTS, {"ids": sorted(set(ids))})
    return {row.id: row for row in result}


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

WRITE_TRANSFER = text(
    """
    WITH t AS (
        INSERT INTO transfers (id, type, currency, amount, fee, pending, payer_id, payee_id,
                               pending_id, refund_of, payment_id, note, created_at)
        VALUES (:id, :type, :currency, :amount, :fee, :pending, :payer_id, :payee_id,
                :pending_id, :refund_of, :payment_id, :note, :created_at)
    ), e AS (
        INSERT INTO ledger_entries (transfer_id, account_id, user_id, type, side, effect, amount,
                                    balance_before, balance_after, pending_before,
                                    pending_after, version, created_at)
        SELECT :id, u.account_id, u.user_id, :type, u.side, u.effect, u.amount, u.balance_before,
               u.balance_after, u.pending_before, u.pending_after, u.version, :created_at
        FROM unnest(CAST(:e_account AS bigint[]), CAST(:e_user AS uuid[]),
                    CAST(:e_side AS text[]), CAST(:e_effect AS text[]),
                    CAST(:e_amount AS bigint[]), CAST(:e_balance_before AS bigint[]),
                    CAST(:e_balance_after AS bigint[]), CAST(:e_pending_before AS bigint[]),
                    CAST(:e_pending_after AS bigint[]), CAST(:e_version AS bigint[]))
            AS u(account_id, user_id, side, effect, amount, balance_before, balance_after,
                 pending_before, pending_after, version)
    )
    UPDATE accounts AS a
    SET posted = b.posted, pending_debits = b.pending_debits,
        pending_credits = b.pending_credits, version = b.version
    FROM unnest(CAST(:b_id AS bigint[]), CAST(:b_posted AS bigint[]),
                CAST(:b_pending_debits AS bigint[]), CAST(:b_pending_credits AS bigint[]),
                CAST(:b_version AS bigint[]))
        AS b(id, posted, pending_debits, pending_credits, version)
    WHERE a.id = b.id
    """
)


async def write_transfer(
    conn: AsyncConnection,
    transfer: Transfer,
    entries: Sequence[Entry],
    balances: Sequence[Balance],
) -> None:
    """The transfer, its entries and its accounts' new balances, in one round trip."""
    params: dict[str, Any] = {
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
        "e_account": [e.account_id for e in entries],
        "e_user": [e.user_id for e in entries],
        "e_side": [e.side for e in entries],
        "e_effect": [e.effect for e in entries],
        "e_amount": [e.amount for e in entries],
        "e_balance_before": [e.balance_before for e in entries],
        "e_balance_after": [e.balance_after for e in entries],
        "e_pending_before": [e.pending_before for e in entries],
        "e_pending_after": [e.pending_after for e in entries],
        "e_version": [e.version for e in entries],
        "b_id": [b.id for b in balances],
        "b_posted": [b.posted for b in balances],
        "b_pending_debits": [b.pending_debits for b in balances],
        "b_pending_credits": [b.pending_credits for b in balances],
        "b_version": [b.version for b in balances],
    }
    await conn.execute(WRITE_TRANSFER, params)


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
