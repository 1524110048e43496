"""The one way money moves: a balanced transfer, written with its accounts locked.

A transfer is a list of movements (an account, a side, an amount) whose debits equal
its credits. Its effect on each account depends on the transfer: posted (the balance
moves), reserved (a pending withdrawal holds the amount), committed (a reservation
becomes posted) or released (a reservation is given back). Every entry records the
account's balance and pending amount before and after, and its new version.

Inside the caller's transaction the accounts are locked in id order, the new balances
are computed here, and a wallet that would go below zero (available = posted - pending
debits) refuses the whole transfer before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments import repository
from services.payments.repository import Balance, Entry, Record, Transfer
from shared.errors import FailedPrecondition


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


def _moved(account: Record, side: str, effect: str, amount: int) -> tuple[int, int, int]:
    """(posted, pending_debits, pending_credits) of the account after one movement."""
    posted, debits, credits = account.posted, account.pending_debits, account.pending_credits
    signed = -amount if side == "debit" else amount
    if effect in ("posted", "committed"):
        posted += signed
    held = {"reserved": amount, "committed": -amount, "released": -amount}.get(effect, 0)
    if side == "debit":
        debits += held
    else:
        credits += held
    return posted, debits, credits


def available(account: Record) -> int:
    return int(account.posted - account.pending_debits)


async def write(conn: AsyncConnection, transfer: Transfer, movements: Sequence[Movement]) -> None:
    """Lock the accounts, refuse a wallet going negative, write the transfer."""
    moving = [m for m in movements if m.amount > 0]
    debits = sum(m.amount for m in moving if m.side == "debit")
    credits = sum(m.amount for m in moving if m.side == "credit")
    if debits != credits or debits == 0:
        raise ValueError(f"unbalanced transfer: debits {debits}, credits {credits}")
    if len({m.account_id for m in moving}) != len(moving):
        raise ValueError("an account moves at most once per transfer")
    locked = await repository.lock_accounts(conn, [m.account_id for m in moving])
    effect = effect_of(transfer)
    entries: list[Entry] = []
    balances: list[Balance] = []
    for movement in sorted(moving, key=lambda m: m.account_id):
        account = locked[movement.account_id]
        if account.currency != transfer.currency:
            raise ValueError("an account of another currency")
        posted, pending_debits, pending_credits = _moved(
            account, movement.side, effect, movement.amount
        )
        if account.kind == "wallet" and posted - pending_debits < 0:
            raise FailedPrecondition(
                "the wallet's available balance does not cover this amount",
                reason="INSUFFICIENT_FUNDS",
                metadata={"currency_code": transfer.currency, "available": str(available(account))},
            )
        before = account.pending_debits if movement.side == "debit" else account.pending_credits
        after = pending_debits if movement.side == "debit" else pending_credits
        version = account.version + 1
        entries.append(
            Entry(
                account.id,
                account.user_id,
                movement.side,
                effect,
                movement.amount,
                account.posted,
                posted,
                before,
                after,
                version,
            )
        )
        balances.append(Balance(account.id, posted, pending_debits, pending_credits, version))
    await repository.write_transfer(conn, transfer, entries, balances)
