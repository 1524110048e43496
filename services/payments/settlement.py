"""How a pending payment ends, once: the steps the webhook and the reconciler share.

A deposit that succeeded credits the wallet from its provider's clearing account; one
that failed only changes state. A withdrawal's reservation is posted (the money has
left, to the payouts account) or voided (it is available again) by a transfer naming
it; the unique pending_id makes a second resolution impossible. The caller holds the
payment's row lock and has checked that it is still pending.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments import ledger, repository, repository_payments
from services.payments.deps import Deps
from services.payments.ledger import Movement
from services.payments.repository import Record, Transfer
from shared.ids import new_id


async def settle(
    conn: AsyncConnection,
    deps: Deps,
    payment: Record,
    succeeded: bool,
    reason: str,
    moment: datetime,
) -> Record:
    """The payment after it succeeded or failed, its money moved accordingly."""
    if payment.kind == "deposit":
        if not succeeded:
            return await repository_payments.settle_payment(
                conn, payment.id, "failed", moment, failure_reason=reason
            )
        transfer = Transfer(
            id=new_id(),
            type="deposit",
            currency=payment.currency,
            amount=payment.amount,
            payee_id=payment.user_id,
            payment_id=payment.id,
            created_at=moment,
        )
        clearing = await deps.accounts.system("clearing", payment.currency, payment.provider)
        wallet = await deps.accounts.wallet(payment.user_id, payment.currency)
        await ledger.write(
            conn,
            transfer,
            [
                Movement(clearing, "debit", payment.amount),
                Movement(wallet, "credit", payment.amount),
            ],
        )
        return await repository_payments.settle_payment(
            conn, payment.id, "succeeded", moment, transfer_id=transfer.id
        )
    resolution = Transfer(
        id=new_id(),
        type="post_pending" if succeeded else "void_pending",
        currency=payment.currency,
        amount=payment.amount,
        payer_id=payment.user_id,
        pending_id=payment.transfer_id,
        payment_id=payment.id,
        created_at=moment,
    )
    reserved = await repository.entries_of(conn, payment.transfer_id)
    await ledger.write(
        conn, resolution, [Movement(e.account_id, e.side, e.amount) for e in reserved]
    )
    state = "succeeded" if succeeded else "failed"
    return await repository_payments.settle_payment(
        conn, payment.id, state, moment, failure_reason="" if succeeded else reason
    )
