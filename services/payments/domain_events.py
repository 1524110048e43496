"""What the payments service tells the others, as events recorded in the transaction of
the change (`shared.outbox`): a tip refunded, which moderation enters in the audit log
when an admin made it.

Not to be confused with events.py, the providers' webhook events coming in.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.payments.v1 import payments_events_pb2
from services.payments.repository import Record, Transfer
from shared import outbox
from shared.auth import Principal, Role
from shared.streams import PAYMENTS_TRANSFERS


def by_admin(principal: Principal, tip: Record) -> bool:
    """Whether the refund is an admin's act rather than the recipient's own: an admin
    refunding a tip they received acts as its recipient."""
    return principal.role is Role.ADMIN and principal.user_id != tip.payee_id


async def tip_refunded(
    conn: AsyncConnection,
    refund: Transfer,
    tip: Record,
    refunded_before: int,
    principal: Principal,
    peer: str,
) -> None:
    """Recorded after the tip's row is locked, so a tip's refunds keep their order."""
    refunded = payments_events_pb2.TipRefunded(
        refund_id=str(refund.id),
        tip_id=str(tip.id),
        currency_code=refund.currency,
        amount=refund.amount,
        fee_returned=refund.fee,
        refunded_before=refunded_before,
        tip_amount=tip.amount,
        sender_id=str(tip.payer_id),
        recipient_id=str(tip.payee_id),
        reason=refund.note,
        actor_id=principal.subject,
        by_admin=by_admin(principal, tip),
        peer=peer,
    )
    await outbox.record(conn, PAYMENTS_TRANSFERS, "payments.tip.refunded", tip.id, refunded)
