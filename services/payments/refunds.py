"""Refunds: part or all of a tip back to its sender, by the tip's recipient or an admin.

The tip's row is locked first, so concurrent refunds of one tip run one after the other
and each sees what the others took: together they never exceed the tip. The platform
gives back its fee in proportion, computed on the running total (fee * refunded so far
/ amount, rounded down) so that a tip refunded in full, however many parts, returns
exactly its fee; the recipient pays the rest.

Each refund records payments.tip.refunded in its own transaction (domain_events.py), so
the audit log learns of an admin's refund exactly when it commits; a refused refund, or a
retry answered with the refund it made, records nothing.
"""

from __future__ import annotations

import uuid

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, currencies, domain_events, idempotency, ledger, repository
from services.payments.deps import Deps, now, owner_key
from services.payments.ledger import Movement
from services.payments.repository import Transfer
from services.payments.wallets import Wallets, may_see
from shared.auth import Principal, Role
from shared.errors import FailedPrecondition, NotFound, PermissionDenied
from shared.ids import new_id
from shared.validation import bounded_text

REASON_MAX = 500


def fee_returned(fee: int, amount: int, refunded: int, refunding: int) -> int:
    """The fee's part of this refund, on the running total."""
    return fee * (refunded + refunding) // amount - fee * refunded // amount


class Refunds:
    def __init__(self, deps: Deps, wallets: Wallets) -> None:
        self._deps = deps
        self._wallets = wallets

    async def refund(
        self,
        principal: Principal,
        tip_id: uuid.UUID,
        amount: int,
        reason: str,
        request_id: str,
        peer: str,
    ) -> pb.Transaction:
        """`peer`: the caller's address, for the audit log of an admin's refund."""
        amount = currencies.amount("amount", amount)
        reason = bounded_text("reason", reason, REASON_MAX)
        key = idempotency.required_request_id(request_id)
        refund_id = new_id()
        moment = now()
        async with self._deps.db.transaction() as conn:
            earlier = await idempotency.claim(
                conn,
                owner_key(principal),
                key,
                "refund",
                (str(tip_id), amount, reason),
                refund_id,
                moment,
            )
            if earlier is None:
                tip = await repository.lock_transfer(conn, tip_id)
                if tip is None or not may_see(principal, tip):
                    raise NotFound("transaction", str(tip_id))
                if principal.role is not Role.ADMIN and principal.user_id != tip.payee_id:
                    raise PermissionDenied(
                        "only the recipient of a tip or an admin may refund it",
                        reason="NOT_TIP_RECIPIENT",
                    )
                if tip.type != "tip":
                    raise FailedPrecondition("only tips can be refunded", reason="NOT_REFUNDABLE")
                if tip.payer_id is None or tip.payee_id is None:
                    raise FailedPrecondition(
                        "the tip's sender or recipient deleted their account",
                        reason="ACCOUNT_DELETED",
                    )
                refunded = await repository.refunded(conn, tip_id)
                if amount > tip.amount - refunded:
                    raise FailedPrecondition(
                        "the refund exceeds what remains of the tip",
                        reason="REFUND_EXCEEDS_TIP",
                        metadata={"refundable": str(tip.amount - refunded)},
                    )
                fee = fee_returned(tip.fee, tip.amount, refunded, amount)
                transfer = Transfer(
                    id=refund_id,
                    type="refund",
                    currency=tip.currency,
                    amount=amount,
                    fee=fee,
                    payer_id=tip.payee_id,
                    payee_id=tip.payer_id,
                    refund_of=tip_id,
                    note=reason,
                    created_at=moment,
                )
                accounts = self._deps.accounts
                await ledger.write(
                    conn,
                    transfer,
                    [
                        Movement(
                            await accounts.wallet(tip.payee_id, tip.currency), "debit", amount - fee
                        ),
                        Movement(await accounts.system("fees", tip.currency), "debit", fee),
                        Movement(
                            await accounts.wallet(tip.payer_id, tip.currency), "credit", amount
                        ),
                    ],
                )
                await domain_events.tip_refunded(conn, transfer, tip, refunded, principal, peer)
        if earlier is not None:
            return await self._wallets.transaction(principal, earlier)
        return convert.written(transfer)
