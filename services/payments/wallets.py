"""Reads of money: wallets, a user's history, one transaction, one payment, earnings.

Users read their own; admins read anyone's (but another user's payment without its next
action, a credential of the customer's payment). Earnings are sums over the ledger's own
entries, so they can never drift from the balances.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, currencies, repository, repository_payments
from services.payments.deps import Deps
from shared import pagination
from shared.auth import Principal, Role, require_owner
from shared.errors import InvalidArgument, NotFound
from shared.ids import parse_id


def subject(principal: Principal, field: str, value: str) -> uuid.UUID:
    """The named user (the caller's own, unless an admin asks), or the caller."""
    user_id = parse_id(field, value) if value else None
    if user_id is None:
        if principal.role is Role.SERVICE:
            raise InvalidArgument(field, "is required when a service calls")
        return principal.user_id
    require_owner(principal, user_id)
    return user_id


def may_see(principal: Principal, row: repository.Record) -> bool:
    if principal.role is Role.ADMIN:
        return True
    return principal.role is not Role.SERVICE and principal.user_id in (row.payer_id, row.payee_id)


class Wallets:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def wallet(self, principal: Principal, user_field: str, currency: str) -> pb.Wallet:
        user_id = subject(principal, "user_id", user_field)
        code = currencies.currency("currency_code", currency)
        async with self._deps.db.connection() as conn:
            row = await repository.wallet(conn, user_id, code)
        return convert.wallet(str(user_id), code, row)

    async def transaction(self, principal: Principal, transaction_id: uuid.UUID) -> pb.Transaction:
        async with self._deps.db.connection() as conn:
            row = await repository.transfer(conn, transaction_id)
        if row is None or row.type not in repository.LISTED_TYPES or not may_see(principal, row):
            raise NotFound("transaction", str(transaction_id))
        return convert.transaction(row)

    async def payment(self, principal: Principal, payment_id: uuid.UUID) -> pb.Payment:
        async with self._deps.db.connection() as conn:
            row = await repository_payments.payment(conn, payment_id)
        if row is None or not principal.owns(row.user_id):
            raise NotFound("payment", str(payment_id))
        return convert.payment(row, principal.user_id)

    async def history(
        self, principal: Principal, user_field: str, type_value: int, size: int, token: str
    ) -> tuple[list[pb.Transaction], str]:
        user_id = subject(principal, "user_id", user_field)
        type_ = convert.transaction_type("type", type_value)
        limit = pagination.page_size(size)
        query = {"user": str(user_id), "type": type_}
        position = pagination.decode(token, query)
        after = _after(position)
        async with self._deps.db.connection() as conn:
            rows = await repository.history(conn, user_id, type_, after, limit + 1)
        page, next_token = pagination.cut(rows, limit, lambda row: [str(row.id)], query)
        return [convert.transaction(row) for row in page], next_token

    async def earnings(self, principal: Principal, user_field: str) -> list[pb.Earnings]:
        user_id = subject(principal, "user_id", user_field)
        async with self._deps.db.connection() as conn:
            wallets = await repository.wallets(conn, user_id)
            sums = await repository.earnings(conn, user_id)
        totals: defaultdict[str, dict[tuple[str, str], tuple[int, int]]] = defaultdict(dict)
        for row in sums:
            totals[row.currency][row.type, row.side] = (int(row.total), int(row.entries))

        def total(currency: str, type_: str, side: str) -> int:
            return totals[currency].get((type_, side), (0, 0))[0]

        def count(currency: str, type_: str, side: str) -> int:
            return totals[currency].get((type_, side), (0, 0))[1]

        return [
            pb.Earnings(
                currency_code=c,
                earned=total(c, "tip", "credit") - total(c, "refund", "debit"),
                spent=total(c, "tip", "debit") - total(c, "refund", "credit"),
                tips_received=count(c, "tip", "credit"),
                tips_sent=count(c, "tip", "debit"),
            )
            for c in sorted({w.currency for w in wallets} | set(totals))
        ]


def _after(position: list[object] | None) -> uuid.UUID | None:
    if position is None:
        return None
    try:
        [last] = position
        return uuid.UUID(str(last))
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "is not a valid page token") from None
