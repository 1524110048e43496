"""Admin actions of the other services, entered in the audit log from their events: a
status change or an admin's deletion of an account (users), a post removed by moderation
or by someone other than its author, and one restored (content), a tip refunded by an
admin (payments).

Each entry carries the event's id as its `event_id`, so a redelivered event records
nothing new, and the event's request id and time; the actor is who the producing service
says acted (an events' actor carries no role, so `actor_role` says "staff" where only staff
can act, and "user" for an author's own deletion, which is not logged).

A tip's recipient refunding it is not an entry either: like an author deleting their own
post, it is a user disposing of what is theirs, not an admin acting on someone else's, and
the ledger itself keeps the refund. Only a refund the event marks `by_admin` is entered.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_events_pb2
from daira.events.v1 import events_pb2
from daira.payments.v1 import payments_events_pb2
from daira.users.v1 import users_events_pb2, users_pb2
from services.moderation import audit
from shared.eventing import Subscription, of_types, payload
from shared.streams import CONTENT_POSTS, PAYMENTS_TRANSFERS, USERS_ACCOUNTS

GROUP = "moderation.audit"


def _origin(event: events_pb2.Event, source: str) -> dict[str, Any]:
    """What an entry takes from the event itself."""
    return {
        "source": source,
        "event_id": event.id,
        "request_id": event.request_id,
        "occurred_at": event.occur_time.ToDatetime(tzinfo=UTC),
    }


def _status(value: users_pb2.UserStatus.ValueType) -> dict[str, object]:
    return {"status": users_pb2.UserStatus.Name(value).removeprefix("USER_STATUS_").lower()}


async def on_account(conn: AsyncConnection, event: events_pb2.Event) -> None:
    if event.type == "users.user.status_changed":
        changed = payload(event, users_events_pb2.UserStatusChanged)
        entry = audit.AuditEntry(
            **_origin(event, "users"),
            actor=changed.actor_id,
            actor_role="staff",
            action="users.set_status",
            target_kind="user",
            target_id=changed.user_id,
            reason=changed.reason,
            before=_status(changed.before),
            after=_status(changed.after),
        )
        await audit.append(conn, entry)
    elif event.type == "users.user.deleted":
        deleted = payload(event, users_events_pb2.UserDeleted)
        if deleted.actor_id != deleted.user_id:
            entry = audit.AuditEntry(
                **_origin(event, "users"),
                actor=deleted.actor_id,
                actor_role="admin",
                action="users.delete_user",
                target_kind="user",
                target_id=deleted.user_id,
            )
            await audit.append(conn, entry)


async def on_post(conn: AsyncConnection, event: events_pb2.Event) -> None:
    if event.type == "content.post.removed":
        removed = payload(event, content_events_pb2.PostRemoved)
        moderated = removed.removal == content_events_pb2.POST_REMOVAL_MODERATED
        if moderated or removed.actor_id != removed.author_id:
            entry = audit.AuditEntry(
                **_origin(event, "content"),
                actor=removed.actor_id,
                actor_role="staff",
                action="content.remove_post",
                target_kind="post",
                target_id=removed.post_id,
                reason=removed.reason,
                after={"removal": "moderated" if moderated else "deleted"},
            )
            await audit.append(conn, entry)
    elif event.type == "content.post.restored":
        restored = payload(event, content_events_pb2.PostRestored)
        entry = audit.AuditEntry(
            **_origin(event, "content"),
            actor=restored.actor_id,
            actor_role="staff",
            action="content.restore_post",
            target_kind="post",
            target_id=restored.post_id,
            reason=restored.reason,
        )
        await audit.append(conn, entry)


async def on_transfer(conn: AsyncConnection, event: events_pb2.Event) -> None:
    if event.type != "payments.tip.refunded":
        return
    refunded = payload(event, payments_events_pb2.TipRefunded)
    if not refunded.by_admin:
        return
    entry = audit.AuditEntry(
        **_origin(event, "payments"),
        actor=refunded.actor_id,
        actor_role="admin",
        action="payments.refund",
        target_kind="transaction",
        target_id=refunded.tip_id,
        reason=refunded.reason,
        before={"refunded": refunded.refunded_before},
        after={
            "refunded": refunded.refunded_before + refunded.amount,
            "refund_id": refunded.refund_id,
            "amount": refunded.amount,
            "fee_returned": refunded.fee_returned,
            "currency": refunded.currency_code,
            "tip_amount": refunded.tip_amount,
        },
        peer=refunded.peer,
    )
    await audit.append(conn, entry)


SUBSCRIPTIONS = [
    Subscription(USERS_ACCOUNTS, GROUP, on_account),
    Subscription(CONTENT_POSTS, GROUP, on_post, of_types("content.post.removed")),
    Subscription(PAYMENTS_TRANSFERS, GROUP, on_transfer, of_types("payments.tip.refunded")),
]
