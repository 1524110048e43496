"""The one way money moves: a balanced transfer, posted with its accounts locked.

A transfer is a list of movements (an account, a side, an amount) whose debits equal
its credits, at most one per account. Its effect on each account depends on the
transfer: posted (the balance moves), reserved (a pending withdrawal holds the amount),
committed (a reservation becomes posted) or released (a reservation is given back).
Every entry records the account's balance and pending amount before and after, and
its new version.

The database posts it (repository.post_transfers, alone or in a batch of tips):
accounts locked in id order, balances computed from the locked rows, and a wallet that
would go below zero (available = posted - pending debits) refusing the transfer by its
CHECK, answered 'insufficient' and turned into FAILED_PRECONDITION here. Given a key,
the call's request_id is claimed in the same round trip.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments import repository
from services.payments.idempotency import reused
from services.payments.repository import Key, Transfer
from shared.errors import FailedPrecondition

# The outcome of a transfer that would take a wallet below zero (post_transfers()).
INSUFFICIENT = "insufficient"


@dataclass(frozen=True, slots=True)
class Movement:
    account_id: int
    side: str  # debit or credit
    amount: int


def effect_of(transfer: Transfer) -> str:
    if transfer.type == "post_pending":
        return "committed"
    if transfer.type == "void_pending":
        return "released"
    return "reserved" if transfer.pending else "posted"


def rows_of(movements: Sequence[Movement]) -> list[tuple[int, str, int]]:
    """The movements that move money, checked balanced, in the id order of their locks."""
    moving = [m for m in movements if m.amount > 0]
    debits = sum(m.amount for m in moving if m.side == "debit")
    credits = sum(m.amount for m in moving if m.side == "credit")
    if debits != credits or debits == 0:
        raise ValueError(f"unbalanced transfer: debits {debits}, credits {credits}")
    if len({m.account_id for m in moving}) != len(moving):
        raise ValueError("an account moves at most once per transfer")
    return [(m.account_id, m.side, m.amount) for m in sorted(moving, key=lambda m: m.account_id)]


def posting(
    transfer: Transfer, movements: Sequence[Movement], key: Key | None = None
) -> repository.Posting:
    return repository.Posting(transfer, effect_of(transfer), rows_of(movements), key)


def result(outcome: str, result_id: Any, transfer: Transfer, key: Key | None) -> uuid.UUID | None:
    """What posting made of the transfer: None if this call posted it, else the id its
    key's first call made; a refusal raised as the caller's error."""
    if outcome == INSUFFICIENT:
        raise FailedPrecondition(
            "the wallet's available balance does not cover this amount",
            reason="INSUFFICIENT_FUNDS",
            metadata={"currency_code": transfer.currency},
        )
    if outcome == "reused":
        assert key is not None
        raise reused(key.request_id)
    return None if outcome == "posted" else uuid.UUID(str(result_id))


async def write(
    conn: AsyncConnection,
    transfer: Transfer,
    movements: Sequence[Movement],
    key: Key | None = None,
) -> uuid.UUID | None:
    """Post the transfer in the caller's transaction; with `key`, None if this call
    claimed it, else the id the key's first call made (nothing is posted then)."""
    [posted] = await repository.post_transfers(conn, [posting(transfer, movements, key)])
    return result(posted.outcome, posted.result_id, transfer, key)
